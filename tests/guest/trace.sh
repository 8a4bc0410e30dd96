# SPDX-License-Identifier: GPL-2.0
# The trace events: a scenario with them enabled, and the events checked
# against the state's own counters.
. /tests/lib.sh
VE_SUITE=trace
F=$VE_FEATURE
T=/sys/kernel/tracing
last=$(ve_online_cpus | tail -n 1)
ncpus=$(ve_online_cpus | wc -l)

grep -q " $T " /proc/mounts || mount -t tracefs tracefs $T
ve_probe_load
ve_load
ve_check "the virt_enable events exist" [ -d $T/events/virt_enable/virt_enable_cpu ]
echo >$T/trace
echo 1 >$T/events/virt_enable/enable
before=$(ve_transitions)

exec 3>$VE_CTL
ve_cmd 3 "get $F"
ve_cmd 3 "get $F"
ve_cmd_fails 3 "get $(ve_other_feature)" "Operation not supported"
ve_cmd 3 "get-cpu $F $last"
[ "$last" -gt 0 ] && ve_set_online "$last" 0 && ve_set_online "$last" 1
ve_cmd 3 "put $F"
ve_cmd 3 "put $F"
ve_cmd 3 "put-cpu $F $last"
exec 3>&-
echo 0 >$T/events/virt_enable/enable
cat $T/trace >/tmp/trace.txt

# events CPU ON|OFF [WHY]: how many transitions of CPU the trace shows.
events() {
	grep -c "virt_enable_cpu: cpu=$1 $2 why=${3:-[a-z]*} by=virt_enable result=0$" /tmp/trace.txt
}
# delta CPU KEY: how much the state's counter moved.
delta() {
	echo $(( $(ve_cpu_field "$1" "$2") - $(echo "$before" | awk -v cpu="$1" -v key="$2" \
		'$1 == "cpu" && $2 == cpu { for (i = 3; i < NF; i += 2) if ($i == key) print $(i + 1) }') ))
}
for cpu in $(ve_online_cpus); do
	ve_check "CPU $cpu: 'on' events match the state's enables" ve_same "$(events "$cpu" on)" "$(delta "$cpu" enables)"
	ve_check "CPU $cpu: 'off' events match the state's disables" ve_same "$(events "$cpu" off)" "$(delta "$cpu" disables)"
done
ve_check "the first get turned on every CPU, for a reference" \
	ve_same "$(grep -c 'virt_enable_cpu: cpu=[0-9]* on why=reference by=virt_enable result=0$' /tmp/trace.txt)" "$ncpus"
if [ "$last" -gt 0 ]; then
	ve_check "CPU $last went off and on for hotplug" \
		ve_same "$(events "$last" off hotplug)/$(events "$last" on hotplug)" "1/1"
fi
ve_check "reference events: 2 system gets, 1 refused, 2 system puts" \
	ve_same "$(grep -c 'virt_enable_ref: user="debugfs:pid [0-9]* #[0-9]*" get system cpu=-1 result=0$' /tmp/trace.txt)/$(grep -c 'get system cpu=-1 result=-95$' /tmp/trace.txt)/$(grep -c 'put system cpu=-1 result=0$' /tmp/trace.txt)" "2/1/2"
# debugfs follows CPU $last going offline and online with a put and a get.
pairs=$([ "$last" -gt 0 ] && echo 2/2 || echo 1/1)
ve_check "reference events: the per-CPU get and put on CPU $last, and their following its hotplug" \
	ve_same "$(grep -c "get cpu cpu=$last result=0$" /tmp/trace.txt)/$(grep -c "put cpu cpu=$last result=0$" /tmp/trace.txt)" "$pairs"
grep 'virt_enable_' /tmp/trace.txt | head -n 12 | sed 's/^ *//; s/^/# /' | while read -r line; do ve_say "$line"; done
