#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vcpu0-repro.sh single|multi RUNS [stock]: boot the built-in 6.12 test
# kernel RUNS times in QEMU (4 CPUs) with the vcpuloops suite
# (tests/guest/vcpuloops.sh), single- or multi-threaded TCG, with the
# patched KVM or the unmodified one, and count the runs where a vCPU loop
# stopped and where it was.  Needs a make check that staged the built-in
# kernel (VE_CACHE's run/6.12-builtin).  The README's figures for
# "QEMU's TCG and KVM's guests" were measured with these rounds, two runs
# at a time.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 2 ] || ve_die "usage: vcpu0-repro.sh single|multi RUNS [stock]"
tcg=$1 runs=$2 mode=${3:-patched}
run=${VE_RUN:-$VE_CACHE/run}
out=$VE_CACHE/vcpu0-repro
kernel=$(ls -d "$VE_CACHE"/kernel/linux-6.12-*-kvm-builtin-* 2>/dev/null | head -n 1)
initrd=$run/6.12-builtin/initramfs.cpio
[ -f "$kernel/arch/x86/boot/bzImage" ] && [ -f "$initrd" ] ||
	ve_die "stage the built-in kernel first: GUESTS=6.12-builtin-svm SUITES=builtin make check"
mkdir -p "$out"
failed=0
for i in $(seq 1 "$runs"); do
	log=$out/$tcg-$mode-$i.log
	"$(dirname "$0")/boot.sh" qemu --tcg "$tcg" --cpus 4 --timeout 900 \
		--kernel "$kernel/arch/x86/boot/bzImage" --initrd "$initrd" --log "$log" \
		--append "printk.devkmsg=on ve.panic_on_warn=1 ve.suites=vcpuloops ve.feature=svm ve.kvm=percpu ve.vcpuloops=$([ "$mode" = stock ] && echo stock)" \
		>"$log.out" 2>&1 || true
	where=$(grep -m 1 -o 'vCPU loop r[0-9]* stalled at [0-9]* exits\|guest RIP .*' "$log" | tr '\n' ' ' || true)
	if grep -q 'VE: not ok' "$log" || ! grep -q 'VE: suite vcpuloops end' "$log"; then
		failed=$((failed + 1))
		echo "run $i: a vCPU loop stopped: ${where:-see $log}"
	else
		echo "run $i: every vCPU kept looping"
	fi
done
echo "$tcg-threaded TCG, $mode KVM: $failed of $runs runs with a vCPU loop that stopped"
