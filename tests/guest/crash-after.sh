# SPDX-License-Identifier: GPL-2.0
# In the capture kernel crash.sh loaded: it started the CPUs it asked for,
# and the first kernel's log, read back from /proc/vmcore, shows the
# users' emergency callback on every CPU, with the hardware still on.
. /tests/lib.sh
VE_SUITE=crash
F=$VE_FEATURE
expect=$(ve_param ve.expect_cpus)
first=$(ve_param ve.first_cpus)

ve_check "the capture kernel runs" [ -e /proc/vmcore ]
ve_check "it brought up all $expect CPUs it asked for" ve_same "$(ve_online_cpus | wc -l)" "$expect"
ve_check "the first kernel's log is read back from /proc/vmcore" \
	makedumpfile --dump-dmesg /proc/vmcore /tmp/first.log
sed -n 's/.*\(ve_testuser: emergency: .*\)/# \1/p' /tmp/first.log | while read -r line; do ve_say "$line"; done
cpu=0
while [ "$cpu" -lt "$first" ]; do
	ve_check "first kernel, CPU $cpu: the emergency callback ran with $F still on" \
		grep -q "ve_testuser: emergency: user crashtest cpu $cpu $F on" /tmp/first.log
	cpu=$((cpu + 1))
done
ve_check "first kernel: no emergency callback ran with $F off" \
	ve_not grep -q "ve_testuser: emergency: user crashtest cpu [0-9]* $F off" /tmp/first.log
