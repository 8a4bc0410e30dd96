#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-kernel.sh [--llvm] [--seed DIR] [--source DIR NAME] SERIES [FRAGMENT...]
#
# Build a small x86_64 kernel from Debian's linux-source-SERIES, configured
# as tinyconfig plus tests/vm/config/base.config, tests/vm/config/SERIES.config
# if there is one, plus any extra FRAGMENTs, and print the build directory.
#
#   --llvm          build with clang and the LLVM tools (LLVM=1)
#   --source DIR    build the kernel tree in DIR (a patched copy of that
#                   source, named NAME in the build directory) instead;
#                   since DIR may have changed, it is always re-made, which
#                   costs seconds when nothing did
#   --seed DIR      a new build starts as a copy of the built tree DIR (the
#                   same source, configured a few options apart): kbuild
#                   then recompiles only what the changed options reach,
#                   minutes instead of a whole kernel; "none" or a tree not
#                   built yet means a build from scratch
#
# Builds are cached under $VE_CACHE, keyed on the source package version,
# the fragments' contents and the compiler: a changed config gets a new
# tree, an unchanged one costs nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

make_args=(ARCH=x86_64)
flavour=
source=
seed=
while [ $# -gt 0 ]; do
	case $1 in
	--llvm) make_args+=(LLVM=1); flavour=$flavour-llvm; shift ;;
	--source) source=$2; flavour=$flavour-$3; shift 3 ;;
	--seed) seed=$2; shift 2 ;;
	*) break ;;
	esac
done
series=${1:?usage: build-kernel.sh [--llvm] [--seed DIR] [--source DIR NAME] SERIES [FRAGMENT...]}
shift
fragments=("$VE_ROOT/tests/vm/config/base.config")
[ ! -f "$VE_ROOT/tests/vm/config/$series.config" ] ||
	fragments+=("$VE_ROOT/tests/vm/config/$series.config")
for fragment in "$@"; do fragments+=("$(realpath "$fragment")"); done

src=$("$VE_ROOT/tests/vm/source.sh" "$series")
version=$(ve_pkg_version "linux-source-$series")
key=$({ cat "${fragments[@]}"; echo "${make_args[*]}"; } | sha256sum | cut -c1-12)
out=$VE_CACHE/kernel/linux-$series-$version$flavour-$key
[ -z "$source" ] || src=$source

kmake() { make -s -C "$src" O="$out" "${make_args[@]}" "$@"; }

# VE_TREE_ID: what the --source tree's kernel depends on, as the caller
# (tests/intree.sh) summed it up.  In the quick loop (VE_QUICK=1) a built
# kernel whose tree has not changed in that sense is not made again.
if [ -f "$out/.ve-built" ]; then
	if [ -n "$source" ] && { [ -z "${VE_QUICK:-}" ] || [ -z "${VE_TREE_ID:-}" ] ||
				 [ "$(cat "$out/.ve-tree-id" 2>/dev/null)" != "$VE_TREE_ID" ]; }; then
		rm -f "$out/.ve-tree-id"
		kmake -j"$VE_JOBS" bzImage modules >"$out/build.log" 2>&1 ||
			{ tail -n 40 "$out/build.log" >&2; ve_die "kernel build failed"; }
		[ -z "${VE_TREE_ID:-}" ] || echo "$VE_TREE_ID" >"$out/.ve-tree-id"
	fi
	echo "$out"
	exit 0
fi

ve_log "configuring linux $series ($version$flavour), config $key"
rm -rf "$out" "$out.tmp"
if [ -f "$seed/.ve-built" ]; then
	ve_log "starting from the built tree $seed"
	cp -a "$seed" "$out.tmp"
	rm -f "$out.tmp/.ve-built"
	# tools/ records absolute paths: a changed command line relinks
	# objtool, and every object depends on objtool.
	grep -rlF --include='*.cmd' "$seed" "$out.tmp" |
		xargs -r sed -i "s|$seed|$out|g"
	mv "$out.tmp" "$out"
else
	mkdir -p "$out"
fi
kmake tinyconfig >/dev/null
(cd "$out" && "$src/scripts/kconfig/merge_config.sh" -m -O "$out" .config "${fragments[@]}" >/dev/null)
kmake olddefconfig >/dev/null

# Dependencies drop options silently: insist that every option asked for
# with a value survived, as the last fragment to name it asked.
missing=$(cat "${fragments[@]}" |
	  sed -n 's/^\(CONFIG_[A-Z0-9_]*\)=.*/&/p; s/^# \(CONFIG_[A-Z0-9_]*\) is not set$/\1=n/p' |
	  awk -F= '{ want[$1] = $0 } END { for (k in want) print want[k] }' |
	  grep -v '=n$' | sort |
	  while read -r line; do grep -qxF "$line" "$out/.config" || echo "$line"; done)
[ -z "$missing" ] || ve_die "options lost in olddefconfig: $(echo $missing)"

ve_log "building linux $series$flavour in $out"
kmake -j"$VE_JOBS" bzImage modules >"$out/build.log" 2>&1 ||
	{ tail -n 40 "$out/build.log" >&2; ve_die "kernel build failed"; }
touch "$out/.ve-built"
[ -z "${VE_TREE_ID:-}" ] || echo "$VE_TREE_ID" >"$out/.ve-tree-id"
echo "$out"
