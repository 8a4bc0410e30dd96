# SPDX-License-Identifier: GPL-2.0
# The benchmark (tests/modules/ve_bench.c) with 1, 2, 4, 8 CPUs online, as
# many as the guest has.  ve.bench=full (make bench): ROUNDS repetitions,
# and the table on the log; otherwise a quick sanity pass: the numbers are
# there and positive, nothing splats.
. /tests/lib.sh
VE_SUITE=bench
B=/sys/kernel/debug/ve_bench/run
rounds=$([ "$(ve_param ve.bench)" = full ] && echo 201 || echo 5)
all=$(ve_online_cpus | wc -l)

ve_load
ve_check "the benchmark module loads" modprobe ve_bench
for n in 1 2 4 8; do
	[ "$n" -le "$all" ] || break
	cpu=1
	while [ "$cpu" -lt "$all" ]; do
		ve_set_online "$cpu" $([ "$cpu" -lt "$n" ] && echo 1 || echo 0)
		cpu=$((cpu + 1))
	done
	ve_check "$n CPUs: a run of $rounds rounds" eval 'echo $rounds >$B'
	while read -r line; do ve_say "bench: $line"; done <$B
	ve_check "$n CPUs: every measurement and anchor is positive" \
		eval '[ "$(awk "/median_ns/ && \$3 > 0 && \$5 > 0" $B | wc -l)" = 4 ]'
done
for cpu in $(seq 1 $((all - 1))); do ve_set_online "$cpu" 1; done
rmmod ve_bench
ve_check "no user left" ve_same "$(ve_field users)" 0
