# SPDX-License-Identifier: GPL-2.0
# In the capture kernel crash-neg.sh loaded: CPU 1 stays down.
. /tests/lib.sh
VE_SUITE=crash-negative
expect=$(ve_param ve.expect_cpus)

ve_check "the capture kernel runs" [ -e /proc/vmcore ]
ve_check "CPU 1 did not come up: $expect CPUs online" ve_same "$(ve_online_cpus | wc -l)" "$expect"
ve_check "the kernel says CPU 1 failed to start" ve_dmesg_has 'CPU1 failed to report alive state'
