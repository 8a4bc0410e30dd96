# SPDX-License-Identifier: GPL-2.0
# In the capture kernel crash-neg.sh loaded: what the careless hypervisor
# left on shows where crash-after.sh looks.
. /tests/lib.sh
VE_SUITE=crash-negative
expect=$(ve_param ve.expect_cpus)

# First, before anything is loaded (see kexec-after.sh).
[ "$VE_FEATURE" != svm ] || boot_svme=$(ve_hw 0)

ve_check "the capture kernel runs" [ -e /proc/vmcore ]
if [ "$VE_FEATURE" != svm ]; then
	ve_check "CPU 1 did not come up: $expect CPUs online" ve_same "$(ve_online_cpus | wc -l)" "$expect"
	ve_check "the kernel says CPU 1 failed to start" ve_dmesg_has 'CPU1 failed to report alive state'
elif ve_kernel_at_least 6 6; then
	ve_check "every CPU it asked for came up all the same ($expect): SVME does not block INIT here" \
		ve_same "$(ve_online_cpus | wc -l)" "$expect"
	ve_check "the boot CPU, which crashed, came up with EFER.SVME set: crash-after's check fails" \
		ve_same "$boot_svme" 1
else
	ve_skip "the boot CPU came up with EFER.SVME set (before 6.6 the kernel's cpu_emergency_svm_disable() clears it: nothing to show)"
fi
