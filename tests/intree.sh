#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# intree.sh [--llvm] [--seed DIR] SERIES NAME FRAGMENT...: the in-tree
# build.  Put virt_enable and the KVM series into a copy of Debian's
# linux-source-SERIES with scripts/add-to-kernel-tree.sh --with-kvm, build
# the test kernel configured with the FRAGMENTs
# (tests/vm/config/intree-m.config: virt_enable as a module; intree-y.config:
# built in), and print the build directory.  The copy is made of hard
# links, so it costs little; every file the script changes gets an inode of
# its own.  One copy per series serves every NAME.
# --llvm, --seed DIR: see build-kernel.sh.
set -euo pipefail
. "$(dirname "$0")/vm/lib.sh"

build_opts=()
if [ "${1:-}" = --llvm ]; then build_opts=(--llvm); shift; fi
if [ "${1:-}" = --seed ]; then build_opts+=(--seed "$2"); shift 2; fi
series=${1:?usage: intree.sh [--llvm] [--seed DIR] SERIES NAME FRAGMENT...}
name=${2:?usage: intree.sh [--llvm] [--seed DIR] SERIES NAME FRAGMENT...}
shift 2

base=$("$VE_ROOT/tests/vm/source.sh" "$series")
tree=$VE_CACHE/intree/$(basename "$base")
# The KVM series in the tree must be exactly the repository's: a changed
# series cannot be applied over the one applied before, so the copy is
# made again, and every file either series touches is marked newer than
# its objects (a file the new series no longer patches comes back with the
# source's old timestamp, which make would not see as a change).
series_files() { sed -n 's#^+++ b/\([^[:space:]]*\).*#\1#p' "$@" | sort -u; }
patches=("$VE_ROOT/kvm/$series"/*.patch)
series_id=$(cat "${patches[@]}" | sha256sum | cut -c1-12)
touched=
if [ -f "$tree/.ve-tree" ] && [ "$(cat "$tree/.ve-kvm-series" 2>/dev/null)" != "$series_id" ]; then
	touched=$(cat "$tree/.ve-kvm-files" 2>/dev/null || true)
	rm -rf "$tree"
fi
if [ ! -f "$tree/.ve-tree" ]; then
	rm -rf "$tree" "$tree.tmp"
	mkdir -p "$(dirname "$tree")"
	cp -al "$base" "$tree.tmp"
	touch "$tree.tmp/.ve-tree"
	mv "$tree.tmp" "$tree"
fi
"$VE_ROOT/scripts/add-to-kernel-tree.sh" --with-kvm "$tree"
series_files "${patches[@]}" >"$tree/.ve-kvm-files"
for f in $touched $(cat "$tree/.ve-kvm-files"); do
	[ -z "$touched" ] || [ ! -f "$tree/$f" ] || {
		cp -p "$tree/$f" "$tree/$f.ve-own" && mv -f "$tree/$f.ve-own" "$tree/$f" && touch "$tree/$f"
	}
done
echo "$series_id" >"$tree/.ve-kvm-series"

# What the kernel proper depends on, for the quick loop (build-kernel.sh):
# everything the tree got from us but, where virt_enable is a module,
# its own .c files, whose module stage.sh builds and installs instead.
own_c=()
grep -qx 'CONFIG_VIRT_ENABLE=y' "$@" 2>/dev/null || own_c=(--exclude='*.c' --exclude=VERSION)
VE_TREE_ID=$({ echo "$series_id"; cat "$@";
	       tar -C "$tree" -cf - --sort=name --mtime=@0 --owner=0 --group=0 "${own_c[@]}" \
		   drivers/virt/virt_enable include/linux/virt_enable.h; } | sha256sum | cut -c1-12)
export VE_TREE_ID
"$VE_ROOT/tests/vm/build-kernel.sh" "${build_opts[@]}" --source "$tree" "$name" "$series" "$@"
