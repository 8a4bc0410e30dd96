# SPDX-License-Identifier: GPL-2.0
# Two hypervisors on one CPU: the second one (tests/modules/ve_hv2.c, a
# minimal hypervisor that runs a tiny guest inside virt_enable's windows)
# alone, then beside the patched KVM on the same CPUs.
#
#  alone    ve_hv2's guest computes a value from an input the host chose and
#           calls the host: checked on every CPU with a system-wide
#           reference, on CPU 1 with a per-CPU one; refused where no
#           reference covers the CPU; nothing on after it unloads.
#  side     A KVM vCPU looping on every CPU (kvm_guest_test --loop: every
#           exit's counter checked) while ve_hv2 enters and leaves its own
#           guests on the same CPUs for RUN_MS: both sides' checked exits,
#           per CPU, well above zero; no mismatch; what each window saved
#           (VMPTRST: KVM's current VMCS; MSR_VM_HSAVE_PA: KVM's host-save
#           area) read back the same after it closed.
#  hotplug  The same, with CPU 1 offline and online in the middle.
#  suspend  The same, with a suspend/resume (pm_test=core) in the middle.
#  ride     The same beside the unmodified KVM (/stock-kvm), which switches
#           the hardware while virt_enable rides it (ride.c): on 6.1 and
#           6.12's enable_virt_at_load=0 only the VM virt_enable holds
#           keeps it on for ve_hv2.
#
# ve.sharing=PART[,PART] on the command line runs only those parts.
. /tests/lib.sh
VE_SUITE=sharing
F=$VE_FEATURE
KVM=$(ve_kvm_module)
HV=/sys/kernel/debug/ve_hv2
# Each VM exit is slow in Bochs: fewer guests there, the same time.
RUNS=200
[ "$F" = svm ] || RUNS=50
RUN_MS=2000
# "Well above zero": exits per CPU each side must reach in a run.
MIN=20
parts=$(ve_param ve.sharing)
parts=${parts:-alone,side,hotplug,suspend,ride}
# (The harness stages the unmodified KVM wherever this suite runs.)
wanted() { case ,$parts, in *,$1,*) return 0 ;; esac; return 1; }

hv() { echo "$*" >$HV/control; }
# hv_run ARGS...: "run ARGS" or "run-for ARGS", and wait for its end.
hv_run() { hv "$@" && hv_wait; }
# hv_wait: until ve_hv2's threads are done (2 minutes at most).
hv_wait() {
	n=1200
	until grep -qx 'running 0' $HV/counts; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
	done
}
# hv_get CPU KEY: ve_hv2's count KEY on CPU.
hv_get() {
	awk -v cpu="$1" -v k="$2" '$1 == "cpu" && $2 == cpu {
		for (i = 3; i < NF; i += 2) if ($i == k) print $(i + 1) }' $HV/counts
}
# hv_all KEY VALUE: on every online CPU, ve_hv2's KEY is VALUE.
hv_all() {
	for cpu in $(ve_online_cpus); do
		[ "$(hv_get "$cpu" "$1")" = "$2" ] || return 1
	done
}
# hv_show: ve_hv2's counts per online CPU, as comments in the log.
hv_show() {
	for cpu in $(ve_online_cpus); do
		ve_say "# $1: ve_hv2 $(grep "^cpu $cpu " $HV/counts)"
	done
}
# hv_clean: nothing but checked exits (and handed-over host events).
hv_clean() {
	hv_all mismatches 0 && hv_all failed 0 && hv_all other 0 && hv_all unrestored 0
}

ve_probe_load
ve_load
cpus=$(ve_online_cpus)
has_cpu1=
echo "$cpus" | grep -qx 1 && has_cpu1=1

# --- alone --------------------------------------------------------------------
if wanted alone; then
	ve_check "modprobe ve_hv2: a second hypervisor registers" modprobe ve_hv2
	hv reset
	hv_run run all 5
	ve_check "without a reference its windows are refused on every CPU, no guest ran" \
		eval 'hv_all refused 5 && hv_all checked 0'
	hv get
	ve_check "a system-wide reference: $F on on every CPU (hardware)" ve_all_hw 1
	hv reset
	ve_check "$RUNS guests on every CPU" hv_run run all $RUNS
	hv_show alone
	# (A guest a host interrupt ended early runs again: RUNS hypercalls.)
	ve_check "every CPU: $RUNS hypercalls, each with the value the guest computed from the host's input; each window gave back what it saved" \
		eval 'hv_all checked $RUNS && hv_clean && hv_all refused 0'
	if [ "$F" = svm ]; then
		ve_say "# ve_hv2: $(grep '^asid' $HV/counts)"
		ve_check "its guests run on an ASID of their own (not the host's 0), flushed on entry" \
			grep -qE '^asid [1-9][0-9]* tlb_ctl (1|3)$' $HV/counts
	fi
	hv put
	ve_check "put: every CPU off (hardware)" ve_all_hw 0
	if [ -n "$has_cpu1" ]; then
		hv reset
		hv get-cpu 1
		hv_run run all 5
		ve_check "a per-CPU reference on CPU 1: guests checked there, refused on CPU 0" \
			eval '[ "$(hv_get 1 checked)" = 5 ] && [ "$(hv_get 0 refused)" = 5 ] &&
			      [ "$(hv_get 0 checked)" = 0 ] && hv_clean'
		hv put-cpu 1
	fi
	ve_check "rmmod ve_hv2: every CPU off (hardware), no user left" \
		eval 'rmmod ve_hv2 && ve_all_hw 0 && ve_same "$(ve_field users)" 0'
	ve_took alone
fi

# --- side by side with KVM ------------------------------------------------------

# side_start LOAD...: KVM loaded by LOAD, a looping vCPU on every CPU, and
# ve_hv2 with a system-wide reference.  side_run WHAT MS [DESCRIPTION ACTION...]: ve_hv2's guests on
# every CPU for MS milliseconds, ACTION run half a second into it; then
# both sides' checked exits per CPU.
side_start() {
	"$@" && modprobe ve_hv2 && hv get || return 1
	for cpu in $cpus; do ve_loop_start "kvm$cpu" "$cpu"; done
	for cpu in $cpus; do ve_loop_wait "kvm$cpu" on_cpu 20 60 || return 1; done
}
# stall_watch PART MS: while ve_hv2 runs (MS, and at most 2 minutes more),
# every half second, a vCPU whose count of exits has not moved for a
# second is said (ve_loop_stalled): the SVM stall this suite has seen (the
# guest table in tests/check.sh).
stall_watch() {
	for cpu in $cpus; do echo "$(ve_loop_get "kvm$cpu" exits) 0" >/tmp/stall.$cpu; done
	n=$(($2 / 500 + 240))
	while ! grep -qx 'running 0' $HV/counts && [ "$n" -gt 0 ]; do
		n=$((n - 1))
		sleep 0.5
		for cpu in $cpus; do
			read -r last still </tmp/stall.$cpu
			now=$(ve_loop_get "kvm$cpu" exits)
			if [ "$now" != "$last" ]; then
				echo "$now 0" >/tmp/stall.$cpu
				continue
			fi
			echo "$now $((still + 1))" >/tmp/stall.$cpu
			[ "$still" = 1 ] || continue
			ve_loop_stalled "$1" "kvm$cpu"
		done
	done
}
side_run() {
	part=$1
	ms=$2
	shift 2
	hv reset
	for cpu in $cpus; do echo "$cpu $(ve_loop_get "kvm$cpu" on_cpu)"; done >/tmp/kvm.before
	hv run-for all "$ms"
	stall_watch "$part" "$ms" &
	watcher=$!
	if [ $# -gt 0 ]; then
		desc=$1
		shift
		sleep 0.5
		ve_check "$part: $desc, in the middle of the run" "$@"
	fi
	ve_check "$part: ve_hv2's run of $ms ms ends" hv_wait
	wait "$watcher"
	ok=1
	for cpu in $cpus; do
		kvm=$(($(ve_loop_get "kvm$cpu" on_cpu) - $(awk -v c="$cpu" '$1 == c { print $2 }' /tmp/kvm.before)))
		hv2=$(hv_get "$cpu" checked)
		ve_say "# $part: CPU $cpu: KVM $kvm checked exits, ve_hv2 $hv2 checked exits ($(grep "^cpu $cpu " $HV/counts | cut -d' ' -f5-))"
		[ "$kvm" -ge $MIN ] && [ "$hv2" -ge $MIN ] || ok=
	done
	ve_check "$part: every CPU: at least $MIN checked exits on each side" ve_same "$ok" 1
	ve_check "$part: ve_hv2: no mismatch, no failed entry, no other exit; each window gave back what it saved" \
		hv_clean
}
side_stop() {
	rc=0
	for cpu in $cpus; do
		ve_check "$1: KVM's vCPU on CPU $cpu: every exit in sequence" ve_loop_stop "kvm$cpu" || rc=1
	done
	return $rc
}

if wanted side || wanted hotplug || wanted suspend; then
	ve_mark
	ve_check "$KVM (patched) and ve_hv2 load, a vCPU loops on every CPU" side_start modprobe "$KVM"
	if wanted side; then
		side_run side $RUN_MS
		ve_took side
	fi
	if wanted hotplug && [ -n "$has_cpu1" ]; then
		side_run hotplug $RUN_MS "CPU 1 offline and online" eval 've_set_online 1 0 && ve_set_online 1 1'
		ve_check "hotplug: the vCPU is back in KVM_RUN on CPU 1" ve_loop_runs_on kvm1 1 30
		ve_took hotplug
	fi
	if wanted suspend; then
		# (pm_test=core holds the suspended machine for 5 s.)
		side_run suspend $((RUN_MS + 6000)) "suspend/resume (pm_test=core)" ve_suspend
		ve_check "suspend: every CPU on after resume (hardware)" ve_all_hw 1
		ve_took suspend
	fi
	side_stop "side by side"
	ve_check "side by side: no warning in the kernel log" \
		ve_not ve_since_mark_has 'WARNING:\|vmread failed\|vmwrite failed\|VMCLEAR\|VMPTRLD'
	hv put
	ve_check "rmmod ve_hv2 $KVM kvm: every CPU off (hardware), no user left" \
		eval 'rmmod ve_hv2 $KVM kvm && ve_all_hw 0 && ve_same "$(ve_field users)" 0'
fi

# --- beside an unmodified KVM --------------------------------------------------
if wanted ride; then
	ve_mark
	ve_check "ride: unmodified $KVM and ve_hv2 load, a vCPU loops on every CPU" \
		side_start ve_stock_kvm_load
	ve_check "ride: virt_enable rides $KVM (sysfs switcher)" \
		ve_same "$(cat /sys/kernel/virt_enable/switcher)" "$KVM"
	side_run ride $RUN_MS
	side_stop ride
	ve_check "ride: no warning in the kernel log" \
		ve_not ve_since_mark_has 'WARNING:\|vmread failed\|vmwrite failed\|VMCLEAR\|VMPTRLD'
	hv put
	ve_check "ride: rmmod ve_hv2 $KVM kvm: no user left, virt_enable switches again" \
		eval 'rmmod ve_hv2 && ve_stock_kvm_unload && ve_same "$(ve_field users)" 0 &&
		      ve_same "$(cat /sys/kernel/virt_enable/switcher)" virt_enable'
	ve_took ride
fi
