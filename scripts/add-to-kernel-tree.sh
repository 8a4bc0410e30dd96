#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# add-to-kernel-tree.sh [--link] KERNEL_TREE
#
# Put virt_enable into KERNEL_TREE/drivers/virt/virt_enable/ and hook it into
# drivers/virt/Kconfig (under "Virtualization drivers") and
# drivers/virt/Makefile, so that CONFIG_VIRT_ENABLE (y or m) and
# CONFIG_VIRT_ENABLE_KUNIT_TEST are chosen like any other option.  Copies
# the sources, or with --link symlinks them, for working on virt_enable from
# inside a kernel tree.  Running it again updates the copy and hooks nothing
# twice.
set -eu

link=
if [ "${1:-}" = --link ]; then
	link=1
	shift
fi
tree=$(cd "${1:?usage: add-to-kernel-tree.sh [--link] KERNEL_TREE}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
dest=$tree/drivers/virt/virt_enable

[ -f "$tree/drivers/virt/Kconfig" ] && [ -f "$tree/drivers/virt/Makefile" ] || {
	echo "add-to-kernel-tree.sh: $tree is not a kernel source tree" >&2
	exit 1
}

cd "$src"
for file in Kbuild Kconfig *.c *.h compat/compat.h compat/probe.sh \
	    compat/probes/*.c tests/kunit/*.c; do
	mkdir -p "$dest/$(dirname "$file")"
	if [ -n "$link" ]; then
		ln -sfn "$src/$file" "$dest/$file"
	elif ! cmp -s "$file" "$dest/$file"; then
		# Never write through a hard link into a tree this one shares.
		cp --remove-destination "$file" "$dest/$file"
	fi
done
version=$(git -C "$src" describe --tags --always --dirty 2>/dev/null || cat VERSION)
[ "$(cat "$dest/VERSION" 2>/dev/null)" = "$version" ] || echo "$version" >"$dest/VERSION"

# Inside "if VIRT_DRIVERS": drivers/Makefile enters drivers/virt/ only then.
kconfig=$tree/drivers/virt/Kconfig
if ! grep -q 'drivers/virt/virt_enable/Kconfig' "$kconfig"; then
	last_endif=$(grep -n '^endif' "$kconfig" | tail -n 1 | cut -d: -f1)
	sed -i "${last_endif}i source \"drivers/virt/virt_enable/Kconfig\"\n" "$kconfig"
fi
makefile=$tree/drivers/virt/Makefile
grep -q 'virt_enable/' "$makefile" ||
	sed -i '$a obj-$(CONFIG_VIRT_ENABLE)\t\t+= virt_enable/' "$makefile"
