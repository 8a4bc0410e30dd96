#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build.sh VERSION OUTDIR: the virt-enable-dkms Debian package of this
# tree, built with Debian's own tooling (debhelper, dh-dkms) in a scratch
# tree, its files (.deb, .buildinfo, .changes) moved to OUTDIR, then
# checked with lintian.  `make deb` calls it.
set -eu

[ $# -eq 2 ] || { echo "usage: build.sh VERSION OUTDIR" >&2; exit 2; }
version=$1
out=$(mkdir -p "$2" && cd "$2" && pwd)
repo=$(cd "$(dirname "$0")/../.." && pwd)
for tool in dpkg-buildpackage dh dh_dkms lintian; do
	command -v "$tool" >/dev/null || {
		echo "build.sh: $tool is missing: apt install debhelper dh-dkms lintian" >&2
		exit 1
	}
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tree=$tmp/virt-enable-$version

# The package's own source tree: what DKMS needs, the make rule that
# installs it, and the packaging.
make -s -C "$repo" sources SOURCES_DIR="$tree" VERSION="$version"
install -m 0644 "$repo/Makefile" "$tree/"
cp -r "$repo/scripts/deb/debian" "$tree/"
# dh_dkms fills in the version.
sed 's/@VERSION@/#MODULE_VERSION#/' "$repo/dkms.conf" >"$tree/debian/virt-enable-dkms.dkms"
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
date=$(date -R -d "@$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)")
sed -e "s/@VERSION@/$version/" -e "s/@COMMIT@/$commit/" -e "s/@DATE@/$date/" \
	"$tree/debian/changelog.in" >"$tree/debian/changelog"
rm "$tree/debian/changelog.in"

(cd "$tree" && dpkg-buildpackage --build=binary --no-sign) >"$tmp/build.log" 2>&1 ||
	{ cat "$tmp/build.log" >&2; exit 1; }
mv "$tmp"/virt-enable*_"$version"_*.{deb,buildinfo,changes} "$out/"
deb=$out/virt-enable-dkms_${version}_all.deb
lintian --fail-on error,warning --suppress-tags initial-upload-closes-no-bugs "$deb"
echo "$deb"
