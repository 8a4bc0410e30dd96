# SPDX-License-Identifier: GPL-2.0
# What `make demo` shows: references coming and going, then KVM's guests
# and a second hypervisor's side by side on the same CPUs, with the state
# file and what the hardware itself says after each step.
. /tests/lib.sh
F=$VE_FEATURE

step() { ve_say ""; ve_say "== $*"; }
run() {
	ve_say "\$ $*"
	eval "$*" 2>&1 | while read -r line; do ve_say "  $line"; done
}
hardware() {
	line=
	for cpu in $(ve_online_cpus); do line="$line cpu$cpu=$(ve_hw "$cpu")"; done
	ve_say "  hardware says $F on:$line"
}
state() {
	grep -E '^(users|system_users|cpu|user|windows|counters) ' $VE_STATE |
		while read -r line; do ve_say "  $line"; done
	hardware
}

ve_probe_load
step "load the module: nothing is on yet"
run modprobe virt_enable
state

step "a first user takes a system-wide reference: $F goes on, on every CPU"
exec 3>$VE_CTL
run "echo get $F >&3"
state

step "a second user: no hardware work at all (see the counters)"
exec 4>$VE_CTL
run "echo get $F >&4"
state

step "CPU 1 goes offline and comes back: it is turned on again"
run "echo 0 >/sys/devices/system/cpu/cpu1/online"
run "echo 1 >/sys/devices/system/cpu/cpu1/online"
state

step "suspend and resume (pm_test=core): still on everywhere"
run "echo deep >/sys/power/mem_sleep; echo core >/sys/power/pm_test; echo mem >/sys/power/state"
hardware

step "bad requests are refused and change nothing"
run "echo get $(ve_other_feature) >&3"
run "echo 'get $F please' >&3"

step "the first user closes its file: the second still holds $F"
exec 3>&-
state

step "the last user goes: $F off on every CPU"
exec 4>&-
state

KVM=$(ve_kvm_module)
HV=/sys/kernel/debug/ve_hv2
step "KVM (patched) loads: one user, a per-CPU reference on every CPU, taken by KVM itself"
run modprobe "$KVM"
state

step "a KVM guest loops on every CPU, exiting to user space with a counter"
for cpu in $(ve_online_cpus); do ve_loop_start "kvm$cpu" "$cpu"; done
for cpu in $(ve_online_cpus); do ve_loop_wait "kvm$cpu" on_cpu 20 60; done
for cpu in $(ve_online_cpus); do ve_say "  CPU $cpu: KVM's vCPU: $(ve_loop_status "kvm$cpu")"; done

step "a second hypervisor (tests/modules/ve_hv2.c) runs its own guests on the same CPUs, inside windows"
run modprobe ve_hv2
run "echo get >$HV/control"
run "echo run-for all 2000 >$HV/control"
sleep 2.5
for cpu in $(ve_online_cpus); do
	ve_say "  CPU $cpu: KVM's vCPU: $(ve_loop_status "kvm$cpu")"
	ve_say "  CPU $cpu: ve_hv2: $(grep "^cpu $cpu " $HV/counts | cut -d' ' -f3-)"
done
state

step "both stop: every exit of KVM's vCPUs was in sequence"
for cpu in $(ve_online_cpus); do ve_loop_stop "kvm$cpu"; done
run "rmmod ve_hv2 $KVM kvm"
state

step "unload"
run rmmod virt_enable
hardware
