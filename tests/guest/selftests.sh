# SPDX-License-Identifier: GPL-2.0
# The kselftests (tests/selftests/): run them with the module loaded and no
# users, report each TAP result.
. /tests/lib.sh
VE_SUITE=selftests

ve_load
/tests/virt_enable_test >/tmp/selftests.tap 2>&1
status=$?
# On failure, their diagnostics go to the log as they are.
[ "$status" = 0 ] || while read -r line; do ve_say "# $line"; done </tmp/selftests.tap

grep -E '^(not )?ok [0-9]+ ' /tmp/selftests.tap | while read -r line; do
	what=${line#* [0-9]* }
	case $line in
	"not ok "*) what=${line#not ok * }; ve_not_ok "$what" ;;
	*"# SKIP"*) ve_skip "${what%% # SKIP*}" ;;
	*) ve_ok "$what" ;;
	esac
done
ve_check "the kselftest binary exited 0" [ "$status" = 0 ]
ve_check "no users left behind" ve_same "$(ve_field users)" 0
ve_unload
