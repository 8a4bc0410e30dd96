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

# VE_STOCK_KVM_KERNEL: a kernel of the same tree whose config differs from
# KERNEL_DIR's only in virt_enable's options (6.12's, for the built-in
# kernel).  The unmodified KVM reads none of them, so one build of it
# against that kernel serves both.
stock_kdir=$kdir
no_ve_config() { grep -v 'CONFIG_VIRT_ENABLE' "$1/.config"; }
if [ -n "${VE_STOCK_KVM_KERNEL:-}" ] &&
   cmp -s <(no_ve_config "$kdir") <(no_ve_config "$VE_STOCK_KVM_KERNEL") &&
   [ "$(readlink -f "$kdir/source")" = "$(readlink -f "$VE_STOCK_KVM_KERNEL/source")" ]; then
	stock_kdir=$VE_STOCK_KVM_KERNEL
fi
stage_kvm=,${VE_STAGE_KVM:-stock,selftests},
if [ -n "$kvm_series" ] && [[ $stage_kvm == *,stock,* ]]; then
	stock=$VE_CACHE/build/$(basename "$stock_kdir")/stock-kvm
	"$VE_ROOT/kvm/build-kvm.sh" --stock "$series" "$stock_kdir" "$stock" >/dev/null
	mkdir -p "$stage/stock-kvm"
	cp "$stock"/src/arch/x86/kvm/*.ko "$stage/stock-kvm/"
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

# The kexec and crash suites' tools, and the kernel itself, and the roots
# of the kernels they start, each holding only what runs there, since
# every byte of them costs time in Bochs: kexec_file_load and purgatory
# hash each byte, and in Bochs that is about 8 s per MB for each kexec
# or crash, where unpacking it costs 1 s (plain) or 4 s (zstd, which
# makes it about a third).
#   /boot/capture.cpio  the capture kernel's: init, the suites that run
#                       after a crash, the modules and makedumpfile;
#   /boot/chain.cpio    the kexec'd kernel's: the same, with kexec, the
#                       kernel and capture.cpio, to crash from there.  Also
#                       the first root of the guests that start small (the
#                       negative controls; tests/mutate.sh copies
#                       OUT_DIR/chain for its deliberate bugs in Bochs).
if grep -q '^CONFIG_KEXEC_FILE=y' "$kdir/.config"; then
	stage_binary "$stage" /sbin/kexec /usr/bin/makedumpfile
	mkdir -p "$stage/boot"
	cp "$kdir/arch/x86/boot/bzImage" "$stage/boot/bzImage"
	capture=$out/capture
	rm -rf "$capture"
	mkdir -p "$capture/tests" "$capture/lib/modules"
	cp "$stage/init" "$capture/init"
	cp "$VE_ROOT"/tests/guest/{lib,kexec,kexec-after,crash,crash-after,kexec-neg,kexec-neg-after,crash-neg,crash-neg-after,suspend}.sh \
		"$capture/tests/"
	cp -a "$stage/lib/modules/$release" "$capture/lib/modules/"
	rm -rf "$capture/lib/modules/$release/kernel/arch/x86/kvm"
	stage_binary "$capture" /usr/bin/makedumpfile
	depmod -b "$capture" "$release"
	"$VE_ROOT/tests/vm/mkinitramfs.sh" --zstd "$stage/boot/capture.cpio" "$capture"
	chain=$out/chain
	rm -rf "$chain"
	cp -a "$capture" "$chain"
	stage_binary "$chain" /sbin/kexec
	mkdir -p "$chain/boot"
	cp "$stage/boot/bzImage" "$stage/boot/capture.cpio" "$chain/boot/"
	"$VE_ROOT/tests/vm/mkinitramfs.sh" --zstd "$stage/boot/chain.cpio" "$chain"
fi

depmod -b "$stage" "$release"
"$VE_ROOT/tests/vm/mkinitramfs.sh" "$out/initramfs.cpio" "$stage"
