#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# boot.sh qemu|bochs --kernel BZIMAGE --initrd CPIO --log LOG [--cpus N]
#         [--mem MB] [--append "EXTRA CMDLINE"] [--timeout SECONDS]
#         [--marker STRING] [--model BOCHS_CPU_MODEL] [--tcg single|multi]
#
# Boot a test guest, serial console to LOG, until a log line carries the
# marker, the guest ends or the timeout passes.  The one place that knows
# the emulators:
#
#   qemu   QEMU TCG, EPYC with SVM: the only real SVM on this host.
#          Defaults: 4 CPUs, 300 s, multi-threaded TCG (vCPUs really run
#          in parallel, which the race tests want).  --tcg single runs every
#          vCPU in one host thread, for kernels that patch their own text at
#          run time (jump labels): under QEMU 7.2's multi-threaded TCG a
#          vCPU once executed text_poke_bp's int3 after the patch had
#          completed ("Oops: int3" in Debian's kernel).  Our kernels have
#          no JUMP_LABEL.
#          Real S3: the guest's ACPI offers S3 (PIIX4_PM.disable_s3=0), and
#          a guest that prints "VE: s3: sleeping" and then suspends to RAM
#          is woken through a QMP socket (tests/vm/qmp-wake.py:
#          system_wakeup, once QEMU says it is suspended).
#   bochs  Bochs, corei7_haswell_4770 (zambezi for a second SVM): the only
#          emulator here that executes VMXON.  Defaults: 2 CPUs, 900 s.
#          Real S3 needs no help: on the guest's S3 request Bochs resets the
#          whole machine at once (every CPU loses its state, memory stays)
#          and its BIOS resumes at the kernel's wake vector.
#
# Both: 512 MB, marker VE-DONE, kernel command line "console=ttyS0 panic=-1
# log_buf_len=1M" (a suite that reads its results from the kernel log, as
# KUnit's does, must find them there after a deliberate bug's WARNs: 56 of
# them overflowed the test kernels' 128 kB) plus --append, plus
# "ve.s3=wake" (the guest may sleep in S3: it will be woken) unless
# --append gives ve.s3= a value of its own, e.g. "none" for a guest that
# should not spend the time.  Exit status: 0 marker seen, 2 timeout,
# 3 guest ended without the marker.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
	sed -n 's/^# \{0,1\}//; 4,6p' "$0" >&2
	exit 1
}

emulator=${1:-}
case $emulator in
qemu) cpus=4 timeout=300 ;;
bochs) cpus=2 timeout=900 ;;
*) usage ;;
esac
shift
kernel='' initrd='' log='' mem=512 append='' marker=VE-DONE
model=corei7_haswell_4770 tcg=multi
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || usage
	case $1 in
	--kernel)  kernel=$2 ;;
	--initrd)  initrd=$2 ;;
	--log)     log=$2 ;;
	--cpus)    cpus=$2 ;;
	--mem)     mem=$2 ;;
	--append)  append=$2 ;;
	--timeout) timeout=$2 ;;
	--marker)  marker=$2 ;;
	--model)   model=$2 ;;
	--tcg)     tcg=$2 ;;
	*)         usage ;;
	esac
	shift 2
done
if [ -z "$kernel" ] || [ -z "$initrd" ] || [ -z "$log" ]; then usage; fi
case $tcg in single|multi) ;; *) usage ;; esac
[ -f "$kernel" ] || ve_die "no kernel at $kernel"
[ -f "$initrd" ] || ve_die "no initrd at $initrd"
: >"$log"
log=$(realpath "$log")
cmdline="console=ttyS0 panic=-1 log_buf_len=1M $append"
# Both emulators wake a guest from a real S3 (above), unless told otherwise.
[[ " $cmdline " == *" ve.s3="* ]] || cmdline+=" ve.s3=wake"

tmp=$(mktemp -d)
pid=		# our child: qemu, or script(1) around bochs-bin
bochs_pid=	# bochs-bin, in the session script(1) made for it

qemu_start() {
	# -no-reboot turns the guest's panic=-1 reboot into an exit; serial
	# to the log only, and no monitor, so nothing touches the terminal;
	# QMP on a socket, to wake the guest from S3.
	qemu-system-x86_64 -accel tcg,thread="$tcg" -cpu EPYC,+svm -smp "$cpus" -m "$mem" \
		-nographic -no-reboot -monitor none -serial "file:$log" \
		-global PIIX4_PM.disable_s3=0 -qmp "unix:$tmp/qmp.sock,server=on,wait=off" \
		-kernel "$kernel" -initrd "$initrd" -append "$cmdline" \
		</dev/null >"$tmp/emulator.out" 2>&1 &
	pid=$!
}

# qemu_wake: wake the guest if it asked to be woken from S3 more often
# than it was, once QEMU says it sleeps.  Asks QEMU at most once a second.
s3_woken=0 s3_asked_at=0
qemu_wake() {
	local asked

	asked=$(grep -c 'VE: s3: sleeping' "$log" || true)
	[ "$asked" -gt "$s3_woken" ] && [ $SECONDS -gt "$s3_asked_at" ] || return 0
	s3_asked_at=$SECONDS
	if [ "$("$(dirname "$0")/qmp-wake.py" "$tmp/qmp.sock" 2>>"$tmp/emulator.out")" = woken ]; then
		s3_woken=$((s3_woken + 1))
		ve_log "qemu: woke the guest from S3 ($s3_woken)"
	fi
}

qemu_said() {
	# EPYC always draws "TCG doesn't support requested feature" warnings.
	grep -v "TCG doesn't support" "$tmp/emulator.out" | tail -n 10 || true
}

bochs_start() {
	# bochsrc has no quoting: a comma or blank would split the com1 line.
	case $log in *[,[:space:]]*) ve_die "bochs cannot log to a path with commas or blanks: $log" ;; esac

	# Bochs cannot load a bzImage: boot it from an El Torito ISO.
	mkdir -p "$tmp/iso/isolinux"
	cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 \
		"$tmp/iso/isolinux/"
	cp "$kernel" "$tmp/iso/isolinux/linux"
	cp "$initrd" "$tmp/iso/isolinux/initrd"
	cat >"$tmp/iso/isolinux/isolinux.cfg" <<-EOF
	SERIAL 0 115200
	DEFAULT linux
	PROMPT 0
	TIMEOUT 0
	LABEL linux
	  KERNEL linux
	  INITRD initrd
	  APPEND $cmdline
	EOF
	xorriso -as mkisofs -quiet -o "$tmp/boot.iso" \
		-b isolinux/isolinux.bin -c isolinux/boot.cat \
		-no-emul-boot -boot-load-size 4 -boot-info-table "$tmp/iso" \
		2>"$tmp/xorriso.out" ||
		{ cat "$tmp/xorriso.out" >&2; ve_die "xorriso failed"; }

	# clock sync=none: guest time follows executed instructions, so a
	# slow host slows the guest instead of making it see stalls.
	cat >"$tmp/bochsrc" <<-EOF
	megs: $mem
	romimage: file=/usr/share/bochs/BIOS-bochs-latest, options=fastboot
	vgaromimage: file=/usr/share/vgabios/vgabios.bin
	cpu: model=$model, count=$cpus, ips=10000000, reset_on_triple_fault=0, ignore_bad_msrs=1
	pci: enabled=1, chipset=i440fx
	ata0-master: type=cdrom, path=$tmp/boot.iso, status=inserted
	boot: cdrom
	com1: enabled=1, mode=file, dev=$log
	clock: sync=none
	panic: action=fatal
	display_library: term
	log: $tmp/emulator.out
	EOF
	# Debian's Bochs is built with its debugger, which stops before the
	# first instruction: "c" lets it run.
	echo c >"$tmp/dbg.rc"

	# The term display needs a terminal: script(1) gives it a pty.
	# bochs-bin leaves script's session, hence the pid file to stop it by.
	TERM=vt100 SHELL=/bin/sh script -qfec "echo \$\$ >$tmp/bochs.pid; stty rows 25 cols 80; exec bochs-bin -q -f $tmp/bochsrc -rc $tmp/dbg.rc" /dev/null \
		</dev/null >"$tmp/console.out" 2>&1 &
	pid=$!
}

bochs_said() { tail -n 10 "$tmp/emulator.out" 2>/dev/null || true; }
bochs_wake() { :; }

# Stop the emulator if it still runs.  bochs-bin ignores SIGTERM and has
# nothing to save: kill it outright, while it is still script's child (so a
# reused pid is never hit), and let script reap it (init here does not reap
# orphans promptly).  QEMU gets TERM, then KILL.
stop_guest() {
	[ -n "$pid" ] || return 0
	[ -n "$bochs_pid" ] || [ ! -s "$tmp/bochs.pid" ] || bochs_pid=$(cat "$tmp/bochs.pid")
	if [ -n "$bochs_pid" ]; then
		[ "$(ps -o ppid= -p "$bochs_pid" | tr -d ' ')" != "$pid" ] ||
			kill -KILL "$bochs_pid" 2>/dev/null || true
	else
		kill "$pid" 2>/dev/null || true
	fi
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid='' bochs_pid=''
}
trap 'stop_guest; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# Bochs has no -no-reboot: a panicking guest would boot the ISO again and
# could print the marker a second time, so a panic or reboot line ends it,
# except in a deliberate crash (a crash suite says "triggering a crash"),
# which goes on in the capture kernel until its banner.
guest_alive() {
	kill -0 "$pid" 2>/dev/null &&
	! awk '/VE: .*triggering a crash/ { crash = 1 } /Linux version/ { crash = 0 }
	       !crash' "$log" | grep -qE 'Kernel panic - not syncing|reboot: Restarting system'
}
marker_seen() { grep -qF -- "$marker" "$log"; }

fail() {
	ve_log "$emulator: $1; last lines of $log:"
	tail -n 30 "$log" | tr -d '\r' >&2
	said=$("${emulator}_said")
	[ -z "$said" ] || { ve_log "$emulator said:"; echo "$said" >&2; }
	exit "$2"
}

start=$EPOCHREALTIME
"${emulator}_start"
deadline=$((SECONDS + timeout))
until marker_seen; do
	guest_alive || { marker_seen && break; fail "guest ended without printing $marker" 3; }
	[ $SECONDS -lt $deadline ] || fail "timeout: no $marker after $timeout s" 2
	"${emulator}_wake"
	sleep 0.2
done
elapsed=$(awk "BEGIN { printf \"%.1f\", $EPOCHREALTIME - $start }")

# Let the guest power off or reboot by itself: splats at shutdown belong in
# the log, and so does what the kernel prints after "reboot: Restarting
# system" (syscore shutdown's readings come after it).  QEMU exits either
# way (-no-reboot); Bochs exits on a power-off ("ACPI control: soft power
# off", rc 1) but would boot again on a reboot, so that ends it once its
# log has been quiet for a second.
quiet=0 size=-1
for _ in $(seq 100); do
	kill -0 "$pid" 2>/dev/null || break
	if ! guest_alive; then
		now=$(stat -c %s "$log")
		if [ "$now" = "$size" ]; then quiet=$((quiet + 1)); else quiet=0; fi
		size=$now
		[ "$quiet" -lt 5 ] || break
	fi
	sleep 0.2
done
stop_guest
ve_log "$emulator: $marker after $elapsed s ($cpus cpus$([ "$emulator" != qemu ] || echo ", $tcg-threaded TCG"))"
