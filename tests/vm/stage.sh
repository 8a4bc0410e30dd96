#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# stage.sh KERNEL_DIR OUT_DIR [MAKE_ARGS...]
#
# Build the modules and test programs against KERNEL_DIR and pack
# OUT_DIR/initramfs.cpio: the kernel's own modules and ours installed as on
# a real system (the guest uses modprobe), the guest init, every in-guest
# suite and what they run:
#
#   - virt_enable built out of tree (MAKE_ARGS, e.g. W=1): installed where
#     the kernel has no virt_enable of its own; the test-only modules of
#     tests/modules/ always;
#   - the kselftests and the KVM guest program, static;
#   - where the kernel has the KVM series: the unmodified KVM modules built
#     from the same source (/stock-kvm) and the KVM selftests subset, or
#     what of them VE_STAGE_KVM names ("stock", "selftests", both
#     comma-separated, or "none"; default both);
#   - the kernel itself and kexec (tests/vm/stage-kexec.sh), for the kexec
#     and crash suites.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=${1:?usage: stage.sh KERNEL_DIR OUT_DIR [MAKE_ARGS...]}
out=${2:?usage: stage.sh KERNEL_DIR OUT_DIR [MAKE_ARGS...]}
shift 2

build=$VE_CACHE/build/$(basename "$kdir")
intree=
grep -qE '^CONFIG_VIRT_ENABLE=[ym]$' "$kdir/.config" && intree=1
series=$(sed -n 's/^VERSION = //p' "$kdir/source/Makefile").$(sed -n 's/^PATCHLEVEL = //p' "$kdir/source/Makefile")
kvm_series=
grep -q 'VIRT_ENABLE' "$kdir/source/arch/x86/kvm/Kconfig" && kvm_series=1

"$VE_ROOT/tests/vm/build-module.sh" "$kdir" "$build" "$@"

# Test programs, against the tested kernel's own kselftest and uapi headers.
make -s -C "$VE_ROOT/tests/selftests" OUTPUT="$build" \
	KSFT_DIR="$kdir/source/tools/testing/selftests"
make -s -C "$kdir" headers >/dev/null
make -s -C "$VE_ROOT/tests/kvm" OUTPUT="$build" KHDR="$kdir/usr/include"

stage=$out/stage
release=$(cat "$kdir/include/config/kernel.release")
extra=$stage/lib/modules/$release/extra
rm -rf "$stage"
mkdir -p "$stage/tests" "$extra"
cp "$VE_ROOT/tests/guest/init" "$stage/init"
cp "$VE_ROOT"/tests/guest/*.sh "$build/virt_enable_test" "$build/kvm_guest_test" \
	"$stage/tests/"
make -s -C "$kdir" INSTALL_MOD_PATH="$stage" INSTALL_MOD_STRIP=1 DEPMOD=true \
	modules_install
# The quick loop (VE_QUICK=1, see tests/intree.sh) does not rebuild the
# kernel for a change to virt_enable's own .c files: the module built here
# from the same sources takes the in-tree one's place.
if [ -n "${VE_QUICK:-}" ] && [ -n "$intree" ] && [ -f "$build/virt-enable.ko" ]; then
	for ko in virt-enable virt-enable-test; do
		dest=$stage/lib/modules/$release/kernel/drivers/virt/virt_enable/$ko.ko
		[ ! -f "$dest" ] || [ ! -f "$build/$ko.ko" ] || cp "$build/$ko.ko" "$dest"
	done
fi
cp "$build"/tests/modules/*.ko "$extra/"
if [ -z "$intree" ]; then
	cp "$build/virt-enable.ko" "$extra/"
	[ ! -f "$build/virt-enable-test.ko" ] || cp "$build/virt-enable-test.ko" "$extra/"
fi

stage_kvm=,${VE_STAGE_KVM:-stock,selftests},
if [ -n "$kvm_series" ] && [[ $stage_kvm == *,stock,* ]]; then
	"$VE_ROOT/kvm/build-kvm.sh" --stock "$series" "$kdir" "$build/stock-kvm" >/dev/null
	mkdir -p "$stage/stock-kvm"
	cp "$build"/stock-kvm/src/arch/x86/kvm/*.ko "$stage/stock-kvm/"
fi
if [ -n "$kvm_series" ] && [[ $stage_kvm == *,selftests,* ]]; then
	KVM_SELFTESTS_WORK=$build/kvm-selftests-work \
		"$VE_ROOT/tests/kvm/build-kvm-selftests.sh" "$kdir/source" "$build/kvm-selftests" \
		>"$build/kvm-selftests.log" 2>&1 ||
		{ tail -n 20 "$build/kvm-selftests.log" >&2; ve_die "KVM selftests do not build"; }
	mkdir -p "$stage/tests/kvm-selftests"
	cp -r "$build/kvm-selftests/." "$stage/tests/kvm-selftests/"
	cp "$VE_ROOT/tests/kvm/run-kvm-selftests.sh" "$VE_ROOT/tests/kvm/selftests.list" \
		"$stage/tests/"
fi

# stage_binary ROOT PROGRAM...: dynamic programs, with their libraries and
# the loader, as ldd finds them.
stage_binary() {
	local root=$1 bin lib
	shift
	for bin in "$@"; do
		mkdir -p "$root$(dirname "$bin")"
		cp -L "$bin" "$root$bin"
		for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
			mkdir -p "$root$(dirname "$lib")"
			cp -L "$lib" "$root$lib"
		done
	done
}

# The kexec and crash suites' tools, and the kernel itself.  The kernels
# they start get /boot/chain.cpio: the same init, the suites that run after
# a kexec or crash, the modules and tools, without the rest, since every
# megabyte costs seconds in Bochs.  It also carries kexec and suspend,
# which need nothing more, for guests that boot it first (the deliberate
# bugs of tests/mutate.sh in Bochs).
if grep -q '^CONFIG_KEXEC_FILE=y' "$kdir/.config"; then
	stage_binary "$stage" /sbin/kexec /usr/bin/makedumpfile
	mkdir -p "$stage/boot"
	cp "$kdir/arch/x86/boot/bzImage" "$stage/boot/bzImage"
	chain=$out/chain
	rm -rf "$chain"
	mkdir -p "$chain/tests" "$chain/lib/modules"
	cp "$stage/init" "$chain/init"
	cp "$VE_ROOT"/tests/guest/{lib,kexec,kexec-after,crash,crash-after,kexec-neg,kexec-neg-after,crash-neg,crash-neg-after,suspend}.sh \
		"$chain/tests/"
	cp -a "$stage/lib/modules/$release" "$chain/lib/modules/"
	rm -rf "$chain/lib/modules/$release/kernel/arch/x86/kvm"
	stage_binary "$chain" /sbin/kexec /usr/bin/makedumpfile
	cp -a "$stage/boot" "$chain/"
	depmod -b "$chain" "$release"
	"$VE_ROOT/tests/vm/mkinitramfs.sh" "$stage/boot/chain.cpio" "$chain"
fi

depmod -b "$stage" "$release"
"$VE_ROOT/tests/vm/mkinitramfs.sh" "$out/initramfs.cpio" "$stage"
