#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-log.sh LOG [--allow REGEX]... [--crash] [--vcpu-unwind]
#
# Scan a guest's serial log for kernel splats (WARN, BUG, oops, panic,
# lockdep, hung task, sleep-in-atomic, sanitizer and kmemleak reports) and
# print each with 10 lines of context.  WARNINGs whose "WARNING:" line
# matches an allowed extended regex are skipped, their whole splat up to
# "---[ end trace" with them: the Bochs artefacts from RIG.md always are,
# --allow adds more.  With --crash, the deliberate crashes of the crash
# suites are skipped too: from their "triggering a crash" line to the
# capture kernel's banner.  With --vcpu-unwind, the frame-pointer
# unwinder's "bad 'bp' value" report is skipped when its stack dump shows
# the interrupted frame inside KVM's __svm_vcpu_run or __vmx_vcpu_run: a
# vCPU that runs on into a reboot or kexec keeps executing VMRUN/VMLAUNCH
# after the hardware went off, each faults into KVM's kvm_rebooting fixup
# with the guest's RBP still loaded and interrupts on (6.1 SVM enables
# them around VMRUN), and an interrupt that walks the stack then (lockdep
# recording a lock class, perf's reboot IPI) cannot go past that frame.
# The kernel does this on its own, stock KVM included; any other report,
# or one whose dump does not name the vCPU run, still counts.
# Exit status: 0 clean, 1 splats found.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() { ve_die "usage: check-log.sh LOG [--allow REGEX]... [--crash] [--vcpu-unwind]"; }

# Bochs CPU models trip these at boot; they are emulator artefacts, not bugs.
allow=(
	'arch/x86/kernel/cpu/topology_common\.c:[0-9]+ parse_legacy'
	'fpu__init_system_xstate'
)
log=
crash=0
vcpu_unwind=0
while [ $# -gt 0 ]; do
	case $1 in
	--allow) [ $# -ge 2 ] || usage; allow+=("$2"); shift 2 ;;
	--crash) crash=1; shift ;;
	--vcpu-unwind) vcpu_unwind=1; shift ;;
	-*)      usage ;;
	*)       [ -z "$log" ] || usage; log=$1; shift ;;
	esac
done
[ -n "$log" ] || usage
[ -f "$log" ] || ve_die "no log at $log"

allow_re=$(printf '(%s)|' "${allow[@]}")
allow_re=${allow_re%|}
splat_re='WARNING:|BUG:|Oops|Kernel panic|general protection fault'
splat_re+='|possible recursive locking|possible circular locking'
splat_re+='|inconsistent lock state|lockdep|INFO: task .* blocked|Call Trace'
splat_re+='|sleeping function called from invalid context|UBSAN:|KASAN:'
splat_re+='|unreferenced object'
# Reports say "BUG: KASAN: ...", "KASAN: null-ptr-deref", "UBSAN: ...": the
# colon keeps a test named after KASAN from counting as one.  Boot banners
# that merely name a debug feature, and the command line the kernel echoes
# (CI's Bochs guests boot with lockdep.prove_locking=0):
banner_re='RCU lockdep checking is enabled|(Kernel c|C)ommand line: '

# Bash rather than awk: mawk's regexes lack {m,n}, which --allow may use.
bad=()
allowed=0
in_allowed=0
in_crash=0
unwind_at=0
unwind_seen=0
unwind_head="kernel stack regs at .* has bad 'bp' value"
unwind_dump='^(\(____ptrval____\)|[0-9a-f]{16}): |^unwind stack type'
n=0
while IFS= read -r line || [ -n "$line" ]; do
	n=$((n + 1))
	line=${line%$'\r'}
	if ((unwind_at)); then
		if [[ $line =~ $unwind_dump ]]; then
			[[ ! $line =~ __(svm|vmx)_vcpu_run\+ ]] || unwind_seen=1
			continue
		fi
		((unwind_seen)) || bad+=("$unwind_at")
		((!unwind_seen)) || allowed=$((allowed + 1))
		unwind_at=0
	fi
	if ((vcpu_unwind)) && [[ $line =~ $unwind_head ]]; then
		unwind_at=$n
		unwind_seen=0
		continue
	fi
	if ((crash)); then
		[[ $line != *'VE: '*'triggering a crash'* ]] || in_crash=1
		[[ $line != *'Linux version'* ]] || in_crash=0
		((!in_crash)) || continue
	fi
	# A new splat ends an allowed one that lost its end marker.
	[[ $line != *'[ cut here ]'* ]] || in_allowed=0
	if ((in_allowed)); then
		[[ $line != *'---[ end trace'* ]] || in_allowed=0
		# panic_on_warn panics inside the splat: that is never fine.
		[[ $line != *'Kernel panic'* ]] || bad+=("$n")
	elif [[ $line == *WARNING:* && $line =~ $allow_re ]]; then
		in_allowed=1
		allowed=$((allowed + 1))
	elif [[ $line =~ $splat_re && ! $line =~ $banner_re ]]; then
		bad+=("$n")
	fi
done <"$log"
((!unwind_at || unwind_seen)) || bad+=("$unwind_at")

if [ ${#bad[@]} -eq 0 ]; then
	echo "check-log: $log: clean ($allowed allowed warnings skipped)"
	exit 0
fi

# grep -C style: "N:" marks an offending line, "N-" context, "--" a gap.
awk -v bad="${bad[*]}" -v ctx=10 '
BEGIN {
	n = split(bad, b, " ")
	for (i = 1; i <= n; i++) {
		hit[b[i]] = 1
		for (j = b[i] - ctx; j <= b[i] + ctx; j++)
			show[j] = 1
	}
}
{ sub(/\r$/, "") }
FNR in show {
	if (last && FNR != last + 1)
		print "--"
	printf "%d%s%s\n", FNR, (FNR in hit) ? ":" : "-", $0
	last = FNR
}' "$log"
echo "check-log: $log: FAILED, ${#bad[@]} splat lines ($allowed allowed warnings skipped)"
exit 1
