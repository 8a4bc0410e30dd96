#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# headers.sh
#
# Build and install virt_enable against Debian's own linux-headers packages,
# as users of distribution kernels will: by hand at W=1 (any warning fails),
# with `make install`, and with DKMS (Debian's dkms, in a private tree), each
# time checking the module's vermagic; and check what modinfo shows.  Debian
# builds its kernels with gcc, and a module must be built with the kernel's
# compiler: clang is covered with a clang-built test kernel instead.  The packages
# are downloaded and unpacked, not installed: Debian's 6.12 header packages
# would pull in a kernel image.  Kernels covered:
#
#   - the newest 6.1 (register_syscore_ops())
#   - the newest 6.12 (register_syscore(), since 6.12.115)
#   - the newest 6.12 before 6.12.115 (register_syscore_ops())
#
# Prints "PASS: ..." / "FAIL: ..." lines for tests/check.sh to count.
set -uo pipefail
. "$(dirname "$0")/vm/lib.sh"
. "$VE_ROOT/tests/vm/debian-lib.sh"

pass() { echo "PASS: headers: $*"; }
fail() { echo "FAIL: headers: $*"; }

# dkms_build ABI KERNEL_DIR: `make dkms-install`, then dkms add and build in
# a private DKMS tree, as on a machine with those headers installed.
dkms_build() {
	local abi=$1 kdir=$2 root=$VE_CACHE/dkms/$1 version ko log=$VE_CACHE/dkms/$1.log

	rm -rf "$root"
	mkdir -p "$root/tree"
	version=$(make -s -C "$VE_ROOT" dkms-install DESTDIR="$root" | sed -n 's#now: dkms install virt_enable/##p')
	if [ -n "$version" ] &&
	   dkms add --dkmstree "$root/tree" --sourcetree "$root/usr/src" \
		-m virt_enable -v "$version" >"$log" 2>&1 &&
	   dkms build --dkmstree "$root/tree" --sourcetree "$root/usr/src" \
		-m virt_enable -v "$version" -k "$abi-amd64" \
		--kernelsourcedir "$kdir" >>"$log" 2>&1; then
		pass "$abi: dkms add and build virt_enable/$version"
	else
		fail "$abi: dkms add and build virt_enable/${version:-?}"
		sed 's/^/      /' "$log" | tail -n 20
		return
	fi
	ko=$(find "$root/tree" -name 'virt-enable.ko*' | head -n 1)
	vermagic=$(modinfo -F vermagic "$ko" 2>/dev/null)
	if [ "${vermagic%% *}" = "$abi-amd64" ]; then
		pass "$abi: DKMS-built module has vermagic $abi-amd64"
	else
		fail "$abi: DKMS-built module has vermagic '$vermagic'"
	fi
}

abis=("$(newest '6\.1\.0-[0-9]*')" "$(newest '6\.12\.[0-9]*[+]deb12')"
      "$(newest_before '6\.12\.[0-9]*[+]deb12' 6.12.115)")
new_syscore=0
old_syscore=0

# The Debian job may run before anything else made the build directory.
mkdir -p "$VE_CACHE/build"
for abi in "${abis[@]}"; do
	[ -n "$abi" ] || { fail "a linux-headers package was not found"; continue; }
	kdir=$(unpack "$abi") || { fail "$abi: download and unpack"; continue; }
	out=$VE_CACHE/build/headers-$abi
	log=$out.log
	if "$VE_ROOT/tests/vm/build-module.sh" "$kdir" "$out" W=1 >"$log" 2>&1 &&
	   ! grep -q 'warning:' "$log"; then
		pass "$abi W=1: builds warning-free"
	else
		fail "$abi W=1: builds warning-free"
		sed 's/^/      /' "$log" | head -n 30
		continue
	fi
	vermagic=$(modinfo -F vermagic "$out/virt-enable.ko")
	if [ "${vermagic%% *}" = "$abi-amd64" ]; then
		pass "$abi: vermagic $abi-amd64"
	else
		fail "$abi: vermagic is '$vermagic'"
	fi
	if grep -q '^#define VE_HAVE_REGISTER_SYSCORE' "$out/compat/probed.h"; then
		new_syscore=$((new_syscore + 1))
	else
		old_syscore=$((old_syscore + 1))
	fi

	# make install: where modprobe looks, and known to depmod.
	root=$out.install
	rm -rf "$root"
	if make -s -C "$out" install KERNELDIR="$kdir" INSTALL_MOD_PATH="$root" \
		>"$log.install" 2>&1 &&
	   grep -qE '^(updates|extra)/virt-enable\.ko(\.xz|\.zst|\.gz)?:' \
		"$root/lib/modules/$abi-amd64/modules.dep"; then
		pass "$abi: make install puts the module in updates/ or extra/, in modules.dep"
	else
		fail "$abi: make install puts the module in updates/ or extra/, in modules.dep"
		sed 's/^/      /' "$log.install" | tail -n 20
	fi

	dkms_build "$abi" "$kdir"
done

# kvm_dkms ABI KERNEL_DIR: the patched KVM as a DKMS package against these
# headers, as a Debian user would build it: it builds, its vermagic is the
# kernel's, and kvm.ko keeps every exported symbol's CRC, so that Debian's
# other modules built against kvm.ko still load.
kvm_dkms() {
	local abi=$1 kdir=$2 root=$VE_CACHE/dkms-kvm/$1 version ko t log=$VE_CACHE/dkms-kvm/$1.log
	local symvers debian mismatches compared

	rm -rf "$root"
	mkdir -p "$root/tree"
	version=$(make -s -C "$VE_ROOT" kvm-dkms-install DESTDIR="$root" |
		  sed -n 's#now: dkms install virt_enable-kvm/##p')
	t=$SECONDS
	if [ -n "$version" ] &&
	   dkms add --dkmstree "$root/tree" --sourcetree "$root/usr/src" \
		-m virt_enable-kvm -v "$version" >"$log" 2>&1 &&
	   dkms build --dkmstree "$root/tree" --sourcetree "$root/usr/src" \
		-m virt_enable-kvm -v "$version" -k "$abi-amd64" \
		--kernelsourcedir "$kdir" >>"$log" 2>&1; then
		pass "$abi: dkms builds the patched kvm, kvm-intel, kvm-amd from linux-source ($((SECONDS - t)) s)"
	else
		fail "$abi: dkms builds the patched kvm, kvm-intel, kvm-amd from linux-source"
		sed 's/^/      /' "$log" | tail -n 20
		find "$root/tree" -name make.log -exec tail -n 20 {} \; 2>/dev/null | sed 's/^/      /'
		return
	fi
	for ko in kvm kvm-intel kvm-amd; do
		ko=$(find "$root/tree" -name "$ko.ko*" | head -n 1)
		vermagic=$(modinfo -F vermagic "$ko" 2>/dev/null)
		if [ "${vermagic%% *}" = "$abi-amd64" ]; then
			pass "$abi: DKMS-built $(basename "$ko") has vermagic $abi-amd64"
		else
			fail "$abi: DKMS-built $(basename "$ko") has vermagic '$vermagic'"
		fi
	done
	symvers=$(find "$root/tree" -name kvm.Module.symvers | head -n 1)
	debian=$kdir/Module.symvers
	compared=$(awk '$3 == "arch/x86/kvm/kvm"' "$debian" | wc -l)
	mismatches=$(awk 'NR == FNR { if ($3 == "arch/x86/kvm/kvm") crc[$2] = $1; next }
			  $2 in crc && crc[$2] != $1 { print $2 } $2 in crc { seen[$2] = 1 }
			  END { for (s in crc) if (!(s in seen)) print s " (missing)" }' \
		     "$debian" "${symvers:-/dev/null}")
	if [ -n "$symvers" ] && [ "$compared" -gt 0 ] && [ -z "$mismatches" ]; then
		pass "$abi: the patched kvm.ko keeps all $compared exported symbol CRCs of Debian's"
	else
		fail "$abi: the patched kvm.ko keeps Debian's exported symbol CRCs ($compared compared)"
		echo "$mismatches" | head -n 20 | sed 's/^/      /'
	fi
	echo "$root/tree" >"$VE_CACHE/dkms-kvm/$abi.tree"
}

kvm_dkms "${abis[1]}" "$(unpack "${abis[1]}")"

# The point of the older 6.12: both syscore APIs must have been compiled.
if [ "$new_syscore" -gt 0 ] && [ "$old_syscore" -gt 0 ]; then
	pass "both syscore APIs (register_syscore, register_syscore_ops) compiled"
else
	fail "both syscore APIs (register_syscore, register_syscore_ops) compiled"
fi

# Linux 7.1+ has the upstream API: simulated by giving the newest 6.12's
# headers an asm/virt.h that declares it.  The build must stop and say what
# to use instead.
abi=${abis[1]}
fake=$VE_CACHE/headers/upstream-x86-virt-ref
rm -rf "$fake"
cp -al "$VE_CACHE/headers/$abi" "$fake"
sed -i "s#^include .*/usr/src/#include $fake/usr/src/#" \
	"$fake/usr/src/linux-headers-$abi-amd64/Makefile"
cat >"$fake/usr/src/linux-headers-$abi-common/arch/x86/include/asm/virt.h" <<'EOF_VIRT_H'
/* What Linux 7.1 declares in arch/x86/include/asm/virt.h. */
int x86_virt_get_ref(int feat);
void x86_virt_put_ref(int feat);
EOF_VIRT_H
out=$VE_CACHE/build/headers-upstream-x86-virt-ref
if ! "$VE_ROOT/tests/vm/build-module.sh" "$fake/usr/src/linux-headers-$abi-amd64" "$out" \
	>"$out.log" 2>&1 && grep -q 'use x86_virt_get_ref()/x86_virt_put_ref()' "$out.log"; then
	pass "a kernel with x86_virt_get_ref() (7.1+): the build stops and says to use it"
else
	fail "a kernel with x86_virt_get_ref() (7.1+): the build stops and says to use it"
	sed 's/^/      /' "$out.log" | tail -n 10
fi

# modinfo: what a user sees of the module, on the newest 6.12 build.
ko=$VE_CACHE/build/headers-${abis[1]}/virt-enable.ko
version=$(git -C "$VE_ROOT" describe --tags --always --dirty)
for field in description license author; do
	if [ -n "$(modinfo -F "$field" "$ko" 2>/dev/null)" ]; then
		pass "modinfo shows the $field"
	else
		fail "modinfo shows the $field"
	fi
done
if [ "$(modinfo -F version "$ko" 2>/dev/null)" = "$version" ]; then
	pass "modinfo version is git describe ($version)"
else
	fail "modinfo version is '$(modinfo -F version "$ko" 2>/dev/null)', not $version"
fi
undescribed=$(modinfo -F parm "$ko" 2>/dev/null | grep -v '^[a-z_0-9]*:.*[a-zA-Z]' || true)
if [ -z "$undescribed" ]; then
	pass "modinfo: every parameter has a description ($(modinfo -F parm "$ko" | wc -l) parameters)"
else
	fail "modinfo: parameters without a description: $undescribed"
fi
