#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# headers.sh
#
# Build virt_enable against Debian's own linux-headers packages, as users
# of distribution kernels will (with DKMS or by hand), at W=1, and fail on
# any warning.  Debian builds its kernels with gcc, and a module must be
# built with the kernel's compiler: clang is covered with a clang-built test
# kernel instead.  The packages
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

debs=$VE_CACHE/debs
mkdir -p "$debs"

pass() { echo "PASS: headers: $*"; }
fail() { echo "FAIL: headers: $*"; }

# flavours REGEX: the header ABIs (e.g. 6.12.117+deb12) matching REGEX, oldest first.
flavours() {
	apt-cache search --names-only "^linux-headers-$1-amd64\$" | awk '{ print $1 }' |
		sed 's/^linux-headers-//; s/-amd64$//' | sort -V
}

newest() { flavours "$1" | tail -n 1; }

# newest_before REGEX VERSION: the newest ABI that sorts before VERSION.
newest_before() {
	{ flavours "$1"; echo "$2"; } | sort -V | awk -v v="$2" '$0 == v { exit } { print }' |
		tail -n 1
}

# unpack ABI: download and unpack the headers for ABI (e.g. 6.12.117+deb12),
# print the kernel build directory.
unpack() {
	local abi=$1 root=$VE_CACHE/headers/$1 kbuild
	local kdir=$root/usr/src/linux-headers-$1-amd64

	if [ ! -f "$root/.ve-unpacked" ]; then
		case $abi in
		6.1.*) kbuild=linux-kbuild-6.1 ;;
		*) kbuild=linux-kbuild-$abi ;;
		esac
		(cd "$debs" && apt-get download -qq "linux-headers-$abi-amd64" \
			"linux-headers-$abi-common" "$kbuild" 2>/dev/null) || return 1
		rm -rf "$root"
		mkdir -p "$root"
		for deb in "$debs"/linux-headers-"$abi"-{amd64,common}_*.deb \
			   "$debs"/"$kbuild"_*.deb; do
			dpkg-deb -x "$deb" "$root" || return 1
		done
		# The flavour's Makefile includes the common tree by absolute path.
		sed -i "s#^include /usr/src/#include $root/usr/src/#" "$kdir/Makefile"
		touch "$root/.ve-unpacked"
	fi
	echo "$kdir"
}

abis=("$(newest '6\.1\.0-[0-9]*')" "$(newest '6\.12\.[0-9]*[+]deb12')"
      "$(newest_before '6\.12\.[0-9]*[+]deb12' 6.12.115)")
new_syscore=0
old_syscore=0

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
done

# The point of the older 6.12: both syscore APIs must have been compiled.
if [ "$new_syscore" -gt 0 ] && [ "$old_syscore" -gt 0 ]; then
	pass "both syscore APIs (register_syscore, register_syscore_ops) compiled"
else
	fail "both syscore APIs (register_syscore, register_syscore_ops) compiled"
fi
