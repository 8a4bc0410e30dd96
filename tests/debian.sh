#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debian.sh: Debian's own kernels, booted.  For the newest 6.12 and 6.1
# linux-image packages (tests/vm/debian-kernel.sh), build virt_enable with
# DKMS from the virt-enable-dkms package (make deb) against the matching
# linux-headers, as its postinst does on an installing machine, and boot
# the image in QEMU (SVM, 4 CPUs) with an initramfs holding that module,
# msr and KVM from the image, and the test-only modules and programs built
# against the same headers; run the scenario and kselftest suites, the
# ridealong suite on the image's own unmodified kvm_amd (the headline: a
# stock Debian kernel, nothing rebuilt but virt_enable), the second
# hypervisor alone and beside that kvm_amd's guests (sharing's "alone" and
# "ride" parts: its others need the patched KVM), and on 6.12 the
# KVM guest test on the DKMS-built patched KVM (tests/headers.sh must have
# built it first: check.sh runs it before).
# What differs from the test kernels: no KUnit, no lockdep, modversions
# and module signatures (ours are unsigned: the kernel taints, loads them).
#
# DEBIAN_SUITES, DEBIAN_CPUS and DEBIAN_APPEND replace the suites, the CPU
# count (4) and add to the command line: tests/bench.sh runs the benchmark
# on Debian's 6.12 this way, a production kernel (jump labels, no lockdep).
#
# Prints "PASS: ..." / "FAIL: ..." lines for tests/check.sh to count.
set -uo pipefail
. "$(dirname "$0")/vm/lib.sh"
. "$VE_ROOT/tests/vm/debian-lib.sh"

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; }
vm=$VE_ROOT/tests/vm
run=${VE_RUN:-$VE_CACHE/run}

# guest SERIES: the whole route for one series.
guest() {
	local series=$1 name=debian-$1-svm image release abi kdir build root t
	local stage=$run/$name/stage suites=${DEBIAN_SUITES:-scenario,selftests,ridealong,sharing,shutdown}
	local kvm_tree ko mods=()

	image=$("$vm/debian-kernel.sh" "$series") || { fail "$name: Debian's image downloads"; return; }
	release=$(basename "$image"/lib/modules/*)
	abi=${release%-amd64}
	kdir=$(unpack "$abi") || { fail "$name: the matching linux-headers $abi unpack"; return; }

	# virt_enable as DKMS builds it from the package, in a private tree:
	# the dkms add and build that the package's postinst runs.
	[ -n "$deb" ] || { fail "$name: no virt-enable-dkms package to build from"; return; }
	root=$VE_CACHE/dkms-boot/$abi
	rm -rf "$root"
	mkdir -p "$root/tree"
	dpkg-deb -x "$deb" "$root"
	version=$(dpkg-deb -f "$deb" Version)
	if dkms add --dkmstree "$root/tree" --sourcetree "$root/usr/src" -m virt_enable -v "$version" >"$run/$name-dkms.log" 2>&1 &&
	   dkms build --dkmstree "$root/tree" --sourcetree "$root/usr/src" -m virt_enable -v "$version" \
		-k "$release" --kernelsourcedir "$kdir" >>"$run/$name-dkms.log" 2>&1; then
		pass "$name: DKMS builds virt_enable/$version for $release"
	else
		fail "$name: DKMS builds virt_enable/$version for $release"
		return
	fi

	# The test-only modules and programs, against the same headers.
	build=$VE_CACHE/build/debian-$abi
	"$vm/build-module.sh" "$kdir" "$build" >"$run/$name-build.log" 2>&1 &&
	make -s -C "$VE_ROOT/tests/selftests" OUTPUT="$build" \
		KSFT_DIR="$("$vm/source.sh" 6.12)/tools/testing/selftests" >>"$run/$name-build.log" 2>&1 &&
	make -s -C "$VE_ROOT/tests/kvm" OUTPUT="$build" >>"$run/$name-build.log" 2>&1 ||
		{ fail "$name: test modules and programs build"; tail -n 20 "$run/$name-build.log"; return; }

	rm -rf "$stage"
	mkdir -p "$stage/tests"
	cp "$VE_ROOT/tests/guest/init" "$stage/init"
	cp "$VE_ROOT"/tests/guest/*.sh "$build/virt_enable_test" "$build/kvm_guest_test" "$stage/tests/"
	mods+=("$(find "$root/tree" -name 'virt-enable.ko*' | head -n 1)")
	mods+=("$build"/tests/modules/ve_probe.ko "$build"/tests/modules/ve_testuser.ko
	       "$build"/tests/modules/ve_hv2.ko
	       "$build"/tests/modules/ve_bench.ko)
	kvm_tree=$(cat "$VE_CACHE/dkms-kvm/$abi.tree" 2>/dev/null)
	if [ -z "${DEBIAN_SUITES:-}" ] && [ -n "$kvm_tree" ] && [ -d "$kvm_tree" ]; then
		mkdir -p "$stage/dkms-kvm"
		for ko in kvm kvm-amd kvm-intel; do
			cp "$(find "$kvm_tree" -name "$ko.ko*" | head -n 1)" "$stage/dkms-kvm/"
		done
		xz -df "$stage"/dkms-kvm/*.xz 2>/dev/null
		suites=scenario,selftests,ridealong,sharing,dkmskvm,shutdown
	fi
	if ! "$vm/debian-initramfs.sh" --decompress "$image" "$run/$name/initramfs.cpio" "$stage" \
		msr kvm_amd "${mods[@]}" >"$run/$name-initramfs.log" 2>&1; then
		fail "$name: initramfs packs"
		tail -n 20 "$run/$name-initramfs.log"
		return
	fi

	# Debian's kernel patches its text at run time (jump labels): single-
	# threaded TCG, see boot.sh.
	t=$SECONDS
	if "$vm/boot.sh" qemu --tcg single --cpus "${DEBIAN_CPUS:-4}" \
		--kernel "$image/boot/vmlinuz-$release" \
		--initrd "$run/$name/initramfs.cpio" --log "$run/$name.log" --timeout 900 \
		--append "printk.devkmsg=on ve.panic_on_warn=1 ve.suites=$suites ve.feature=svm ve.kvm=none ve.sharing=alone,ride ${DEBIAN_APPEND:-}" \
		>"$run/$name.out" 2>&1; then
		pass "$name: Debian's $release boots in QEMU and runs to the end ($((SECONDS - t)) s)"
	else
		fail "$name: Debian's $release boots in QEMU and runs to the end"
		sed 's/^/      /' "$run/$name.out"
	fi
	ve_guest_tap "$run/$name.log" "$name"
	for suite in ${suites//,/ }; do
		if grep -q "VE: suite $suite end rc=0" "$run/$name.log"; then
			pass "$name: suite $suite finished"
		else
			fail "$name: suite $suite finished"
		fi
	done
	if [[ ,$suites, != *,shutdown,* ]]; then
		:
	elif [ "$(grep -c 've_probe: shutdown: cpu [0-9]* svm off' "$run/$name.log")" = 4 ]; then
		pass "$name: poweroff with a reference held: svm off on all 4 CPUs (hardware)"
	else
		fail "$name: poweroff with a reference held: svm off on all 4 CPUs (hardware)"
	fi
	# Debian's kernels print mitigation notes that contain "WARNING:".
	if "$vm/check-log.sh" "$run/$name.log" --allow 'Speculative Return Stack Overflow' \
		>"$run/$name-checklog.out" 2>&1; then
		pass "$name: no kernel warning, lockdep report or oops"
	else
		fail "$name: no kernel warning, lockdep report or oops"
		tail -n 30 "$run/$name-checklog.out"
	fi
}

mkdir -p "$run"
# The virt-enable-dkms package (make deb), whose sources every guest builds.
rm -rf "$run/debian-deb"
if deb=$(make -s -C "$VE_ROOT" deb DEBDIR="$run/debian-deb" 2>"$run/debian-deb.log" | tail -n 1) &&
   [ -f "$deb" ]; then
	pass "make deb: virt-enable-dkms builds with debhelper and dh-dkms, lintian without a warning"
else
	deb=
	fail "make deb: virt-enable-dkms builds with debhelper and dh-dkms, lintian without a warning"
	sed 's/^/      /' "$run/debian-deb.log"
fi
for series in ${DEBIAN_SERIES:-6.12 6.1}; do
	guest "$series"
done
