#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# add-to-kernel-tree.sh [--link] [--with-kvm] KERNEL_TREE
#
# Put virt_enable into KERNEL_TREE/drivers/virt/virt_enable/ and hook it into
# drivers/virt/Kconfig (under "Virtualization drivers") and
# drivers/virt/Makefile, so that CONFIG_VIRT_ENABLE (y or m) and
# CONFIG_VIRT_ENABLE_KUNIT_TEST are chosen like any other option.  Copies
# the sources, or with --link symlinks them, for working on virt_enable from
# inside a kernel tree.
#
#   --with-kvm   also make KVM a virt_enable user: install the public header
#                as include/linux/virt_enable.h and apply the KVM series for
#                the tree's kernel series (kvm/6.12/, kvm/6.1/).  KVM_INTEL
#                and KVM_AMD then depend on VIRT_ENABLE.
#
# Running it again updates the copy and hooks or patches nothing twice.
# Files it changes get an inode of their own first, so a tree made of hard
# links to another one (cp -al) never writes into that other tree.
set -eu

link=
with_kvm=
while [ $# -gt 0 ]; do
	case $1 in
	--link) link=1; shift ;;
	--with-kvm) with_kvm=1; shift ;;
	*) break ;;
	esac
done
tree=$(cd "${1:?usage: add-to-kernel-tree.sh [--link] [--with-kvm] KERNEL_TREE}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
dest=$tree/drivers/virt/virt_enable

[ -f "$tree/drivers/virt/Kconfig" ] && [ -f "$tree/drivers/virt/Makefile" ] || {
	echo "add-to-kernel-tree.sh: $tree is not a kernel source tree" >&2
	exit 1
}

# own FILE...: give each existing FILE an inode of its own before it changes.
own() {
	for f in "$@"; do
		[ -f "$f" ] || continue
		cp -p "$f" "$f.ve-own" && mv -f "$f.ve-own" "$f"
	done
}

# install_file SRC DEST: copy (or link) SRC to DEST if it differs.
install_file() {
	mkdir -p "$(dirname "$2")"
	if [ -n "$link" ]; then
		ln -sfn "$1" "$2"
	elif ! cmp -s "$1" "$2"; then
		cp --remove-destination "$1" "$2"
	fi
}

cd "$src"
for file in Kbuild Kconfig *.c *.h compat/compat.h compat/probe.sh \
	    compat/probes/*.c tests/kunit/*.[ch] tests/kunit/core/*.[ch]; do
	install_file "$src/$file" "$dest/$file"
done
version=$(git -C "$src" describe --tags --always --dirty 2>/dev/null || cat VERSION)
[ "$(cat "$dest/VERSION" 2>/dev/null)" = "$version" ] || echo "$version" >"$dest/VERSION"

# Inside "if VIRT_DRIVERS": drivers/Makefile enters drivers/virt/ only then.
kconfig=$tree/drivers/virt/Kconfig
if ! grep -q 'drivers/virt/virt_enable/Kconfig' "$kconfig"; then
	own "$kconfig"
	last_endif=$(grep -n '^endif' "$kconfig" | tail -n 1 | cut -d: -f1)
	sed -i "${last_endif}i source \"drivers/virt/virt_enable/Kconfig\"\n" "$kconfig"
fi
makefile=$tree/drivers/virt/Makefile
if ! grep -q 'virt_enable/' "$makefile"; then
	own "$makefile"
	sed -i '$a obj-$(CONFIG_VIRT_ENABLE)\t\t+= virt_enable/' "$makefile"
fi

[ -n "$with_kvm" ] || exit 0

install_file "$src/virt_enable.h" "$tree/include/linux/virt_enable.h"
series=$(sed -n 's/^VERSION = //p' "$tree/Makefile").$(sed -n 's/^PATCHLEVEL = //p' "$tree/Makefile")
[ -d "$src/kvm/$series" ] || {
	echo "add-to-kernel-tree.sh: no KVM series for Linux $series in $src/kvm/" >&2
	exit 1
}
for patch in "$src/kvm/$series"/*.patch; do
	if patch -d "$tree" -p1 -R -s -f --dry-run <"$patch" >/dev/null 2>&1; then
		continue	# applied already
	fi
	own $(sed -n 's#^+++ b/\([^[:space:]]*\).*#'"$tree"'/\1#p' "$patch")
	patch -d "$tree" -p1 -s -N <"$patch"
done
