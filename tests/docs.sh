#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# docs.sh: build Documentation/ with Debian's sphinx-build and the kernel's
# own kernel-doc extension (from linux-source-6.12), as the kernel's
# `make htmldocs` would, treating every warning as an error, so a broken
# kernel-doc directive or bad rst fails; and check the ABI file's fields.
#
# Prints "PASS: ..." / "FAIL: ..." lines; exits non-zero on any FAIL.
set -uo pipefail
. "$(dirname "$0")/vm/lib.sh"

src=$("$VE_ROOT/tests/vm/source.sh" 6.12) || exit 1
out=$VE_CACHE/docs
rm -rf "$out"
mkdir -p "$out"
status=0

if VE_KERNEL_SRC=$src sphinx-build -q -W --keep-going -b html -d "$out/doctrees" \
	"$VE_ROOT/Documentation" "$out/html" >"$out/build.log" 2>&1 &&
   ! grep -qi 'warning\|error' "$out/build.log"; then
	echo "PASS: docs: Documentation/ builds with sphinx-build -W and kernel-doc"
else
	echo "FAIL: docs: Documentation/ builds with sphinx-build -W and kernel-doc"
	sed 's/^/      /' "$out/build.log" | tail -n 30
	status=1
fi

# Every exported symbol appears in the driver-API page that was built.
missing=
for sym in $(sed -n 's/^EXPORT_SYMBOL_GPL(\([a-z_]*\));$/\1/p' "$VE_ROOT/virt_enable.c" \
		"$VE_ROOT/window.c"); do
	grep -q "$sym" "$out/html/driver-api/virt_enable.html" 2>/dev/null || missing="$missing $sym"
done
if [ -z "$missing" ]; then
	echo "PASS: docs: the driver-API page documents every exported symbol"
else
	echo "FAIL: docs: the driver-API page lacks:$missing"
	status=1
fi

# Documentation/ABI/: every entry has the fields the kernel's ABI files use.
abi_bad=
for f in "$VE_ROOT"/Documentation/ABI/testing/*; do
	for field in What Date KernelVersion Contact Description; do
		[ "$(grep -c "^$field:" "$f")" = "$(grep -c '^What:' "$f")" ] || abi_bad="$abi_bad $(basename "$f"):$field"
	done
done
if [ -z "$abi_bad" ]; then
	echo "PASS: docs: ABI entries have What, Date, KernelVersion, Contact, Description"
else
	echo "FAIL: docs: ABI entries miss fields:$abi_bad"
	status=1
fi
exit $status
