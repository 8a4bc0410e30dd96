#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debian-initramfs.sh [--decompress] IMAGE_DIR OUT.cpio STAGING_DIR MODULE...
#
# Build an initramfs for a Debian kernel image unpacked by debian-kernel.sh:
# STAGING_DIR (the guest's /init and test files, as stage.sh makes them)
# plus, under lib/modules/RELEASE/, the named modules of the image with
# everything they depend on (resolved with the image's modules.dep), then
# depmod, then tests/vm/mkinitramfs.sh.  A MODULE with a slash in it, or
# ending in .ko(.xz|.zst|.gz), is a module file of ours (a DKMS build, say)
# and goes to lib/modules/RELEASE/updates/.
#
# Debian's 6.12 ships its modules as .ko.xz: they stay compressed only if
# the image's config lets the kernel decompress them itself
# (CONFIG_MODULE_DECOMPRESS and the matching CONFIG_MODULE_COMPRESS_*);
# otherwise they are decompressed to .ko.  --decompress always decompresses:
# the guest's busybox modprobe never uses the kernel's decompression (its
# finit_module of a .ko.xz fails with "Invalid ELF header magic: != ELF" in
# dmesg, then it decompresses in the guest and uses init_module), and in
# Bochs that decompression is slow.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

decompress=
[ "${1:-}" != --decompress ] || { decompress=1; shift; }
[ $# -ge 3 ] || ve_die "usage: debian-initramfs.sh [--decompress] IMAGE_DIR OUT.cpio STAGING_DIR MODULE..."
image=$1 out=$2 staging=$3
shift 3
[ -d "$image" ] || ve_die "$image is not a directory"
[ -d "$staging" ] || ve_die "$staging is not a directory"
image=$(realpath "$image")

releases=("$image"/lib/modules/*)
if [ ${#releases[@]} -ne 1 ] || [ ! -d "${releases[0]}" ]; then
	ve_die "$image: expected exactly one lib/modules/RELEASE"
fi
release=$(basename "${releases[0]}")
config=$image/boot/config-$release
[ -f "$config" ] || ve_die "no $config"
[ -f "$image/lib/modules/$release/modules.dep" ] || depmod -b "$image" "$release"

# kernel_reads SUFFIX: whether the kernel decompresses modules of that kind.
kernel_reads() {
	local type
	[ -z "$decompress" ] || return 1
	case $1 in
	xz) type=XZ ;; zst) type=ZSTD ;; gz) type=GZIP ;; *) return 1 ;;
	esac
	grep -qx CONFIG_MODULE_DECOMPRESS=y "$config" &&
		grep -qx "CONFIG_MODULE_COMPRESS_$type=y" "$config"
}

# put FILE DEST: copy a module to DEST (a path ending in .ko or .ko.SUFFIX),
# decompressed if the kernel cannot read it compressed.
put() {
	local file=$1 dest=$2 suffix=${2##*.}
	mkdir -p "$(dirname "$dest")"
	if [ "$suffix" = ko ] || kernel_reads "$suffix"; then
		cp "$file" "$dest"
		return
	fi
	case $suffix in
	xz) xz -dc "$file" ;;
	zst) zstd -qdc "$file" ;;
	gz) gzip -dc "$file" ;;
	*) ve_die "$file: not a module file" ;;
	esac >"${dest%.*}"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root"
cp -a --no-preserve=ownership "$staging/." "$root/"
mods=$root/lib/modules/$release
mkdir -p "$mods"
for f in modules.builtin modules.builtin.modinfo modules.order; do
	[ ! -f "$image/lib/modules/$release/$f" ] || cp "$image/lib/modules/$release/$f" "$mods/"
done

for m in "$@"; do
	case $m in
	*/* | *.ko | *.ko.xz | *.ko.zst | *.ko.gz)
		[ -f "$m" ] || ve_die "no module file $m"
		put "$m" "$mods/updates/$(basename "$m")"
		continue ;;
	esac
	# "insmod PATH" for the module and each dependency, "builtin NAME"
	# for those built in.
	deps=$(modprobe -d "$image" -S "$release" --show-depends "$m" 2>&1) ||
		ve_die "$release has no module $m: $deps"
	while read -r kind path _; do
		[ "$kind" = insmod ] || continue
		rel=${path#"$image"/lib/modules/"$release"/}
		[ -e "$mods/$rel" ] || [ -e "$mods/${rel%.*}" ] || put "$path" "$mods/$rel"
	done <<<"$deps"
done

depmod -b "$root" "$release"
"$VE_ROOT/tests/vm/mkinitramfs.sh" "$out" "$root"
