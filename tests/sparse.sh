#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# sparse.sh KERNEL_DIR: run sparse (make C=2, Debian's sparse package) over
# every source file of the module and its KUnit tests, built against
# KERNEL_DIR; any sparse warning or error fails.
# Prints "PASS: ..." / "FAIL: ..." lines.
set -uo pipefail
. "$(dirname "$0")/vm/lib.sh"

kdir=${1:?usage: sparse.sh KERNEL_DIR}
out=$VE_CACHE/build/sparse-$(basename "$kdir")
log=$out.log
if ! "$VE_ROOT/tests/vm/build-module.sh" "$kdir" "$out" C=2 >"$log" 2>&1; then
	echo "FAIL: sparse: the module builds with C=2"
	sed 's/^/      /' "$log" | tail -n 20
	exit 1
fi
findings=$(grep -E ': (warning|error):' "$log")
if [ -z "$findings" ]; then
	echo "PASS: sparse (C=2): no warnings"
else
	echo "FAIL: sparse (C=2): $(echo "$findings" | wc -l) warnings"
	echo "$findings" | sed 's/^/      /'
	exit 1
fi
