# SPDX-License-Identifier: GPL-2.0
# In the kernel kexec-neg.sh started: what the careless hypervisor left on
# shows where kexec-after.sh looks.
. /tests/lib.sh
VE_SUITE=kexec-negative
expect=$(ve_param ve.expect_cpus)
first=$(ve_param ve.first_cpus)

# First, before anything is loaded (see kexec-after.sh).
[ "$VE_FEATURE" != svm ] || boot_svme=$(ve_hw 0)

ve_check "the kexec'd kernel runs" true
if [ "$VE_FEATURE" = svm ]; then
	left=0
	ve_check "every CPU came up all the same ($expect): SVME does not block INIT here" \
		ve_same "$(ve_online_cpus | wc -l)" "$expect"
	ve_check "the boot CPU, which ran kexec, came up with EFER.SVME set: kexec-after's check fails" \
		ve_same "$boot_svme" 1
	ve_say "# EFER.SVME on this kernel's CPUs: $(ve_hw_map)"
else
	left=1
	ve_check "CPU 1 did not come up: $expect CPUs online" ve_same "$(ve_online_cpus | wc -l)" "$expect"
	ve_check "the kernel says CPU 1 failed to start" ve_dmesg_has 'CPU1 failed to report alive state'
fi

# The first kernel's ve_probe, at its shutdown hook: kexec-after's
# per-CPU check fails for the CPU left on, and only for it.
ve_probe_load
on_mask=$(ve_probe_field previous on)
ve_say "# first kernel's ve_probe: $(ve_probe_hooks previous)"
ve_check "the first kernel's ve_probe read all $first CPUs at its shutdown hook" \
	ve_same "$(($(ve_probe_field previous read)))" "$(((1 << first) - 1))"
ve_check "...and found CPU $left on, the one left on, and no other" \
	ve_same "$((on_mask))" "$((1 << left))"
