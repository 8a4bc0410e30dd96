# SPDX-License-Identifier: GPL-2.0
# The benchmark (tests/modules/ve_bench.c) with 1, 2, 4, 8 CPUs online, as
# many as the guest has; then a guest round trip of KVM and of the second
# hypervisor.  ve.bench=full (make bench): 201 rounds, and the table on the
# log; otherwise a quick sanity pass: the numbers are there and positive,
# nothing splats.
. /tests/lib.sh
VE_SUITE=bench
B=/sys/kernel/debug/ve_bench/run
rounds=$([ "$(ve_param ve.bench)" = full ] && echo 201 || echo 11)
all=$(ve_online_cpus | wc -l)
pairs=$([ "$VE_FEATURE" = svm ] && echo 4 || echo 3)

ve_load
ve_check "the benchmark module loads" modprobe ve_bench
ve_check "a run of fewer than 10 rounds is refused" eval '! echo 9 >$B 2>/dev/null'
for n in 1 2 4 8; do
	[ "$n" -le "$all" ] || break
	cpu=1
	while [ "$cpu" -lt "$all" ]; do
		ve_set_online "$cpu" $([ "$cpu" -lt "$n" ] && echo 1 || echo 0)
		cpu=$((cpu + 1))
	done
	# Let the CPUs that came and went settle (RCU, timers, workqueues).
	sleep 1
	ve_check "$n CPUs: a run of $rounds rounds" eval 'echo $rounds >$B'
	while read -r line; do ve_say "bench: $line"; done <$B
	ve_check "$n CPUs: $pairs pairs, each and its anchor positive" \
		eval '[ "$(awk "\$1 == \"pair\" && \$4 > 0 && \$12 > 0" $B | wc -l)" = $pairs ]'
	ve_check "$n CPUs: 6 components and the scaling line" \
		eval '[ "$(grep -c "^component " $B)" = 6 ] && grep -q "^scaling cpu_pair cpus $n " $B'
done
for cpu in $(seq 1 $((all - 1))); do ve_set_online "$cpu" 1; done
rmmod ve_bench

# One guest round trip on CPU 1 of this kernel: KVM's (a CPUID, which KVM
# handles in the kernel: tests/kvm/kvm_guest_test --bench) and the second
# hypervisor's (a hypercall, handled in ve_hv2: its "bench" command);
# only where this kernel's KVM is built to use virt_enable.
if [ "$all" -gt 1 ] && [ "$(ve_kvm_model)" != none ]; then
	KVM=$(ve_kvm_module)
	trips=$([ "$(ve_param ve.bench)" = full ] && echo 20000 || echo 200)
	ve_check "$KVM (patched) and ve_hv2 load" \
		eval 'modprobe $KVM && modprobe ve_hv2 && echo get >/sys/kernel/debug/ve_hv2/control'
	ve_check "KVM's guest round trip on CPU 1 is timed" \
		eval '/tests/kvm_guest_test --bench $trips --cpu 1 >/tmp/kvm-bench.out'
	kvm_ns=$(sed -n 's/^ok - vcpu0: bench: round_trip_ns \([0-9]*\) .*/\1/p' /tmp/kvm-bench.out)
	ve_check "ve_hv2's guest round trip on CPU 1 is timed" \
		eval 'echo "bench 1" >/sys/kernel/debug/ve_hv2/control'
	hv2_ns=$(awk '$1 == "bench" { print $5 }' /sys/kernel/debug/ve_hv2/counts)
	ve_say "bench: round_trip kvm_ns ${kvm_ns:-?} ve_hv2_ns ${hv2_ns:-?}"
	ve_check "both round trips are positive" \
		eval '[ "${kvm_ns:-0}" -gt 0 ] && [ "${hv2_ns:-0}" -gt 0 ]'
	rmmod ve_hv2 "$KVM" kvm
fi
ve_check "no user left" ve_same "$(ve_field users)" 0
