#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debian-kernel.sh SERIES
#
# Download and unpack Debian's own kernel image for SERIES (6.1 or 6.12),
# and print the directory holding it: boot/vmlinuz-RELEASE,
# boot/config-RELEASE and lib/modules/RELEASE/, RELEASE being e.g.
# 6.12.117+deb12-amd64.  The ABI is chosen as tests/headers.sh chooses the
# headers (the newest linux-headers-ABI-amd64 of the series), so image and
# headers match.  The unsigned image package is preferred; the signed one
# is the same kernel with a signature on vmlinuz (the modules are signed
# in both).  Unpacked once, with depmod run on it, under
# $VE_CACHE/debian-image/ABI; the .deb is kept in $VE_CACHE/debs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

series=${1:-}
case $series in
6.1)  regex='6\.1\.0-[0-9]*' ;;
6.12) regex='6\.12\.[0-9]*[+]deb12' ;;
*) ve_die "usage: debian-kernel.sh 6.1|6.12" ;;
esac

# The newest header ABI of the series, as tests/headers.sh picks it.
abi=$(apt-cache search --names-only "^linux-headers-$regex-amd64\$" | awk '{ print $1 }' |
	sed 's/^linux-headers-//; s/-amd64$//' | sort -V | tail -n 1)
[ -n "$abi" ] || ve_die "no linux-headers-*-amd64 package for $series in apt"

root=$VE_CACHE/debian-image/$abi
if [ ! -f "$root/.ve-unpacked" ]; then
	pkg=linux-image-$abi-amd64-unsigned
	[ -n "$(apt-cache search --names-only "^${pkg//+/[+]}\$")" ] ||
		pkg=linux-image-$abi-amd64
	debs=$VE_CACHE/debs
	mkdir -p "$debs"
	# -o APT::Sandbox::User=root: the _apt user may not reach $VE_CACHE.
	ls "$debs/${pkg}"_*.deb >/dev/null 2>&1 ||
		(cd "$debs" && apt-get download -qq -o APT::Sandbox::User=root "$pkg" >&2) ||
		ve_die "apt-get download $pkg failed"
	deb=$(ls "$debs/${pkg}"_*.deb | sort -V | tail -n 1)
	rm -rf "$root"
	mkdir -p "$root"
	dpkg-deb -x "$deb" "$root"
	# Merged /usr: modules may come under usr/lib; give them one place.
	if [ ! -d "$root/lib/modules" ] && [ -d "$root/usr/lib/modules" ]; then
		mkdir -p "$root/lib"
		ln -s ../usr/lib/modules "$root/lib/modules"
	fi
	if [ ! -f "$root/boot/vmlinuz-$abi-amd64" ] || [ ! -d "$root/lib/modules/$abi-amd64" ]; then
		ve_die "$deb has no boot/vmlinuz-$abi-amd64 or lib/modules/$abi-amd64"
	fi
	# The package has no modules.dep (its postinst runs depmod): make it.
	depmod -b "$root" "$abi-amd64"
	touch "$root/.ve-unpacked"
fi
echo "$root"
