# SPDX-License-Identifier: GPL-2.0
# KVM's CPU-offline and suspend ordering, with the patched KVM (kvm/6.12,
# kvm/6.1) loaded.
#
#  ordering  The proof.  KVM puts its CPUHP_AP_KVM_ONLINE step (6.1: its
#            STARTING step) below CPUHP_AP_SCHED_WAIT_EMPTY on purpose: on
#            offline, VMX/SVM goes off only once the scheduler has pushed
#            every task off the dying CPU.  Read a real offline of CPU 1
#            from the kernel's own trace events (cpuhp_enter/cpuhp_exit
#            beside virt_enable_cpu) and require that CPU 1's hardware goes
#            off only after the teardown of SCHED_WAIT_EMPTY
#            (sched_cpu_wait_empty).  On 6.1 KVM turns it off from its
#            STARTING step, in the dying section, whose events the kernel
#            drops (CPU 1 is no longer online there): a turn-off that
#            virt_enable counted but the trace lacks ran after every step
#            of CPU 1's hotplug thread.  Deterministic: the old 6.12 series,
#            which turned it off from virt_enable's CPUHP_AP_ONLINE_DYN
#            teardown, fails it (tests/mutations/kvm-6.12-old-ordering,
#            tests/ordering-neg.sh).
#  hotplug   A vCPU kept inside KVM_RUN on CPU 1 (kvm_guest_test --loop: a
#  suspend   guest that exits to user space with a counter the host checks)
#            while CPU 1 goes offline and online 20 times, and across a
#            suspend/resume.  Regression tests: on these non-RT kernels an
#            ordinary task has left the dying CPU long before the hardware
#            goes off, so they cannot fail for the PREEMPT_RT reason (a
#            migrate-disabled task switched in on the dying CPU after VMXOFF);
#            they fail if a vCPU cannot enter again on a CPU that came back
#            (VMX/SVM or KVM's per-CPU state not restored: VM-entry failure,
#            a fault on VMPTRLD/VMRUN), if its state is lost or corrupted on
#            the way (a VMCS not VMCLEARed before VMXOFF, a skipped or
#            repeated step: the counter breaks), or if it hangs (the count
#            stops growing); a kernel splat fails the guest's log check.
#
# ve.kvmlife=PART[,PART] on the command line runs only those parts.
. /tests/lib.sh
VE_SUITE=kvmlife
F=$VE_FEATURE
KVM=$(ve_kvm_module)
T=/sys/kernel/tracing
parts=$(ve_param ve.kvmlife)
parts=${parts:-hotplug,suspend,ordering}
CYCLES=20
# Brief (CI's Bochs guests): 4 cycles, and no suspend, which the sharing
# suite's suspend part does there with KVM's vCPUs looping; QEMU's guests
# and make check-full run it all.
if ve_brief; then
	CYCLES=4
	parts=${parts/suspend,/}
fi
wanted() { case ,$parts, in *,$1,*) return 0 ;; esac; return 1; }

ve_probe_load
ve_load
ve_check "modprobe $KVM (patched) loads" modprobe "$KVM"
has_cpu1=
[ -n "$(ve_online_cpus | grep -x 1)" ] && has_cpu1=1

# --- hotplug: a vCPU in KVM_RUN on CPU 1 while CPU 1 goes offline/online ---
if wanted hotplug && [ -n "$has_cpu1" ]; then
	ve_loop_start hot 1
	ve_check "a vCPU loops in KVM_RUN on CPU 1, exiting to user space with a counter" \
		ve_loop_wait hot on_cpu 20 60
	cycles=0 back=0
	while [ "$cycles" -lt "$CYCLES" ]; do
		arrivals=$(ve_loop_get hot arrivals)
		ve_set_online 1 0 || break
		ve_set_online 1 1 || break
		cycles=$((cycles + 1))
		# Each cycle starts with the vCPU back on CPU 1 (it re-pins itself).
		ve_loop_wait hot arrivals $((arrivals + 1)) 30 && back=$((back + 1))
	done
	ve_check "CPU 1 offline and online $CYCLES times under the looping vCPU" \
		ve_same "$cycles" "$CYCLES"
	ve_check "the vCPU was back in KVM_RUN on CPU 1 after each of the $CYCLES returns" \
		ve_same "$back" "$CYCLES"
	ve_check "the vCPU's count kept growing after the cycles" ve_loop_grows hot 30
	ve_check "CPU 1's $F is on again under the VM (hardware)" ve_same "$(ve_hw 1)" 1
	ve_check "regression: the vCPU survived $CYCLES offline/online cycles of its CPU: every exit in sequence" \
		ve_loop_stop hot
	ve_took hotplug
fi

# --- suspend: a vCPU in KVM_RUN across a suspend/resume (pm_test=core) ---
# pm_test=core freezes the vCPU tasks (their KVM_RUN ends with EINTR), takes
# the non-boot CPUs offline, runs syscore suspend and resume on CPU 0 and
# brings the others back.  The vCPU on CPU 0 is the one that matters: the
# boot CPU never goes offline, so what turns $F off and on under its loaded
# VMCS/VMCB is KVM's syscore suspend/resume and virt_enable's, in the order
# they are registered; the hotplug test above never runs that path.  The
# vCPU on CPU 1 meets CPU 1's offline/online again, this time with tasks
# frozen (its affinity is kept and it comes back on CPU 1).
if wanted suspend; then
	sus_cpus=0
	[ -z "$has_cpu1" ] || sus_cpus="0 1"
	for cpu in $sus_cpus; do ve_loop_start "sus$cpu" "$cpu"; done
	for cpu in $sus_cpus; do
		ve_check "a vCPU loops in KVM_RUN on CPU $cpu" ve_loop_wait "sus$cpu" on_cpu 20 60
	done
	ve_check "suspend/resume (pm_test=core) with the vCPUs looping" ve_suspend
	for cpu in $sus_cpus; do
		ve_check "the vCPU on CPU $cpu kept running after resume" ve_loop_grows "sus$cpu" 30
		ve_check "...on CPU $cpu" ve_loop_runs_on "sus$cpu" "$cpu" 30
	done
	ve_check "every CPU on after resume under the VMs (hardware)" ve_all_hw 1
	for cpu in $sus_cpus; do
		ve_check "regression: the vCPU on CPU $cpu survived the suspend: every exit in sequence" \
			ve_loop_stop "sus$cpu"
	done
	ve_took suspend
fi

# --- ordering: CPU 1's hardware goes off only after SCHED_WAIT_EMPTY ---

# fields EVENT: the field names of a trace event, from its format file.
fields() {
	sed -n 's/^[[:space:]]*field:[^;]*[ *]\([A-Za-z0-9_]*\);.*/\1/p' "$T/events/$1/format" |
		tr '\n' ' '
}
# has_fields EVENT FIELD...: the event exists and has those fields.
has_fields() {
	ev=$1
	shift
	[ -f "$T/events/$ev/format" ] || { ve_say "# no trace event $ev"; return 1; }
	have=" $(fields "$ev")"
	for f in "$@"; do
		case $have in *" $f "*) ;; *) ve_say "# $ev has no field $f: it has$have"; return 1 ;; esac
	done
}
# trace_events 0|1: the three events off or on.
trace_events() {
	for ev in cpuhp/cpuhp_enter cpuhp/cpuhp_exit virt_enable/virt_enable_cpu; do
		echo "$1" >"$T/events/$ev/enable"
	done
}

# order_read TRACE WAIT_STEP: the teardown of CPU 1 read from the trace.
# Prints KEY=VALUE lines for the verdict and "# ..." lines that explain it.
order_read() {
	awk -v wait="$2" '
	function num(s) { gsub(/[^0-9-]/, "", s); return s + 0 }
	{
		for (i = 1; i <= NF; i++)
			if ($i ~ /^(cpuhp_enter|cpuhp_exit|virt_enable_cpu):$/)
				break
		if (i > NF)
			next
		ev = $i
		ts = $(i - 1)
		sub(/:$/, "", ts)
		n++
	}
	ev == "cpuhp_enter:" && num($(i + 2)) == 1 {
		step = num($(i + 6))
		fun = ""
		for (j = i + 7; j <= NF; j++)
			fun = fun (fun == "" ? "" : " ") $j
		gsub(/^\(|\)$/, "", fun)
		cur = step " (" fun ")"
		steps[++nsteps] = step ":" fun
		if (step == wait) { wait_enter = n; wait_fun = fun }
		if (fun ~ /^kvm_/) kvm = kvm " " step " (" fun ")"
	}
	ev == "cpuhp_exit:" && num($(i + 2)) == 1 && num($(i + 6)) == wait {
		wait_exit = n; wait_ts = ts; wait_ret = num($(i + 8))
	}
	ev == "virt_enable_cpu:" && $(i + 1) == "cpu=1" && $(i + 2) == "off" {
		offs++
		if (!off) {
			off = n; off_ts = ts; off_in = cur
			off_why = $(i + 3); off_result = $(i + 5)
		}
	}
	END {
		# (Comparisons in parentheses: a bare ">" in printf redirects.)
		printf "offs=%d\nwait_seen=%d\nwait_ret=%d\nafter=%d\n", offs,
		       (wait_enter && wait_exit), wait_ret, (off && wait_exit && off > wait_exit)
		printf "off_ok=%d\n", off_result == "result=0"
		printf "# CPU 1 teardown, steps in the order entered:\n"
		line = ""
		for (k = 1; k <= nsteps; k++) {
			line = line (line == "" ? "" : ", ") steps[k]
			if (k % 6 == 0 || k == nsteps) { printf "#   %s\n", line; line = "" }
		}
		printf "# SCHED_WAIT_EMPTY is step %d, seen as %s; its teardown %s\n", wait,
		       wait_enter ? "(" wait_fun ")" : "nothing (not entered)",
		       wait_exit ? "ended at " wait_ts " s (event " wait_exit ")" : "never ended"
		printf "# KVM'\''s own steps:%s\n", kvm == "" ? " none seen" : kvm
		if (off)
			printf "# CPU 1 off (%s %s) at %s s (event %d) during step %s: %s\n",
			       off_why, off_result, off_ts, off, off_in,
			       (!wait_exit ? "before SCHED_WAIT_EMPTY ended" :
			        off > wait_exit ? sprintf("%.3f ms after SCHED_WAIT_EMPTY ended", (off_ts - wait_ts) * 1000) :
			        sprintf("%.3f ms BEFORE SCHED_WAIT_EMPTY ended", (wait_ts - off_ts) * 1000))
		else
			printf "# no virt_enable_cpu event from CPU 1 turned it off\n"
	}' "$1"
}

if wanted ordering && [ -n "$has_cpu1" ]; then
	grep -q " $T " /proc/mounts || mount -t tracefs tracefs $T
	ve_check "trace events cpuhp_enter, cpuhp_exit and virt_enable_cpu, with the fields read" \
		eval 'has_fields cpuhp/cpuhp_enter cpu target idx fun &&
		      has_fields cpuhp/cpuhp_exit cpu state idx ret &&
		      has_fields virt_enable/virt_enable_cpu cpu on why result'
	wait_step=$(sed -n 's/^ *\([0-9]*\): sched:waitempty$/\1/p' \
		/sys/devices/system/cpu/hotplug/states)
	ve_check "the kernel has a SCHED_WAIT_EMPTY step (sched:waitempty, step ${wait_step:-none})" \
		[ -n "$wait_step" ]
	# A VM with its vCPU on CPU 1: 6.1's KVM enables virtualization only
	# while a VM exists; 6.12's from load (enable_virt_at_load=1).
	ve_loop_start ord 1
	ve_loop_wait ord on_cpu 20 60
	ve_check "CPU 1's $F is on before its offline (KVM loaded, a vCPU running there)" \
		ve_same "$(ve_hw 1)" 1
	echo 0 >$T/tracing_on
	echo >$T/trace
	# One clock for every CPU's buffer: the control CPU logs some steps.
	clock=$(sed -n 's/.*\[\(.*\)\].*/\1/p' $T/trace_clock)
	! grep -q global $T/trace_clock || echo global >$T/trace_clock
	trace_events 1
	disables=$(ve_cpu_field 1 disables)
	ve_mark
	echo 1 >$T/tracing_on
	ve_set_online 1 0
	rc=$?
	echo 0 >$T/tracing_on
	ve_check "CPU 1 goes offline with the events traced" ve_same "$rc" 0
	cat $T/trace >/tmp/order.trace
	disabled=$(($(ve_cpu_field 1 disables) - disables))
	hw_offline=$(ve_cpu_field 1 hw)
	# Back at once: the rest needs no offline CPU 1.
	ve_check "CPU 1 online again" ve_set_online 1 1
	trace_events 0
	echo >$T/trace
	[ -z "$clock" ] || echo "$clock" >$T/trace_clock
	echo 1 >$T/tracing_on
	order_read /tmp/order.trace "${wait_step:-0}" >/tmp/order.out
	grep '^# ' /tmp/order.out | while read -r line; do ve_say "$line"; done
	got() { sed -n "s/^$1=//p" /tmp/order.out; }
	offs=$(got offs)
	# The kernel drops the trace events of a CPU that is no longer marked
	# online: from __cpu_disable() in take_cpu_down() on, the dying
	# section, after every step of CPU 1's hotplug thread.  A turn-off
	# that virt_enable counted for CPU 1 (which only CPU 1 itself can do)
	# but that is not in the trace ran there: 6.1's KVM puts its
	# reference from CPUHP_AP_KVM_STARTING.
	[ "$offs/$disabled" != 0/1 ] ||
		ve_say "# CPU 1 off counted by virt_enable but not traced: it ran in the dying section, after CPU 1 stopped being online, so after SCHED_WAIT_EMPTY"
	ve_check "the trace shows CPU 1's SCHED_WAIT_EMPTY teardown (step ${wait_step:-none}) end" \
		ve_same "$(got wait_seen)/$(got wait_ret)" 1/0
	ve_check "CPU 1's $F goes off exactly once during its offline, without error" \
		eval '[ "$disabled" = 1 ] && [ "$hw_offline" = 0 ] &&
		      ! ve_since_mark_has "CPU 1 went offline with" &&
		      { [ "$offs" = 0 ] || [ "$offs/$(got off_ok)" = 1/1 ]; }'
	ve_check "ordering: CPU 1's hardware goes off only after its SCHED_WAIT_EMPTY teardown" \
		eval '[ "$offs/$(got after)" = 1/1 ] || [ "$offs/$disabled" = 0/1 ]'
	ve_check "CPU 1's $F on again under the VM (hardware)" ve_same "$(ve_hw 1)" 1
	ve_check "the vCPU on CPU 1 kept running" ve_loop_grows ord 30
	ve_check "...every exit in sequence" ve_loop_stop ord
	ve_took ordering
fi

# --- leave nothing behind ---
# (CPU 1 back even if a part above failed half way, for the next suites.)
[ -z "$has_cpu1" ] || ve_set_online 1 1 2>/dev/null
ve_check "rmmod $KVM: every CPU off (hardware), no user left" \
	eval 'rmmod $KVM kvm && ve_all_hw 0 && ve_same "$(ve_field users)" 0'
