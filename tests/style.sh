#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# style.sh: the checks a maintainer runs before reading a patch, with the
# checkpatch.pl and kernel-doc of Debian's linux-source-6.12:
#
#   - checkpatch.pl --strict --no-tree -f on every C source and header:
#     no errors, warnings or checks.  One finding is dropped, and only on
#     asm goto lines: "spaces preferred around that '%'" for a label
#     operand such as %l[fault], which checkpatch takes for a modulo.
#     In the trace events' header only, the layout of TRACE_EVENT() that
#     include/trace/events/ uses throughout: "Lines should not end with a
#     '('" and "Alignment should match open parenthesis".
#   - kernel-doc -none on the public header and every source: no warnings.
#
# Prints "PASS: ..." / "FAIL: ..." lines; exits non-zero on any FAIL.
set -uo pipefail
. "$(dirname "$0")/vm/lib.sh"

src=$("$VE_ROOT/tests/vm/source.sh" 6.12) || exit 1
cd "$VE_ROOT" || exit 1
files=$(git ls-files '*.c' '*.h')
status=0

report() {
	if [ -z "$2" ]; then
		echo "PASS: style: $1"
	else
		echo "FAIL: style: $1"
		echo "$2" | sed 's/^/      /'
		status=1
	fi
}

for file in $files; do
	out=$("$src/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
		--no-summary -f "$file" 2>&1 |
	      while IFS= read -r finding; do
		line=$(echo "$finding" | cut -d: -f2)
		case $finding in
		*"CHECK:SPACING: spaces preferred around that '%'"*)
			sed -n "${line}p" "$file" | grep -q '%l\[' && continue ;;
		*_trace.h:*"CHECK:OPEN_ENDED_LINE:"* | *_trace.h:*"CHECK:PARENTHESIS_ALIGNMENT:"*)
			continue ;;
		esac
		echo "$finding"
	      done)
	report "checkpatch --strict $file" "$out"
done

out=$("$src/scripts/kernel-doc" -none $files 2>&1)
report "kernel-doc -none on $(echo $files | wc -w) files" "$out"

# Every exported symbol has kernel-doc.
missing=
for file in virt_enable.c window.c; do
	for sym in $(sed -n 's/^EXPORT_SYMBOL_GPL(\([a-z_]*\));$/\1/p' $file); do
		"$src/scripts/kernel-doc" -rst -function "$sym" $file 2>/dev/null |
			grep -q "$sym" || missing="$missing $sym"
	done
done
report "kernel-doc for every exported symbol" "$missing"
exit $status
