# SPDX-License-Identifier: GPL-2.0
# What `make demo` shows: references coming and going, with the state file
# and what the hardware itself says after each step.
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

step "unload"
run rmmod virt_enable
hardware
