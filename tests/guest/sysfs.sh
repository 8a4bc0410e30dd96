# SPDX-License-Identifier: GPL-2.0
# The read-only status in /sys/kernel/virt_enable/, read with debugfs
# unmounted, as on a production machine.
. /tests/lib.sh
VE_SUITE=sysfs
F=$VE_FEATURE
SYS=/sys/kernel/virt_enable
last=$(ve_online_cpus | tail -n 1)
online=$(cat /sys/devices/system/cpu/online)

ve_probe_load
ve_load
ve_check "feature says $F" ve_same "$(cat $SYS/feature)" "$F"
ve_check "cpus_on is empty with no user" ve_same "$(cat $SYS/cpus_on)" ""
ve_check "users is 0 with no user" ve_same "$(cat $SYS/users)" 0
ve_check "system_users is 0 with no user" ve_same "$(cat $SYS/system_users)" 0
ve_check "window_failures is 0" ve_same "$(cat $SYS/window_failures)" 0
ve_check "switcher is virt_enable with no KVM loaded" ve_same "$(cat $SYS/switcher)" virt_enable
ve_check "a system-wide holder" ve_hold "get $F"
system_holder=$!
ve_check "a per-CPU holder on CPU $last" ve_hold "get-cpu $F $last" "get-cpu $F $last"
cpu_holder=$!

umount -l /sys/kernel/debug
ve_check "debugfs is unmounted" ve_not grep -q ' /sys/kernel/debug ' /proc/mounts
ve_check "cpus_on lists every online CPU ($online)" ve_same "$(cat $SYS/cpus_on)" "$online"
ve_check "users counts both holders" ve_same "$(cat $SYS/users)" 2
ve_check "system_users counts the system-wide holder" ve_same "$(cat $SYS/system_users)" 1
for f in feature cpus_on users system_users switcher window_failures; do
	ve_check "$f is one value on one line" \
		eval '[ "$(wc -l <$SYS/$f)" = 1 ] && [ "$(wc -w <$SYS/$f)" = 1 ]'
done
for f in feature cpus_on users system_users switcher window_failures; do
	ve_check "$f is read-only (0444)" ve_same "$(stat -c %a $SYS/$f)" 444
	ve_check "writing $f is refused" ve_not sh -c "echo x >$SYS/$f" 2>/dev/null
done
kill $system_holder
wait $system_holder 2>/dev/null
ve_check "the system-wide holder gone: only CPU $last on" ve_same "$(cat $SYS/cpus_on)" "$last"
ve_check "one user left, none system-wide" ve_same "$(cat $SYS/users)/$(cat $SYS/system_users)" 1/0
kill $cpu_holder
wait $cpu_holder 2>/dev/null
ve_check "both gone: nothing on, no user" \
	ve_same "$(cat $SYS/cpus_on)/$(cat $SYS/users)/$(cat $SYS/system_users)" /0/0
mount -t debugfs debugfs /sys/kernel/debug
ve_unload
ve_builtin || ve_check "unloaded: the sysfs directory is gone" [ ! -e $SYS ]
