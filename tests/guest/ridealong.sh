# SPDX-License-Identifier: GPL-2.0
# Riding an unmodified KVM (ride.c): with the stock kvm_amd/kvm_intel the
# guest carries, virt_enable's users share the hardware KVM switches, in
# each configuration this kernel has: 6.12 with kvm.enable_virt_at_load=1
# (KVM keeps it on from load to unload) and =0 (on while a VM exists, so
# virt_enable holds one), 6.1 (per VM).  KVM first and virt_enable first:
# the two orders of their syscore ops.  An in-kernel user (ve_testuser)
# counts its callbacks that found the hardware off, which must be none.
. /tests/lib.sh
VE_SUITE=ridealong
F=$VE_FEATURE
KVM=$(ve_kvm_module)
SYS=/sys/kernel/virt_enable
TU=/sys/kernel/debug/ve_testuser/control
last=$(ve_online_cpus | tail -n 1)
ncpus=$(ve_online_cpus | wc -l)

tu() { echo "$1" >$TU; }
tu_field() {
	awk -v k="$1" '$1 == "ride" { for (i = 2; i < NF; i += 2) if ($i == k) print $(i + 1) }' $TU
}
# wait_all_hw 0|1: every online CPU gets there within 5 s (a held VM is
# released from a work item).
wait_all_hw() {
	for i in $(seq 50); do
		ve_all_hw "$1" && return 0
		sleep 0.1
	done
	return 1
}
# switches: each CPU's enables and disables by virt_enable itself.
switches() { ve_hw_transitions | awk '{ print $1, $3, $4 }'; }
callbacks_saw_on() {
	[ "$(tu_field enabled_hw_off)" = 0 ] && [ "$(tu_field disabling_hw_off)" = 0 ]
}
# vm_cost: what one VM of KVM's with nothing in it takes, as virt_enable
# holds one, in kB of the kernel's own memory (slab, vmalloc, page tables,
# stacks, per-CPU), from 32 of them: one moves those counters by less than
# their per-CPU batches do.
kernel_kb() {
	awk '$1 ~ /^(Slab|VmallocUsed|PageTables|KernelStack|Percpu):$/ { kb += $2 }
	     END { print kb }' /proc/meminfo
}
vm_cost() {
	before=$(kernel_kb)
	/tests/kvm_guest_test --empty-vms 32 --hold 3 >/tmp/vms.out 2>&1 &
	sleep 1.5
	after=$(kernel_kb)
	wait $!
	grep -q "ok - 32 empty VMs made" /tmp/vms.out && echo $(((after - before) / 32))
}
guests_on_every_cpu() {
	for cpu in $(ve_online_cpus); do
		ve_guest --cpu "$cpu" --value 42 || return 1
	done
}

if ve_kernel_at_least 6 12; then
	runs="enable_virt_at_load=1:kvm-first enable_virt_at_load=1:virt_enable-first enable_virt_at_load=0:kvm-first"
else
	runs="per-vm:kvm-first per-vm:virt_enable-first"
fi

T=/sys/kernel/tracing
grep -q " $T " /proc/mounts || mount -t tracefs tracefs $T
ve_probe_load
for run in $runs; do
	cfg=${run%%:*}
	order=${run#*:}
	arg=
	at_load=0
	case $cfg in
	enable_virt_at_load=*) arg=kvm.$cfg ;;
	esac
	[ "$cfg" = enable_virt_at_load=1 ] && at_load=1
	t="[$cfg, $order]"

	if [ "$order" = kvm-first ]; then
		ve_check "$t unmodified $KVM loads" ve_stock_kvm_load ${arg#kvm.}
		ve_load
	else
		ve_load
		ve_check "$t unmodified $KVM loads beside virt_enable" ve_stock_kvm_load ${arg#kvm.}
	fi
	ve_check "$t $F is $at_load with $KVM idle (hardware)" ve_all_hw $at_load
	echo >$T/trace
	echo 1 >$T/events/virt_enable/virt_enable_cpu/enable
	switched=$(switches)
	modprobe ve_testuser
	ve_check "$t a user registers beside $KVM" tu "register ride"
	[ "$at_load" = 1 ] || ve_say "# $t a VM like the one virt_enable holds: $(vm_cost) kB"
	ve_check "$t and takes a system-wide reference" tu "get ride"
	ve_check "$t virt_enable rides $KVM (sysfs switcher)" ve_same "$(cat $SYS/switcher)" "$KVM"
	ve_check "$t $F on on every CPU (hardware)" ve_all_hw 1
	ve_check "$t a VM of KVM's held only where KVM had $F off" \
		ve_same "$(ve_field held_vm)" $((1 - at_load))
	ve_check "$t ->cpu_enabled on each CPU, $F on each time" \
		eval '[ "$(tu_field enabled)" = "$ncpus" ] && callbacks_saw_on'
	ve_check "$t rmmod $KVM refused while held" ve_not rmmod "$KVM" 2>/dev/null
	ve_check "$t a per-CPU reference on CPU $last" ve_hold "get-cpu $F $last"
	cpu_holder=$!
	ve_check "$t a KVM guest runs on every CPU while held" guests_on_every_cpu

	ve_check "$t CPU 1 goes offline" ve_set_online 1 0
	ve_check "$t and comes back" ve_set_online 1 1
	ve_check "$t $F on on CPU 1 again (hardware)" ve_same "$(ve_hw 1)" 1
	ve_check "$t suspend and resume" ve_suspend
	ve_check "$t $F on on every CPU after resume (hardware)" ve_all_hw 1
	ve_check "$t callbacks across hotplug and suspend found $F on" callbacks_saw_on
	ve_check "$t ... and were called ($(tu_field disabling) ->cpu_disabling)" \
		ve_same "$(tu_field disabling)" $((1 + ncpus))

	ve_loop_start ride 0
	ve_check "$t a looping KVM vCPU runs" ve_loop_wait ride exits 20 60
	tu "put ride"
	kill $cpu_holder
	wait $cpu_holder 2>/dev/null
	ve_check "$t it keeps running after the users' last put" ve_loop_grows ride 30
	ve_loop_stop ride >/dev/null
	ve_check "$t $F back to what KVM alone wants: $at_load (hardware)" wait_all_hw $at_load
	ve_check "$t no VM held" ve_same "$(ve_field held_vm)" 0
	ve_check "$t virt_enable switched nothing itself" ve_same "$(switches)" "$switched"
	echo 0 >$T/events/virt_enable/virt_enable_cpu/enable
	ve_check "$t trace: every CPU event by $KVM ($(grep -c "by=$KVM result=0" $T/trace)), none by virt_enable" \
		eval '[ "$(grep -c "by=$KVM result=0" $T/trace)" -gt 0 ] && ! grep -q "by=virt_enable" $T/trace'
	ve_check "$t rmmod $KVM accepted after the last put" ve_stock_kvm_unload
	ve_check "$t virt_enable switches itself again (sysfs switcher)" \
		ve_same "$(cat $SYS/switcher)" virt_enable
	# No hand-over: while virt_enable itself switches the hardware for a
	# user, the unmodified KVM is refused (admin guide, "With an
	# unmodified KVM"), and nothing changes.
	ve_check "$t a debugfs holder: virt_enable turns $F on itself" \
		eval 've_hold "get $F" && ve_all_hw 1'
	holder=$!
	ve_mark
	ve_check "$t the unmodified $KVM refused meanwhile" ve_not ve_stock_kvm_load ${arg#kvm.}
	ve_check "$t ... saying why (dmesg)" ve_since_mark_has "refusing to load $KVM"
	ve_check "$t ... and $F still on, virt_enable's (sysfs switcher)" \
		eval 've_all_hw 1 && ve_same "$(cat $SYS/switcher)" virt_enable'
	kill $holder
	wait $holder 2>/dev/null
	tu "unregister ride"
	rmmod ve_testuser
	ve_unload
	ve_check "$t nothing left on (hardware)" ve_all_hw 0
done
