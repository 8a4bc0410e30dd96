# SPDX-License-Identifier: GPL-2.0
# Helpers for in-guest test suites (busybox sh); sourced.  Results go to
# /dev/kmsg as "VE: ok N - suite: what" or "VE: not ok N - ...", which the
# host harness counts.

VE_DIR=/sys/kernel/debug/virt_enable
VE_STATE=$VE_DIR/state
VE_CTL=$VE_DIR/control
VE_N=0

ve_say() { echo "VE: $*" >/dev/kmsg; }

ve_ok() {
	VE_N=$((VE_N + 1))
	ve_say "ok $VE_N - $VE_SUITE: $*"
}

ve_skip() {
	VE_N=$((VE_N + 1))
	ve_say "ok $VE_N - $VE_SUITE: $* # SKIP"
}

ve_not_ok() {
	VE_N=$((VE_N + 1))
	ve_say "not ok $VE_N - $VE_SUITE: $*"
	[ -r $VE_STATE ] && sed 's/^/# /' $VE_STATE | while read -r line; do ve_say "$line"; done
}

# ve_check WHAT COMMAND...: one test result from COMMAND's exit status.
ve_check() {
	what=$1
	shift
	if "$@"; then ve_ok "$what"; else ve_not_ok "$what"; fi
}

# ve_cmd FD COMMAND: write one control command on file descriptor FD.
ve_cmd() { eval "echo \"\$2\" >&$1" 2>/tmp/ve_err; }

# ve_cmd_fails FD COMMAND ERROR_TEXT: the write must fail with that error.
ve_cmd_fails() {
	! ve_cmd "$1" "$2" && grep -q "$3" /tmp/ve_err
}

ve_online_cpus() {
	awk -F, '{ for (i = 1; i <= NF; i++) { n = split($i, r, "-");
		for (c = r[1]; c <= r[n]; c++) print c } }' /sys/devices/system/cpu/online
}

# ve_cpu_field CPU KEY: a value from CPU's line of the state file.
ve_cpu_field() {
	awk -v cpu="$1" -v key="$2" '$1 == "cpu" && $2 == cpu {
		for (i = 3; i < NF; i += 2) if ($i == key) print $(i + 1) }' $VE_STATE
}

# ve_field KEY [N]: the Nth word (default 2) of the state line starting with KEY.
ve_field() { awk -v key="$1" -v n="${2:-2}" '$1 == key { print $n }' $VE_STATE; }

ve_counter() {
	awk -v key="$1" '$1 == "counters" { for (i = 2; i < NF; i += 2) if ($i == key) print $(i + 1) }' $VE_STATE
}

ve_users() { grep -c '^user ' $VE_STATE; }

# ve_hw CPU: 1 if the hardware itself says VMX/SVM is on on CPU, else 0.
# SVM: EFER.SVME read through /dev/cpu/N/msr.  VMX: the ve_probe module,
# which reads CR4 and checks VMX root operation with VMPTRST.
ve_hw() {
	case $VE_FEATURE in
	svm)
		efer=$(dd if=/dev/cpu/"$1"/msr bs=8 count=1 skip=$((0xc0000080 / 8)) 2>/dev/null |
		       od -An -tx8 | tr -d ' ')
		[ -n "$efer" ] || { echo unreadable; return; }
		echo $(((0x$efer >> 12) & 1))
		;;
	vmx)
		awk -v cpu="$1" '$1 == "cpu" && $2 == cpu {
			print ($4 == 1 && $6 == 1) ? 1 : ($4 == 0 && $6 == 0) ? 0 : "inconsistent" }' \
			/sys/kernel/debug/ve_probe/vmx
		;;
	esac
}

# ve_hw_map: each online CPU's ve_hw, as one word ("1101").
ve_hw_map() {
	for cpu in $(ve_online_cpus); do printf %s "$(ve_hw "$cpu")"; done
}

# ve_all_hw 0|1: every online CPU's hardware is in that state.
ve_all_hw() {
	for cpu in $(ve_online_cpus); do
		[ "$(ve_hw "$cpu")" = "$1" ] || return 1
	done
}

# ve_all_state_hw 0|1: the state file says so for every online CPU.
ve_all_state_hw() {
	for cpu in $(ve_online_cpus); do
		[ "$(ve_cpu_field "$cpu" hw)" = "$1" ] || return 1
	done
}

# ve_cpu_counts CPU ENABLES DISABLES: the CPU's transition counters.
ve_cpu_counts() {
	[ "$(ve_cpu_field "$1" enables)" = "$2" ] &&
	[ "$(ve_cpu_field "$1" disables)" = "$3" ]
}

ve_set_online() { echo "$2" >/sys/devices/system/cpu/cpu"$1"/online; }

# ve_suspend: a full suspend/resume cycle through syscore, without firmware.
ve_suspend() {
	echo deep >/sys/power/mem_sleep &&
	echo core >/sys/power/pm_test &&
	echo mem >/sys/power/state
}

ve_same() { [ "$1" = "$2" ]; }
ve_not() { ! "$@"; }

ve_dmesg_has() { dmesg | grep -q "$1"; }

# ve_load / ve_unload: virt_enable as a module, a no-op when built in.
ve_builtin() { [ -d $VE_DIR ] && [ ! -e /sys/module/virt_enable/initstate ]; }
ve_load() { ve_builtin || modprobe virt_enable; }
ve_unload() { ve_builtin || rmmod virt_enable; }

ve_other_feature() { [ "$VE_FEATURE" = vmx ] && echo svm || echo vmx; }
ve_kvm_module() { [ "$VE_FEATURE" = vmx ] && echo kvm_intel || echo kvm_amd; }
