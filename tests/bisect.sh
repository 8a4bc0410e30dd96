#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bisect.sh KERNEL_6.12 KERNEL_6.1: every prefix of each KVM series builds.
# For kvm/6.12 and kvm/6.1, builds kvm.ko, kvm-intel.ko and kvm-amd.ko with
# the series' first 1, 2, ... patches (kvm/build-kvm.sh --first) against
# that series' built test kernel, with its compiler, and requires each
# build to succeed without a warning and to import nothing the kernel
# lacks: a series a reviewer can bisect.  One build directory per series,
# so each prefix recompiles only what its patch changed.  (That KVM also
# works after each patch was shown by hand, in QEMU and Bochs, at c040b2c.)
# One PASS/FAIL line per prefix.
set -uo pipefail
. "$(dirname "$0")/vm/lib.sh"

passed=0 failed=0
pass() { echo "PASS: bisect: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: bisect: $*"; failed=$((failed + 1)); }

bisect() {
	local series=$1 kdir=$2 out=$VE_CACHE/bisect/$1 n total patch log

	total=$(find "$VE_ROOT/kvm/$series" -name '*.patch' | wc -l)
	mkdir -p "$out"
	if [ ! -f "$kdir/Module.symvers" ]; then
		fail "$series: no built test kernel at '$kdir'"
		return
	fi
	for n in $(seq 1 "$total"); do
		patch=$(find "$VE_ROOT/kvm/$series" -name '*.patch' | sort | sed -n "${n}p")
		patch=$(basename "$patch" .patch)
		log=$out/build.log
		# Without a symbol file of its own, modpost only warns about an
		# import the kernel's Module.symvers (virt_enable is in tree) lacks.
		rm -f "$log"
		if "$VE_ROOT/kvm/build-kvm.sh" --first "$n" "$series" "$kdir" "$out" \
			>"$out.err" 2>&1 && ! grep -qi 'warning' "$log"; then
			pass "$series up to $patch builds warning-free"
		else
			fail "$series up to $patch builds warning-free"
			# The build's log, or why there was none (a patch that
			# does not apply).
			[ -s "$log" ] || log=$out.err
			grep -m 20 -i -e 'warning' -e 'error' "$log" | sed 's/^/      /'
		fi
	done
}

bisect 6.12 "${1:?usage: bisect.sh KERNEL_6.12 KERNEL_6.1}"
bisect 6.1 "${2:?usage: bisect.sh KERNEL_6.12 KERNEL_6.1}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
