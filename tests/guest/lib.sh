# SPDX-License-Identifier: GPL-2.0
# Helpers for in-guest test suites (busybox sh); sourced.  Results go to
# /dev/kmsg as "VE: ok N - suite: what" or "VE: not ok N - ...", which the
# host harness counts.

VE_DIR=/sys/kernel/debug/virt_enable
VE_STATE=$VE_DIR/state
VE_CTL=$VE_DIR/control
VE_N=0

ve_say() { echo "VE: $*" >/dev/kmsg; }

ve_ok() {
	VE_N=$((VE_N + 1))
	ve_say "ok $VE_N - $VE_SUITE: $*"
}

ve_skip() {
	VE_N=$((VE_N + 1))
	ve_say "ok $VE_N - $VE_SUITE: $* # SKIP"
}

ve_not_ok() {
	VE_N=$((VE_N + 1))
	ve_say "not ok $VE_N - $VE_SUITE: $*"
	[ -r $VE_STATE ] && sed 's/^/# /' $VE_STATE | while read -r line; do ve_say "$line"; done
}

# ve_check WHAT COMMAND...: one test result from COMMAND's exit status.
ve_check() {
	what=$1
	shift
	if "$@"; then ve_ok "$what"; else ve_not_ok "$what"; fi
}

# ve_cmd FD COMMAND: write one control command on file descriptor FD.
ve_cmd() { eval "echo \"\$2\" >&$1" 2>/tmp/ve_err; }

# ve_cmd_fails FD COMMAND ERROR_TEXT: the write must fail with that error.
ve_cmd_fails() {
	! ve_cmd "$1" "$2" && grep -q "$3" /tmp/ve_err
}

ve_online_cpus() {
	awk -F, '{ for (i = 1; i <= NF; i++) { n = split($i, r, "-");
		for (c = r[1]; c <= r[n]; c++) print c } }' /sys/devices/system/cpu/online
}

# ve_cpu_field CPU KEY: a value from CPU's line of the state file.
ve_cpu_field() {
	awk -v cpu="$1" -v key="$2" '$1 == "cpu" && $2 == cpu {
		for (i = 3; i < NF; i += 2) if ($i == key) print $(i + 1) }' $VE_STATE
}

# ve_field KEY [N]: the Nth word (default 2) of the state line starting with KEY.
ve_field() { awk -v key="$1" -v n="${2:-2}" '$1 == key { print $n }' $VE_STATE; }

ve_counter() {
	awk -v key="$1" '$1 == "counters" { for (i = 2; i < NF; i += 2) if ($i == key) print $(i + 1) }' $VE_STATE
}

ve_users() { grep -c '^user ' $VE_STATE; }

# ve_hw CPU: 1 if the hardware itself says VMX/SVM is on on CPU, else 0.
# SVM: EFER.SVME read through /dev/cpu/N/msr.  VMX: the ve_probe module
# (loaded by ve_probe_load), which reads CR4 and checks VMX root operation
# with VMPTRST.
ve_hw() {
	case $VE_FEATURE in
	svm)
		efer=$(dd if=/dev/cpu/"$1"/msr bs=8 count=1 skip=$((0xc0000080 / 8)) 2>/dev/null |
		       od -An -tx8 | tr -d ' ')
		[ -n "$efer" ] || { echo unreadable; return; }
		echo $(((0x$efer >> 12) & 1))
		;;
	vmx)
		awk -v cpu="$1" '$1 == "cpu" && $2 == cpu {
			print ($4 == 1 && $6 == 1) ? 1 : ($4 == 0 && $6 == 0) ? 0 : "inconsistent" }' \
			/sys/kernel/debug/ve_probe/vmx
		;;
	esac
}

# ve_hw_map: each online CPU's ve_hw, as one word ("1101").
ve_hw_map() {
	for cpu in $(ve_online_cpus); do printf %s "$(ve_hw "$cpu")"; done
}

# ve_all_hw 0|1: every online CPU's hardware is in that state.
ve_all_hw() {
	for cpu in $(ve_online_cpus); do
		[ "$(ve_hw "$cpu")" = "$1" ] || return 1
	done
}

# ve_all_state_hw 0|1: the state file says so for every online CPU.
ve_all_state_hw() {
	for cpu in $(ve_online_cpus); do
		[ "$(ve_cpu_field "$cpu" hw)" = "$1" ] || return 1
	done
}

# ve_cpu_counts CPU ENABLES DISABLES: the CPU's transition counters.
ve_cpu_counts() {
	[ "$(ve_cpu_field "$1" enables)" = "$2" ] &&
	[ "$(ve_cpu_field "$1" disables)" = "$3" ]
}

ve_set_online() { echo "$2" >/sys/devices/system/cpu/cpu"$1"/online; }

# ve_suspend: a full suspend/resume cycle through syscore, without firmware.
ve_suspend() {
	echo deep >/sys/power/mem_sleep &&
	echo core >/sys/power/pm_test &&
	echo mem >/sys/power/state
}

# ve_s3_wakes: the emulator wakes this guest from a real S3 (tests/vm/boot.sh
# says so on the command line: QEMU, which the host wakes through QMP, and
# Bochs, which resumes at once by itself).
ve_s3_wakes() { [ "$(ve_param ve.s3)" = wake ]; }

# ve_suspend_s3: a real S3 (the platform sleeps), woken by the host: the
# line "VE: s3: sleeping" asks it to, once the guest has gone to sleep.
ve_suspend_s3() {
	echo deep >/sys/power/mem_sleep &&
	echo none >/sys/power/pm_test &&
	ve_say "s3: sleeping" &&
	echo mem >/sys/power/state
}

ve_same() { [ "$1" = "$2" ]; }
ve_not() { ! "$@"; }

ve_dmesg_has() { dmesg | grep -q "$1"; }

# ve_mark, then ve_since_mark_has TEXT: TEXT in the kernel log after the
# mark, so that a line an earlier suite printed (KUnit's fakes print the
# real messages) cannot pass the check.
ve_mark() {
	VE_MARK=$((${VE_MARK:-0} + 1))
	ve_say "mark $VE_SUITE $VE_MARK"
}
ve_since_mark() { dmesg | sed -n "/VE: mark $VE_SUITE $VE_MARK\$/,\$p"; }
ve_since_mark_has() { ve_since_mark | grep -q "$1"; }

# ve_load / ve_unload: virt_enable as a module, a no-op when built in.
ve_builtin() { [ -d $VE_DIR ] && [ ! -e /sys/module/virt_enable/initstate ]; }
ve_load() { ve_builtin || modprobe virt_enable; }
ve_unload() { ve_builtin || rmmod virt_enable; }

ve_other_feature() { [ "$VE_FEATURE" = vmx ] && echo svm || echo vmx; }
ve_kvm_module() { [ "$VE_FEATURE" = vmx ] && echo kvm_intel || echo kvm_amd; }

# The hardware probe, before virt_enable: its shutdown check must run after
# virt_enable's (syscore shutdown runs the last registered first).
ve_probe_load() {
	[ -e /dev/cpu/0/msr ] || modprobe -q msr
	lsmod | grep -q '^ve_probe ' || modprobe ve_probe
}

# ve_probe_hooks KEY: KEY's line of ve_probe's hooks file (see
# tests/modules/ve_probe.c): "first 0|1", "suspend|resume|shutdown COUNT
# read MASK on MASK", "previous none|HOOK read MASK on MASK".
ve_probe_hooks() { awk -v k="$1" '$1 == k' /sys/kernel/debug/ve_probe/hooks; }
# ve_probe_field KEY WORD: the word after WORD on KEY's line ("count": the
# second word).
ve_probe_field() {
	ve_probe_hooks "$1" | awk -v w="$2" '{ if (w == "count") print $2;
		for (i = 2; i < NF; i++) if ($i == w) print $(i + 1) }'
}
# ve_probe_first: the probe's hooks were registered before virt_enable's,
# so that its readings come right after virt_enable's suspend and shutdown
# and right before its resume.
ve_probe_first() { [ "$(ve_probe_hooks first | cut -d' ' -f2)" = 1 ]; }
# ve_mask_has MASK CPU: CPU's bit is set in MASK.
ve_mask_has() { [ $((($1 >> $2) & 1)) = 1 ]; }

# ve_kernel_at_least MAJOR MINOR: the running kernel is that version or later.
ve_kernel_at_least() {
	v=$(uname -r)
	maj=${v%%.*}
	min=${v#*.}
	min=${min%%[!0-9]*}
	[ "$maj" -gt "$1" ] || { [ "$maj" -eq "$1" ] && [ "$min" -ge "$2" ]; }
}

# How this kernel's KVM uses virt_enable (ve.kvm= on the command line):
# "percpu" (the 6.12 and 6.1 series: a per-CPU reference on each online
# CPU while KVM has virtualization enabled, which 6.12 does from module
# load unless kvm.enable_virt_at_load=0, and 6.1 while VMs exist), or
# "none" (no series: KVM is unmodified).
ve_kvm_model() { echo "${VE_KVM:-none}"; }

# The unmodified KVM: the kernel's own where it has no KVM series, else the
# stock build of the same source that the harness put in /stock-kvm.
ve_stock_kvm_load() {
	if [ -d /stock-kvm ]; then
		modprobe -q irqbypass
		insmod /stock-kvm/kvm.ko "$@" &&
		insmod /stock-kvm/"$(ve_kvm_module | tr _ -)".ko ||
		{ rmmod kvm 2>/dev/null; return 1; }
	else
		# The image's own modules (Debian's): the options are kvm's.
		modprobe kvm "$@" && modprobe "$(ve_kvm_module)" ||
		{ rmmod kvm 2>/dev/null; return 1; }
	fi
}
ve_stock_kvm_unload() { rmmod "$(ve_kvm_module)" kvm; }

# ve_user_line NAME_PREFIX: the state lines of users whose name starts so.
ve_user_line() { grep "^user \"$1" $VE_STATE; }

# ve_transitions: the state's hardware counters, to compare before/after.
ve_transitions() { grep -E '^(cpu|counters) ' $VE_STATE; }

# ve_hw_transitions: only what says the hardware switched: each CPU's hw
# and transition counters.
ve_hw_transitions() {
	awk '$1 == "cpu" { printf "%s", $2; for (i = 3; i < NF; i += 2)
		if ($i == "hw" || $i == "enables" || $i == "disables") printf " %s", $(i + 1); print "" }' $VE_STATE
}

# ve_param NAME: the value of NAME= on the kernel command line.
ve_param() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | tail -n 1; }

# ve_brief: CI's short form of a slow guest's runs (ve.brief=1, which
# check.sh gives CI's Bochs guests); make check-full runs them whole.
ve_brief() { [ "$(ve_param ve.brief)" = 1 ]; }

# ve_took PART: say how long PART of $VE_SUITE took by the guest's clock
# (since the suite's start or the previous ve_took), for the time budget.
# Each suite runs in a shell of its own, which reads this file first.
ve_took_began=$(cut -d. -f1 /proc/uptime)
ve_took() {
	ve_took_now=$(cut -d. -f1 /proc/uptime)
	ve_say "# $VE_SUITE: $1 took $((ve_took_now - ve_took_began)) s"
	ve_took_began=$ve_took_now
}

# ve_end: how the guest ends once its suites ran (tests/guest/init):
# "reboot" with ve.end=reboot on the command line, else "poweroff".
ve_end() { [ "$(ve_param ve.end)" = reboot ] && echo reboot || echo poweroff; }

# ve_next_cmdline SUITES [EXTRA...]: this kernel's command line for the
# next kernel (kexec'd or capture), which runs SUITES (comma-separated).
ve_next_cmdline() {
	suites=$1
	shift
	echo $(tr ' ' '\n' </proc/cmdline |
	       grep -vE '^(ve\.suites|ve\.expect_[a-z_]*|ve\.first_cpus|initrd|BOOT_IMAGE|crashkernel|nr_cpus|irqpoll|reset_devices)=' |
	       grep -vE '^(irqpoll|reset_devices)$') "ve.suites=$suites" "$@"
}

# ve_rest_after SUITE...: the suites after the current one, then SUITE...
ve_rest_after() {
	rest=$VE_REST
	for s in "$@"; do rest=$s${rest:+,$rest}; done
	echo "$rest"
}

# ve_self_cpio FILE: this kernel's root file system as an initramfs for the
# next one (small chain kernels only: the first kernel's is big).
ve_self_cpio() {
	(cd / && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./tmp -o \
		-path ./run \) -prune -print -o -print | cpio -o -H newc 2>/dev/null) >"$1"
}

# ve_hold COMMAND...: a debugfs holder in the background that keeps the
# references COMMANDs take until it is killed, or the kernel ends.
ve_hold() {
	rm -f /tmp/held
	sh -c 'exec 3>'"$VE_CTL"'; for c in "$@"; do echo "$c" >&3 || exit 1; done; touch /tmp/held; exec sleep 100000' \
		hold "$@" &
	for i in $(seq 50); do [ -e /tmp/held ] && break; sleep 0.1; done
	[ -e /tmp/held ]
}

# ve_guest [ARGS...]: run a real KVM guest (tests/kvm/kvm_guest_test.c: out
# of a value, hlt), quietly; its result, with its output on failure.
ve_guest() {
	/tests/kvm_guest_test "$@" >/tmp/guest.out 2>&1 && return 0
	sed 's/^/# /' /tmp/guest.out | while read -r line; do ve_say "$line"; done
	return 1
}

# --- a vCPU looping in KVM_RUN, in the background ---
# (kvm_guest_test --loop: a guest that exits to user space at every step
# with a counter the host side checks; kvmlife, kexec and shutdown.)

# ve_loop_start NAME CPU: a vCPU pinned to CPU, looping until ve_loop_stop
# NAME, 30 minutes, or the end of the kernel.  At nice 19: it has its CPU to
# itself, but where it shares one with the test's shell (CPU 0, CPU 1
# offline; Bochs, where each exit is slow) the shell goes first.
ve_loop_start() {
	rm -f /tmp/loop-$1.*
	/tests/kvm_guest_test --loop 1800 --cpu "$2" --nice 19 --stop-file /tmp/loop-$1.stop \
		--status /tmp/loop-$1.status >/tmp/loop-$1.out 2>&1 &
	echo $! >/tmp/loop-$1.pid
}
# ve_loop_get NAME KEY: a running count (exits, on_cpu, arrivals,
# interrupted, repins, cpu, done), 0 before the first status.
ve_loop_get() {
	v=$(awk -v k="$2" '{ for (i = 1; i < NF; i += 2) if ($i == k) print $(i + 1) }' \
		/tmp/loop-$1.status 2>/dev/null)
	echo "${v:-0}"
}
# ve_loop_status NAME: all its counts, as one line ("exits E on_cpu N ...").
ve_loop_status() { cat /tmp/loop-$1.status 2>/dev/null; }
# ve_loop_wait NAME KEY MIN SECONDS: until the count reaches MIN.
ve_loop_wait() {
	n=$(($4 * 10))
	while [ "$(ve_loop_get "$1" "$2")" -lt "$3" ]; do
		[ "$(ve_loop_get "$1" done)" = 0 ] || return 1
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
	done
}
# ve_loop_stop NAME: stop it; its exit status, its result line(s) as
# comments.  One that does not end within 30 s (a vCPU stuck in KVM) is
# killed.
ve_loop_stop() {
	pid=$(cat /tmp/loop-$1.pid)
	touch /tmp/loop-$1.stop
	n=300
	while [ "$n" -gt 0 ] && [ -r /proc/$pid/stat ] &&
	      [ "$(awk '{ print $3 }' /proc/$pid/stat)" != Z ]; do
		sleep 0.1
		n=$((n - 1))
	done
	[ "$n" -gt 0 ] || { ve_say "# the vCPU loop $1 did not stop in 30 s: killed"; kill -KILL "$pid"; }
	wait "$pid"
	rc=$?
	if [ "$rc" = 0 ]; then
		grep ' loop: ' /tmp/loop-$1.out
	else
		grep -v '^ok - ' /tmp/loop-$1.out
	fi | sed 's/^/# /' | while read -r line; do ve_say "$line"; done
	return "$rc"
}
# ve_loop_grows NAME SECONDS: the count of exits grows past its value now
# (by 20, every one in sequence, or the loop would have ended).
# One that does not is said (ve_loop_stalled).
ve_loop_grows() {
	ve_loop_wait "$1" exits $(($(ve_loop_get "$1" exits) + 20)) "$2" && return 0
	ve_loop_stalled "$VE_SUITE" "$1"
	return 1
}
# ve_loop_stalled LABEL NAME: where a vCPU loop that stopped counting is:
# its threads (state, CPU, wchan, the kernel stack of the one in KVM_RUN),
# KVM's exits on its CPU for a second (kvm:kvm_exit: reason and guest RIP,
# which tell a guest that no longer exits from an exit KVM takes again and
# again), and that CPU's run queue (SCHED_DEBUG).
ve_loop_stalled() {
	cpu=$(ve_loop_get "$2" cpu)
	ve_say "# $1: vCPU loop $2 stalled at $(ve_loop_get "$2" exits) exits, last on CPU $cpu"
	if ! kill -0 "$(cat /tmp/loop-$2.pid)" 2>/dev/null; then
		ve_say "# $1: it has exited:"
		sed "s/^/# $1:   /" /tmp/loop-$2.out | while read -r l; do ve_say "$l"; done
		return 0
	fi
	for t in /proc/$(cat /tmp/loop-$2.pid)/task/*; do
		ve_say "# $1: thread ${t##*/}" \
			"$(awk '{ print "state " $3 " cpu " $39 }' "$t/stat")" \
			"wchan $(cat "$t/wchan" 2>/dev/null)"
		sed "s/^/# $1:   /" "$t/stack" 2>/dev/null | while read -r l; do ve_say "$l"; done
	done
	ve_kvm_exits "$1" "$cpu"
	f=/sys/kernel/debug/sched/debug
	[ -r $f ] || f=/proc/sched_debug
	[ -r $f ] || return 0
	sed -n "/^cpu#$cpu,/,/^cpu#$((cpu + 1)),/p" $f | grep -v "^cpu#$((cpu + 1))," |
		head -n 80 | while read -r l; do ve_say "# $1:   $l"; done
}
# ve_kvm_exits LABEL CPU: KVM's exits on CPU for a second, counted, and
# the last few.
ve_kvm_exits() {
	T=/sys/kernel/tracing
	grep -q " $T " /proc/mounts || mount -t tracefs tracefs $T
	[ -d $T/events/kvm/kvm_exit ] || return 0
	mask=$(cat $T/tracing_cpumask)
	echo 0 >$T/tracing_on
	echo >$T/trace
	printf '%x\n' $((1 << $2)) >$T/tracing_cpumask
	echo 1 >$T/events/kvm/kvm_exit/enable
	echo 1 >$T/tracing_on
	sleep 1
	echo 0 >$T/tracing_on
	echo 0 >$T/events/kvm/kvm_exit/enable
	echo "$mask" >$T/tracing_cpumask
	ve_say "# $1: $(grep -vc '^#' $T/trace) KVM exits on CPU $2 in 1 s; the last:"
	grep -v '^#' $T/trace | tail -n 6 | while read -r l; do ve_say "# $1:   $l"; done
	rip=$(grep -v '^#' $T/trace | tail -n 1 | sed -n 's/.* rip \(0x[0-9a-f]*\).*/\1/p')
	echo >$T/trace
	case $rip in
	0xffff*) ve_say "# $1: guest RIP $rip is the host's $(ve_host_symbol "$rip")" ;;
	esac
}
# ve_host_symbol ADDR: the kernel symbol ADDR falls in, as sym+0xoff [mod].
ve_host_symbol() {
	# Kernel text is all in 0xffffffff........: awk's doubles hold the rest.
	awk -v a="${1#0x}" 'function h(s,  i, n) { n = 0; s = tolower(s)
		if (substr(s, 1, 8) != "ffffffff") return -1
		for (i = 9; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return n }
		BEGIN { t = h(a) } { v = h($1); if (v <= t && v > best) { best = v; sym = $3 " " $4 } }
		END { printf "%s+0x%x\n", sym, t - best }' /proc/kallsyms
}
# ve_loop_runs_on NAME CPU SECONDS: its last exit was on CPU.
ve_loop_runs_on() {
	n=$(($3 * 10))
	until [ "$(ve_loop_get "$1" cpu)" = "$2" ]; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
	done
}
