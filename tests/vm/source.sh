#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# source.sh SERIES: extract Debian's linux-source-SERIES once, under
# $VE_CACHE/src keyed on the package version, and print its directory.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

series=${1:?usage: source.sh SERIES}
pkg=linux-source-$series
version=$(ve_pkg_version "$pkg")
[ -n "$version" ] || ve_die "$pkg is not installed (run tests/vm/deps.sh)"
src=$VE_CACHE/src/linux-source-$series-$version

if [ ! -f "$src/.ve-extracted" ]; then
	ve_log "extracting $pkg $version"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -xJf "/usr/src/linux-source-$series.tar.xz" -C "$src.tmp" --strip-components=1
	touch "$src.tmp/.ve-extracted"
	mv "$src.tmp" "$src"
fi
echo "$src"
