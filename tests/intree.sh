#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# intree.sh: the in-tree build.  Put virt_enable into a copy of Debian's
# 6.12 source with scripts/add-to-kernel-tree.sh, build the test kernel with
# CONFIG_VIRT_ENABLE=y (and its KUnit tests as a module), print the build
# directory.  The copy is made of hard links, so it costs little; every file
# the script writes gets an inode of its own.
set -euo pipefail
. "$(dirname "$0")/vm/lib.sh"

base=$("$VE_ROOT/tests/vm/source.sh" 6.12)
tree=$VE_CACHE/intree/$(basename "$base")
if [ ! -f "$tree/.ve-tree" ]; then
	rm -rf "$tree" "$tree.tmp"
	mkdir -p "$(dirname "$tree")"
	cp -al "$base" "$tree.tmp"
	touch "$tree.tmp/.ve-tree"
	mv "$tree.tmp" "$tree"
fi
"$VE_ROOT/scripts/add-to-kernel-tree.sh" "$tree"
"$VE_ROOT/tests/vm/build-kernel.sh" --source "$tree" intree 6.12 \
	"$VE_ROOT/tests/vm/config/intree.config"
