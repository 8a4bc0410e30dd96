#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# yardstick.sh: time a fixed reference workload and print its seconds.
#
# Debian's linux-source-6.12 configured with tinyconfig and built, with
# $VE_JOBS jobs, into a scratch directory that is removed afterwards.  No
# change to the test kernels, the module or the cache can make it cheaper:
# it is never cached (no ccache, nothing kept), so it costs the same cold
# or warm, and it exercises what a test run mostly spends its time on
# (compilers, make, the file system).  make check divides its total by it,
# so that runs on machines of different speeds can be compared.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

src=$("$VE_ROOT/tests/vm/source.sh" 6.12)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/ve-yardstick.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# The same compiler whatever PATH a caller has: no ccache links.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
started=$(date +%s.%N)
make -s -C "$src" O="$scratch" ARCH=x86_64 tinyconfig >/dev/null
make -s -C "$src" O="$scratch" ARCH=x86_64 -j"$VE_JOBS" >"$scratch/build.log" 2>&1 ||
	{ tail -n 20 "$scratch/build.log" >&2; ve_die "the yardstick build failed"; }
ended=$(date +%s.%N)
echo "$started $ended" | awk '{ printf "%.0f\n", $2 - $1 }'
