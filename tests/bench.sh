#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh [svm|vmx]: `make bench`.  Boot the 6.12 test kernel (QEMU with
# 8 CPUs for SVM, the default; Bochs with 2 for VMX), run the benchmark
# module (tests/modules/ve_bench.c) at full length with 1, 2, 4 and 8 CPUs
# online (tests/guest/bench.sh), and print its table: each measurement's
# median next to the anchor measured in the same run, and their ratio.
set -euo pipefail
. "$(dirname "$0")/vm/lib.sh"

feature=${1:-svm}
vm=$VE_ROOT/tests/vm
run=$VE_CACHE/bench

case $feature in
svm) boot=("$vm/boot.sh" qemu --cpus 8 --timeout 900) ;;
vmx) boot=("$vm/boot.sh" bochs --cpus 2 --timeout 2400) ;;
*) ve_die "usage: bench.sh [svm|vmx]" ;;
esac

"$vm/deps.sh"
mkdir -p "$run"
kdir=$("$VE_ROOT/tests/intree.sh" 6.12 kvm "$vm/config/intree-m.config")
"$vm/stage.sh" "$kdir" "$run" >"$run.stage.log" 2>&1 ||
	{ tail -n 30 "$run.stage.log"; ve_die "staging the guest failed"; }

ve_log "booting a $feature guest for the benchmark"
"${boot[@]}" --kernel "$kdir/arch/x86/boot/bzImage" --initrd "$run/initramfs.cpio" \
	--log "$run/guest.log" \
	--append "printk.devkmsg=on ve.panic_on_warn=1 ve.suites=bench ve.bench=full ve.feature=$feature" \
	>"$run/boot.out" 2>&1 || { cat "$run/boot.out"; ve_die "the guest did not run to the end"; }

grep -q 'VE: suite bench end rc=0' "$run/guest.log" ||
	{ grep 'VE: ' "$run/guest.log"; ve_die "the benchmark suite failed"; }
"$vm/check-log.sh" "$run/guest.log" || ve_die "the guest log shows a warning or oops"

echo "virt_enable reference costs, $feature, $(uname -m) host $(nproc) cores, $(date -u +%F)"
echo "(ratio = median / anchor, both measured in the same guest run)"
printf '%-5s %-10s %12s %12s %7s\n' cpus what median_ns anchor_ns ratio
sed -n 's/.*VE: bench: //p' "$run/guest.log" | awk '
	$1 == "rounds" { cpus = $4 }
	$2 == "median_ns" { printf "%-5s %-10s %12s %12s %7.2f\n", cpus, $1, $3, $5, $7 / 100 }'
sed -n 's/.*VE: bench: round_trip kvm_ns \([0-9?]*\) ve_hv2_ns \([0-9?]*\).*/\1 \2/p' "$run/guest.log" |
	while read -r kvm hv2; do
		echo "guest round trip on CPU 1: KVM $kvm ns (a CPUID, handled in KVM);" \
			"ve_hv2 $hv2 ns (a hypercall, handled in ve_hv2, inside one window)"
	done
