#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh [svm|vmx]: `make bench`.  Two kernels, each running the
# benchmark module (tests/modules/ve_bench.c) at full length
# (tests/guest/bench.sh), never with more vCPUs than the host has cores:
#   - the 6.12 test kernel (lockdep, no jump labels), QEMU with 2 CPUs and
#     multi-threaded TCG (so the scaling line means something), or Bochs
#     with 2 for VMX; then KVM's and ve_hv2's guest round trips;
#   - for SVM, Debian's own 6.12 kernel (jump labels, no lockdep) with the
#     DKMS-built module, single-threaded TCG: the production-like figures.
# Prints each kernel's table: every pair's median and spread next to its
# anchor's, measured in the same rounds, and their ratio; the components;
# the scaling line.
set -euo pipefail
. "$(dirname "$0")/vm/lib.sh"

feature=${1:-svm}
vm=$VE_ROOT/tests/vm
run=$VE_CACHE/bench
cpus=$(( $(nproc) < 2 ? $(nproc) : 2 ))

case $feature in
svm) boot=("$vm/boot.sh" qemu --cpus "$cpus" --tcg multi --timeout 1800) ;;
vmx) boot=("$vm/boot.sh" bochs --cpus 2 --timeout 3600) ;;
*) ve_die "usage: bench.sh [svm|vmx]" ;;
esac

# table LOG TITLE: the benchmark's lines of a guest log as a table.
table() {
	echo
	echo "$2"
	printf '%-4s %-14s %8s %8s %8s  %-15s %8s %8s %8s %6s\n' cpus what ns p10 p90 anchor ns p10 p90 ratio
	sed -n 's/.*VE: bench: //p' "$1" | awk '
		$1 == "rounds" { cpus = $4 }
		$1 == "pair" { printf "%-4s %-14s %8s %8s %8s  %-15s %8s %8s %8s %6.2f\n",
			cpus, $2, $4, $6, $8, $10, $12, $14, $16, $18 / 100 }
		$1 == "component" { printf "%-4s %-14s %8s %8s %8s\n", cpus, $2, $4, $6, $8 }
		$1 == "scaling" { printf "%-4s scaling %s: one CPU %s ns, all %s at once %s ns (%.2f)\n",
			cpus, $2, $6, $4, $8, $10 / 100 }'
}

"$vm/deps.sh"
mkdir -p "$run"
kdir=$("$VE_ROOT/tests/intree.sh" 6.12 kvm "$vm/config/intree-m.config")
"$vm/stage.sh" "$kdir" "$run" >"$run.stage.log" 2>&1 ||
	{ tail -n 30 "$run.stage.log"; ve_die "staging the guest failed"; }

ve_log "booting a $feature guest (test kernel) for the benchmark"
"${boot[@]}" --kernel "$kdir/arch/x86/boot/bzImage" --initrd "$run/initramfs.cpio" \
	--log "$run/guest.log" \
	--append "printk.devkmsg=on ve.panic_on_warn=1 ve.suites=bench ve.bench=full ve.feature=$feature ve.kvm=percpu" \
	>"$run/boot.out" 2>&1 || { cat "$run/boot.out"; ve_die "the guest did not run to the end"; }
grep -q 'VE: suite bench end rc=0' "$run/guest.log" ||
	{ grep 'VE: ' "$run/guest.log"; ve_die "the benchmark suite failed"; }
"$vm/check-log.sh" "$run/guest.log" || ve_die "the guest log shows a warning or oops"

if [ "$feature" = svm ]; then
	ve_log "booting Debian's 6.12 with the DKMS module for the benchmark"
	VE_RUN=$run/debian DEBIAN_SERIES=6.12 DEBIAN_SUITES=bench DEBIAN_CPUS=$cpus \
		DEBIAN_APPEND=ve.bench=full "$VE_ROOT/tests/debian.sh" >"$run/debian.out" 2>&1 || true
	if grep -q '^FAIL' "$run/debian.out"; then
		grep '^FAIL' "$run/debian.out"
		ve_die "the benchmark on Debian's kernel failed"
	fi
fi

echo "virt_enable reference costs, $feature, $(uname -m) host $(nproc) cores, $(date -u +%F)"
echo "(ns per operation, medians of the rounds with their 10th/90th percentiles;"
echo " ratio = median / anchor's median, both measured in the same rounds)"
table "$run/guest.log" "the 6.12 test kernel (lockdep, no jump labels), $cpus CPUs:"
if [ "$feature" = svm ]; then
	table "$(ls "$run"/debian/debian-6.12-svm.log)" \
		"Debian's 6.12 kernel (jump labels, no lockdep) with the DKMS module, $cpus CPUs, single-threaded TCG:"
fi
sed -n 's/.*VE: bench: round_trip kvm_ns \([0-9?]*\) ve_hv2_ns \([0-9?]*\).*/\1 \2/p' "$run/guest.log" |
	while read -r kvm hv2; do
		echo "guest round trip on CPU 1: KVM $kvm ns (a CPUID, handled in KVM);" \
			"ve_hv2 $hv2 ns (a hypercall, handled in ve_hv2, inside one window)"
	done
