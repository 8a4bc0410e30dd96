# SPDX-License-Identifier: GPL-2.0
# Suspend with two in-kernel users (ve_testuser), the second of which
# vetoes: the suspend fails cleanly, the first user is told it is over,
# the hardware stays on; without the veto it goes through.
. /tests/lib.sh
VE_SUITE=suspend
F=$VE_FEATURE
TU=/sys/kernel/debug/ve_testuser/control

# counter USER KEY: what ve_testuser counted for USER.
counter() { awk -v u="$1" -v k="$2" '$1 == u { for (i = 2; i < NF; i += 2) if ($i == k) print $(i + 1) }' $TU; }

ve_probe_load
ve_load
modprobe ve_testuser
echo "register first" >$TU
echo "register second veto" >$TU
echo "get first" >$TU
vetoed=$(ve_counter vetoed_suspends)
ve_check "the suspend is refused" ve_not ve_suspend 2>/dev/null
ve_check "dmesg names the user that vetoed" ve_dmesg_has 'suspend vetoed by user "second"'
ve_check "the veto is counted" ve_same "$(ve_counter vetoed_suspends)" "$((vetoed + 1))"
ve_check "the first user agreed, then heard the suspend is off" \
	ve_same "$(counter first suspends)/$(counter first resumes)" "1/1"
ve_check "the second user is not resumed from a suspend it refused" \
	ve_same "$(counter second suspends)/$(counter second resumes)" "1/0"
ve_check "every CPU still on (hardware)" ve_all_hw 1
echo "unregister second" >$TU
ve_check "without the veto, the suspend goes through" ve_suspend
ve_check "the first user: suspended and resumed" \
	ve_same "$(counter first suspends)/$(counter first resumes)" "2/2"
ve_check "every CPU on after resume (hardware)" ve_all_hw 1
echo "put first" >$TU
echo "unregister first" >$TU
rmmod ve_testuser
ve_check "no user left" ve_same "$(ve_field users)" 0
