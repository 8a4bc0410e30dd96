# SPDX-License-Identifier: GPL-2.0
# The KUnit suite (tests/kunit/): load it, report each case (each parameter
# of a parameterized case) from its KTAP output.  That is read from the
# kernel log: 6.1's debugfs results keep only 512 bytes of each case.
. /tests/lib.sh
VE_SUITE=kunit
results=/tmp/kunit.ktap

# The cases run a private copy of the core: the loaded virt_enable, with a
# user of its own meanwhile, must not notice them.
F=$VE_FEATURE
ve_probe_load
ve_load
ve_check "a user of the loaded virt_enable, without references" ve_hold "get $F" "put $F"
holder=$!
before=$(ve_hw_transitions)

# One case checks that an unbalanced put WARNs: let it, without panicking.
# The host checks the log holds exactly that one warning.
echo 0 >/proc/sys/kernel/panic_on_warn
ve_say "kunit: expected warnings begin"
modprobe virt_enable_test
ve_say "kunit: expected warnings end"
echo 1 >/proc/sys/kernel/panic_on_warn

dmesg | awk '/^    # Subtest: virt_enable$/ { on = 1 } on { print }
	on && /^(not )?ok [0-9]+ virt_enable$/ { exit }' >$results
if ! grep -q '# Subtest: virt_enable' $results; then
	ve_not_ok "the KUnit suite ran"
	exit 1
fi

# Case lines are indented 4 spaces, a parameterized case's results 8,
# after their "# Subtest:" line; the case's own line then only sums them up.
awk '
/^        # Subtest: / { case = $3 }
/^        (not )?ok [0-9]+ / { print_result(8, case ": "); params[case] = 1 }
/^    (not )?ok [0-9]+ / { name = ($1 == "not") ? $4 : $3; if (!(name in params)) print_result(4, "") }
function print_result(indent, prefix,    line, verdict, desc) {
	line = substr($0, indent + 1)
	verdict = (line ~ /^not ok/) ? "not ok" : (line ~ /# SKIP/) ? "skip" : "ok"
	sub(/^(not )?ok [0-9]+ /, "", line)
	sub(/ # SKIP.*$/, "", line)
	print verdict "\t" prefix line
}' $results | while IFS='	' read -r verdict what; do
	case $verdict in
	ok) ve_ok "$what" ;;
	skip) ve_skip "$what" ;;
	*) ve_not_ok "$what" ;;
	esac
done
ve_check "the KUnit suite passed as a whole" grep -q "^ok [0-9]* virt_enable" $results
rmmod virt_enable_test

ve_check "the loaded virt_enable kept its user" ve_same "$(ve_users)" 1
ve_check "the loaded virt_enable switched no CPU meanwhile" ve_same "$(ve_hw_transitions)" "$before"
kill $holder
wait $holder 2>/dev/null
ve_check "the loaded virt_enable still turns $F on for a reference" ve_hold "get $F"
holder=$!
ve_check "... on every online CPU (hardware)" ve_all_hw 1
kill $holder
wait $holder 2>/dev/null
ve_check "... and off after it (hardware)" ve_all_hw 0
ve_unload
