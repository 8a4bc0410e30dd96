# SPDX-License-Identifier: GPL-2.0
# In the kernel kexec-neg.sh started: CPU 1, left in VMX root operation,
# blocks INIT and stays down.
. /tests/lib.sh
VE_SUITE=kexec-negative
expect=$(ve_param ve.expect_cpus)

ve_check "the kexec'd kernel runs" true
ve_check "CPU 1 did not come up: $expect CPUs online" ve_same "$(ve_online_cpus | wc -l)" "$expect"
ve_check "the kernel says CPU 1 failed to start" ve_dmesg_has 'CPU1 failed to report alive state'
