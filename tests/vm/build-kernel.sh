#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-kernel.sh SERIES [FRAGMENT...]
#
# Build a small x86_64 kernel from Debian's linux-source-SERIES, configured as
# tinyconfig plus tests/vm/config/base.config plus any extra FRAGMENTs, and
# print the build directory.  Builds are cached under $VE_CACHE, keyed on the
# source package version and the fragments' contents, so a changed config
# gets a new tree and an unchanged one costs nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

series=${1:?usage: build-kernel.sh SERIES [FRAGMENT...]}
shift
fragments=("$VE_ROOT/tests/vm/config/base.config" "$@")

pkg=linux-source-$series
version=$(ve_pkg_version "$pkg")
[ -n "$version" ] || ve_die "$pkg is not installed (run tests/vm/deps.sh)"

key=$(cat "${fragments[@]}" "$0" | sha256sum | cut -c1-12)
src=$VE_CACHE/src/linux-source-$series-$version
out=$VE_CACHE/kernel/linux-$series-$version-$key

if [ -f "$out/.ve-built" ]; then
	echo "$out"
	exit 0
fi

if [ ! -f "$src/.ve-extracted" ]; then
	ve_log "extracting $pkg $version"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -xJf "/usr/src/linux-source-$series.tar.xz" -C "$src.tmp" --strip-components=1
	touch "$src.tmp/.ve-extracted"
	mv "$src.tmp" "$src"
fi

ve_log "configuring linux $series ($version), config $key"
rm -rf "$out"
mkdir -p "$out"
make -s -C "$src" O="$out" ARCH=x86_64 tinyconfig >/dev/null
(cd "$out" && "$src/scripts/kconfig/merge_config.sh" -m -O "$out" .config "${fragments[@]}" >/dev/null)
make -s -C "$src" O="$out" ARCH=x86_64 olddefconfig >/dev/null

# Dependencies drop options silently: insist that every option asked for
# with a value survived.
missing=$(cat "${fragments[@]}" | grep -E '^CONFIG_[A-Z0-9_]+=' | sort -u |
	  while read -r line; do grep -qxF "$line" "$out/.config" || echo "$line"; done)
[ -z "$missing" ] || ve_die "options lost in olddefconfig: $(echo $missing)"

ve_log "building linux $series in $out"
make -s -C "$src" O="$out" ARCH=x86_64 -j"$VE_JOBS" bzImage modules >"$out/build.log" 2>&1 ||
	{ tail -n 40 "$out/build.log" >&2; ve_die "kernel build failed"; }
touch "$out/.ve-built"
echo "$out"
