#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# intree.sh [--seed DIR] SERIES NAME FRAGMENT...: the in-tree build.  Put virt_enable
# and the KVM series into a copy of Debian's linux-source-SERIES with
# scripts/add-to-kernel-tree.sh --with-kvm, build the test kernel configured
# with the FRAGMENTs (tests/vm/config/intree-m.config: virt_enable as a
# module; intree-y.config: built in), and print the build directory.  The
# copy is made of hard links, so it costs little; every file the script
# changes gets an inode of its own.  One copy per series serves every NAME.
# --seed DIR: see build-kernel.sh.
set -euo pipefail
. "$(dirname "$0")/vm/lib.sh"

seed=()
if [ "${1:-}" = --seed ]; then seed=(--seed "$2"); shift 2; fi
series=${1:?usage: intree.sh [--seed DIR] SERIES NAME FRAGMENT...}
name=${2:?usage: intree.sh [--seed DIR] SERIES NAME FRAGMENT...}
shift 2

base=$("$VE_ROOT/tests/vm/source.sh" "$series")
tree=$VE_CACHE/intree/$(basename "$base")
if [ ! -f "$tree/.ve-tree" ]; then
	rm -rf "$tree" "$tree.tmp"
	mkdir -p "$(dirname "$tree")"
	cp -al "$base" "$tree.tmp"
	touch "$tree.tmp/.ve-tree"
	mv "$tree.tmp" "$tree"
fi
"$VE_ROOT/scripts/add-to-kernel-tree.sh" --with-kvm "$tree"
"$VE_ROOT/tests/vm/build-kernel.sh" "${seed[@]}" --source "$tree" "$name" "$series" "$@"
