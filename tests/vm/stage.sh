#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# stage.sh KERNEL_DIR OUT_DIR [MAKE_ARGS...]
#
# Build the modules against KERNEL_DIR and pack OUT_DIR/initramfs.cpio: the
# kernel's own modules and ours installed as on a real system (the guest
# uses modprobe), the guest init and every in-guest suite.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=${1:?usage: stage.sh KERNEL_DIR OUT_DIR [MAKE_ARGS...]}
out=${2:?usage: stage.sh KERNEL_DIR OUT_DIR [MAKE_ARGS...]}
shift 2

build=$VE_CACHE/build/$(basename "$kdir")
# Built into this kernel (tests/intree.sh): the kernel's own build has it.
builtin=
grep -qx 'CONFIG_VIRT_ENABLE=y' "$kdir/.config" && builtin=1
[ -n "$builtin" ] || "$VE_ROOT/tests/vm/build-module.sh" "$kdir" "$build" "$@"

# Test-only: the VMX probe module, and the kselftests against the tested
# kernel's own kselftest headers.
mkdir -p "$build/probe"
for f in Kbuild ve_probe.c; do
	ve_update "$VE_ROOT/tests/probe/$f" "$build/probe/$f"
done
make -s -C "$kdir" M="$build/probe" "$@" modules
make -s -C "$VE_ROOT/tests/selftests" OUTPUT="$build" \
	KSFT_DIR="$kdir/source/tools/testing/selftests"

stage=$out/stage
release=$(cat "$kdir/include/config/kernel.release")
rm -rf "$stage"
mkdir -p "$stage/tests" "$stage/lib/modules/$release/extra"
cp "$VE_ROOT/tests/guest/init" "$stage/init"
cp "$VE_ROOT"/tests/guest/*.sh "$build/virt_enable_test" "$stage/tests/"
make -s -C "$kdir" INSTALL_MOD_PATH="$stage" INSTALL_MOD_STRIP=1 DEPMOD=true \
	modules_install
cp "$build/probe/ve_probe.ko" "$stage/lib/modules/$release/extra/"
if [ -z "$builtin" ]; then
	cp "$build/virt-enable.ko" "$stage/lib/modules/$release/extra/"
	[ ! -f "$build/virt-enable-test.ko" ] ||
		cp "$build/virt-enable-test.ko" "$stage/lib/modules/$release/extra/"
fi
depmod -b "$stage" "$release"
"$VE_ROOT/tests/vm/mkinitramfs.sh" "$out/initramfs.cpio" "$stage"
