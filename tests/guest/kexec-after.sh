# SPDX-License-Identifier: GPL-2.0
# In the kernel kexec.sh started: every CPU of the first kernel came up.
. /tests/lib.sh
VE_SUITE=kexec
expect=$(ve_param ve.expect_cpus)

ve_check "the kexec'd kernel runs" true
ve_check "it brought up all $expect CPUs" ve_same "$(ve_online_cpus | wc -l)" "$expect"
ve_check "no CPU failed to come up" ve_not ve_dmesg_has 'failed to report alive state\|failed to come online'
