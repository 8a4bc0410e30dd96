#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh: install, from Debian's packages, whatever the test suite needs and
# this machine lacks.  Cheap when everything is there already.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

packages=(
	# kernel and module builds
	build-essential bc bison flex libelf-dev libssl-dev cpio xz-utils
	dwarves lz4 zstd kmod linux-source-6.12
	linux-source-6.1 clang lld llvm
	# guests
	qemu-system-x86 bochs bochs-term bochsbios vgabios isolinux
	syslinux-common xorriso busybox-static bsdutils procps kexec-tools
	makedumpfile
	# checks, documentation and packaging
	sparse dkms perl python3-sphinx python3-alabaster debhelper dh-dkms lintian
)

missing=()
for pkg in "${packages[@]}"; do
	dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q ' installed$' ||
		missing+=("$pkg")
done
# tests/headers.sh downloads header packages: their lists must be there.
lists=$(apt-cache search --names-only '^linux-headers-6\.1[.2]' | wc -l)
[ ${#missing[@]} -eq 0 ] && [ "$lists" -gt 0 ] && exit 0

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
[ ${#missing[@]} -eq 0 ] && exit 0
ve_log "installing ${missing[*]}"
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
