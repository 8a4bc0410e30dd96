# SPDX-License-Identifier: GPL-2.0
# In the capture kernel crash.sh loaded: it started the CPUs it asked for,
# and the first kernel's log, read back from /proc/vmcore, shows the
# users' emergency callback on every CPU, with the hardware still on; on
# SVM, this boot CPU's EFER shows that the crashing CPU's SVM went off.
# Riding an unmodified KVM (ve.crash=ride, see crash.sh), no user's
# emergency callback may have run.
. /tests/lib.sh
VE_SUITE=crash
F=$VE_FEATURE
expect=$(ve_param ve.expect_cpus)
first=$(ve_param ve.first_cpus)

# First, before anything is loaded: the boot CPU's EFER.SVME.  The capture
# kernel boots on the crashing CPU and keeps its EFER (see kexec-after.sh
# for why nothing in this kernel clears SVME before this read).  QEMU does
# not block INIT with SVME set, so the CPU count cannot show a crashing
# CPU left with SVM on; this can.  On 6.12 the crash path's only SVM
# disable is the emergency virtualization callback, virt_enable's: the
# check proves virt_enable's emergency path.  Before 6.6 (the 6.1 test
# kernel) the kernel's cpu_emergency_disable_virtualization() also calls
# cpu_emergency_svm_disable(), which clears SVME whoever set it: there the
# check cannot tell virt_enable's part, and says so.
[ "$F" != svm ] || boot_svme=$(ve_hw 0)

ve_check "the capture kernel runs" [ -e /proc/vmcore ]
ve_check "it brought up all $expect CPUs it asked for" ve_same "$(ve_online_cpus | wc -l)" "$expect"
if [ "$(ve_param ve.crash)" = ride ] && [ "$F" = svm ]; then
	ve_check "the boot CPU, which crashed, came up with EFER.SVME clear (turned off by $(ve_kvm_module)'s emergency callback or the kernel's own, virt_enable riding)" \
		ve_same "$boot_svme" 0
elif [ "$F" = svm ] && ve_kernel_at_least 6 6; then
	ve_check "the boot CPU, which crashed, came up with EFER.SVME clear: virt_enable's emergency disable turned SVM off there (the only SVM disable on this kernel's crash path)" \
		ve_same "$boot_svme" 0
elif [ "$F" = svm ]; then
	ve_check "the boot CPU, which crashed, came up with EFER.SVME clear (this kernel's own cpu_emergency_svm_disable() clears it too: not a proof of virt_enable's part)" \
		ve_same "$boot_svme" 0
fi
ve_check "the first kernel's log is read back from /proc/vmcore" \
	makedumpfile --dump-dmesg /proc/vmcore /tmp/first.log
# every_cpu_logged WHAT FORMAT: for each CPU of the first kernel, the check
# WHAT that its log has the line printf FORMAT CPU makes.
every_cpu_logged() {
	cpu=0
	while [ "$cpu" -lt "$first" ]; do
		# shellcheck disable=SC2059
		ve_check "first kernel, CPU $cpu: $1" grep -q "$(printf "$2" "$cpu")" /tmp/first.log
		cpu=$((cpu + 1))
	done
}

sed -n 's/.*\(ve_testuser: emergency: .*\)/# \1/p' /tmp/first.log | while read -r line; do ve_say "$line"; done
if [ "$(ve_param ve.crash)" = ride ]; then
	# Riding an unmodified KVM, the kernel's one emergency hook is KVM's
	# (or, for 6.1's kvm_amd, nobody's): users' callbacks do not run.
	ve_check "first kernel, riding $(ve_kvm_module): no user's emergency callback ran (the hook is KVM's)" \
		ve_not grep -q "ve_testuser: emergency:\|ve_hv2: emergency:" /tmp/first.log
	ve_check "first kernel: virt_enable rode $(ve_kvm_module) into the crash" \
		grep -q "virt_enable: riding $(ve_kvm_module)" /tmp/first.log
else
	every_cpu_logged "the emergency callback ran with $F still on" \
		"ve_testuser: emergency: user crashtest cpu %s $F on"
	ve_check "first kernel: no emergency callback ran with $F off" \
		ve_not grep -q "ve_testuser: emergency: user crashtest cpu [0-9]* $F off" /tmp/first.log
	# The second hypervisor, in the middle of its guests on every CPU: its
	# callback ran on every CPU with the hardware on (VMCLEARing its VMCS where
	# the crash's NMI found it loaded, which the log counts, not the check).
	sed -n 's/.*\(ve_hv2: emergency: .*\)/# \1/p' /tmp/first.log | sort -u |
		while read -r line; do ve_say "$line"; done
	every_cpu_logged "ve_hv2's emergency callback ran with $F still on" \
		"ve_hv2: emergency: cpu %s $F on"
fi
