# SPDX-License-Identifier: GPL-2.0
# Suspend with two in-kernel users (ve_testuser), the second of which
# vetoes: the suspend fails cleanly, the first user is told it is over,
# the hardware stays on; without the veto it goes through.
#
# "On after resume" alone cannot fail for the boot CPU: under pm_test=core
# nothing sleeps, and after a real S3 Linux's own resume path restores the
# boot CPU's EFER and CR4 as they were saved after syscore suspend.  So
# ve_probe, loaded before virt_enable, reads the boot CPU where it matters:
# after virt_enable's syscore suspend, before the platform sleeps (it must
# be off), and after wake-up, before virt_enable's syscore resume (still
# off: what virt_enable must turn on again).  Both under pm_test=core, and
# then through a real S3 where the emulator wakes the guest (QEMU, woken by
# tests/vm/boot.sh through QMP; Bochs, which resets the machine at once and
# resumes through its BIOS: every CPU's VMX state is really lost there).
. /tests/lib.sh
VE_SUITE=suspend
F=$VE_FEATURE
TU=/sys/kernel/debug/ve_testuser/control

# counter USER KEY: what ve_testuser counted for USER.
counter() { awk -v u="$1" -v k="$2" '$1 == u { for (i = 2; i < NF; i += 2) if ($i == k) print $(i + 1) }' $TU; }

# syscore_checks WHAT: ve_probe read the boot CPU once more at syscore
# suspend and at syscore resume than the counts saved in $suspends and
# $resumes, and found it off both times.
syscore_checks() {
	ve_say "# ve_probe: $(ve_probe_hooks suspend); $(ve_probe_hooks resume)"
	ve_check "$1: ve_probe read the boot CPU at syscore suspend and at syscore resume, once each" \
		eval '[ "$(ve_probe_field suspend count)" = $((suspends + 1)) ] &&
		      [ "$(ve_probe_field resume count)" = $((resumes + 1)) ] &&
		      [ "$(($(ve_probe_field suspend read)))" = 1 ] &&
		      [ "$(($(ve_probe_field resume read)))" = 1 ]'
	ve_check "$1: at syscore suspend, after virt_enable's, before the sleep: $F off on CPU 0 (hardware)" \
		ve_same "$(($(ve_probe_field suspend on)))" 0
	ve_check "$1: at syscore resume, after wake-up, before virt_enable's: $F off on CPU 0 (hardware)" \
		ve_same "$(($(ve_probe_field resume on)))" 0
}
probe_counts() {
	suspends=$(ve_probe_field suspend count)
	resumes=$(ve_probe_field resume count)
}

ve_probe_load
ve_load
ve_check "ve_probe's syscore hooks come after virt_enable's on suspend, before them on resume (the probe was loaded first)" \
	ve_probe_first
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
probe_counts
ve_check "without the veto, the suspend goes through" ve_suspend
ve_check "the first user: suspended and resumed" \
	ve_same "$(counter first suspends)/$(counter first resumes)" "2/2"
syscore_checks "pm_test=core"
ve_check "every CPU on after resume (hardware)" ve_all_hw 1

if ve_s3_wakes; then
	probe_counts
	ve_mark
	began=$(cut -d' ' -f1 /proc/uptime)
	ve_check "S3: a real suspend to RAM, woken by the host, goes through" ve_suspend_s3
	ve_say "# S3: $(awk -v b="$began" '{ printf "%.1f", $1 - b }' /proc/uptime) s by the guest's clock"
	ve_check "S3: the platform slept: the kernel resumed from S3 (\"Low-level resume complete\")" \
		ve_since_mark_has 'ACPI: PM: Low-level resume complete'
	ve_check "S3: the first user: suspended and resumed" \
		ve_same "$(counter first suspends)/$(counter first resumes)" "3/3"
	syscore_checks "S3"
	ve_say "# S3: $F by CPU after resume: $(ve_hw_map)"
	ve_check "S3: every CPU on after resume (hardware)" ve_all_hw 1
else
	ve_skip "S3: a real suspend to RAM (not here: ve.s3=$(ve_param ve.s3))"
fi
echo "put first" >$TU
echo "unregister first" >$TU
rmmod ve_testuser
ve_check "no user left" ve_same "$(ve_field users)" 0
