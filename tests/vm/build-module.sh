#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-module.sh KERNEL_DIR OUT_DIR [MAKE_ARGS...]
#
# Build virt-enable.ko, the test-only modules of tests/modules/, and the
# KUnit module where the kernel has KUnit, against KERNEL_DIR in a copy of
# the sources under OUT_DIR, so builds for several kernels never share
# objects and the repository stays clean.  The kernel's own compiler
# builds them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=${1:?usage: build-module.sh KERNEL_DIR OUT_DIR [MAKE_ARGS...]}
out=${2:?usage: build-module.sh KERNEL_DIR OUT_DIR [MAKE_ARGS...]}
shift 2

mkdir -p "$out"
(cd "$VE_ROOT" && git ls-files -co --exclude-standard -- Kbuild Makefile '*.c' '*.h' compat \
	tests/kunit tests/modules) |
	while read -r f; do
		[ -f "$VE_ROOT/$f" ] || continue
		mkdir -p "$out/$(dirname "$f")"
		ve_update "$VE_ROOT/$f" "$out/$f"
	done

# The module and its KUnit tests (wherever the kernel can run them), except
# in a kernel that has virt_enable built in: there vmlinux exports its API
# and carries the KUnit module, and only the test-only modules are built.
ours=(CONFIG_VIRT_ENABLE=m)
grep -qx 'CONFIG_KUNIT=y' "$kdir/.config" && ours+=(CONFIG_VIRT_ENABLE_KUNIT_TEST=m)
grep -qx 'CONFIG_VIRT_ENABLE=y' "$kdir/.config" && ours=(CONFIG_VIRT_ENABLE=)

# Like a source package: the copy carries its version.
git -C "$VE_ROOT" describe --tags --always --dirty >"$out/VERSION.new"
ve_update "$out/VERSION.new" "$out/VERSION"
rm -f "$out/VERSION.new"

# With the compiler the kernel was built with (LLVM=1 for a clang kernel).
llvm=()
! grep -qx 'CONFIG_CC_IS_CLANG=y' "$kdir/.config" || llvm=(LLVM=1)

# $VE_JOBS jobs: the module, its KUnit tests and the test modules are some
# twenty objects, and a stage or a mutation waits for them.
make -s -j"$VE_JOBS" -C "$kdir" M="$out" "${ours[@]}" CONFIG_VIRT_ENABLE_TEST_MODULES=m \
	"${llvm[@]}" "$@" modules
