#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh [--zstd] OUT.cpio STAGING_DIR
#
# Build a newc initramfs: busybox-static with its applet links,
# the usual empty directories, root and nobody in /etc/passwd and /etc/group,
# and STAGING_DIR (which provides /init and the test files) copied over the
# top with its modes kept.  No device nodes: the kernel mounts devtmpfs.
# Owners, timestamps and file order are fixed, so the same inputs give the
# same archive byte for byte.  --zstd compresses it (every test kernel
# unpacks zstd), for an archive that is hashed more often than unpacked.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

compress=cat
if [ "${1:-}" = --zstd ]; then compress="zstd -q -19 -T0"; shift; fi
[ $# -eq 2 ] || ve_die "usage: mkinitramfs.sh [--zstd] OUT.cpio STAGING_DIR"
out=$1
staging=$2
[ -d "$staging" ] || ve_die "$staging is not a directory"
[ -x "$staging/init" ] || ve_die "$staging/init is missing or not executable"

busybox=/bin/busybox
[ -n "$(ve_pkg_version busybox-static)" ] ||
	ve_die "busybox-static is not installed: the guest has no libc"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,root,etc,tmp}
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"
cp "$busybox" "$root/bin/busybox"
# --list-full gives each applet's usual location (bin/ls, usr/sbin/chroot...).
"$busybox" --list-full | while read -r applet; do
	[ -e "$root/$applet" ] || [ -L "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
EOF

cp -a --no-preserve=ownership "$staging/." "$root/"

# Reproducible: sorted names, root-owned, one fixed mtime, no inode/dev noise.
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --quiet --null -o -H newc -R 0:0 --reproducible | $compress) >"$tmp/out.cpio"
mv "$tmp/out.cpio" "$out"
