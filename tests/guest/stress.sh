# SPDX-License-Identifier: GPL-2.0
# Stress, on the 6.1 kernel built with clang (lockdep; KASAN too under
# make kasan): 8 processes take and drop system-wide and per-CPU references
# in loops, while an in-kernel user (ve_testuser's hammer) takes and drops
# per-CPU references on every CPU from threads and from interrupts, each
# get checked against the hardware, and CPU 1 goes offline and online and
# suspend/resume cycles, each a fixed number of times; then everything must
# be off and balanced, and the module must unload (the host checks the log
# for lockdep reports and every other splat).
. /tests/lib.sh
VE_SUITE=stress
F=$VE_FEATURE
WORKERS=8
ROUNDS=60
HOTPLUGS=20
SUSPENDS=5
ncpus=$(ve_online_cpus | wc -l)

# make kasan: the claim is "clean under KASAN", so KASAN must be there.
if grep -qw ve.kasan=1 /proc/cmdline; then
	ve_check "the kernel runs KASAN" ve_dmesg_has "KernelAddressSanitizer initialized"
fi
T=/sys/kernel/debug/ve_testuser/control
ve_probe_load
ve_load
ve_check "ve_testuser loads, its hammer user registers" \
	eval 'modprobe ve_testuser && echo "register hammer" >$T'
ve_check "the hammer starts" eval 'echo "hammer hammer 600000" >$T'
worker() {
	i=0
	while [ $i -lt $ROUNDS ]; do
		cpu=$(( ($1 + i) % ncpus ))
		exec 3>$VE_CTL
		echo "get $F" >&3 2>/dev/null
		echo "get-cpu $F $cpu" >&3 2>/dev/null
		[ $((i % 3)) = 0 ] && echo "put-cpu $F $cpu" >&3 2>/dev/null
		[ $((i % 2)) = 0 ] && echo "put $F" >&3 2>/dev/null
		exec 3>&-
		i=$((i + 1))
	done
}
pids=
w=0
while [ $w -lt $WORKERS ]; do
	worker $w &
	pids="$pids $!"
	w=$((w + 1))
done
(
	n=0
	while [ $n -lt $HOTPLUGS ]; do
		echo 0 >/sys/devices/system/cpu/cpu1/online
		echo 1 >/sys/devices/system/cpu/cpu1/online
		n=$((n + 1))
	done
	# A suspend in progress refuses hotplug (-EBUSY): the last online may
	# have been refused, and must go through once it is over.
	n=0
	while [ "$(cat /sys/devices/system/cpu/cpu1/online)" = 0 ] && [ $n -lt 50 ]; do
		echo 1 >/sys/devices/system/cpu/cpu1/online || sleep 0.2
		n=$((n + 1))
	done
) &
hotplug=$!
s=0
suspended=0
while [ $s -lt $SUSPENDS ]; do
	ve_suspend 2>/dev/null && suspended=$((suspended + 1))
	s=$((s + 1))
done
wait $pids $hotplug
ve_check "the hammer stops" eval 'echo hammer-stop >$T'
line=$(grep '^hammer ' $T)
ve_say "# stress: hammer: $line"
field() { echo "$line" | awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'; }
ve_check "the hammer took per-CPU references from threads" [ "$(field hammer_gets)" -gt 0 ]
ve_check "the hammer took per-CPU references from interrupts" [ "$(field hammer_irq_gets)" -gt 0 ]
ve_check "after every get of the hammer the hardware was on (hardware)" ve_same "$(field hammer_bad)" 0
ve_check "no get of the hammer was refused" ve_same "$(field hammer_errors)" 0
ve_check "the hammer user unregisters" eval 'echo "unregister hammer" >$T && rmmod ve_testuser'
ve_say "# stress: $WORKERS workers x $ROUNDS rounds, $HOTPLUGS hotplug cycles, $suspended of $SUSPENDS suspends went through"

ve_check "CPU 1 is online at the end" ve_same "$(cat /sys/devices/system/cpu/cpu1/online)" 1
ve_check "no user is left" ve_same "$(ve_field users)" 0
ve_check "every CPU is off (state)" ve_all_state_hw 0
ve_check "every CPU is off (hardware)" ve_all_hw 0
for cpu in $(ve_online_cpus); do
	ve_check "CPU $cpu: enables equal disables" \
		ve_same "$(ve_cpu_field "$cpu" enables)" "$(ve_cpu_field "$cpu" disables)"
done
ve_check "some suspends went through" [ "$suspended" -gt 0 ]
ve_check "the module unloads" ve_unload
