#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: the tests of virt_enable, as `make check` (TIER=ci, the
# default) and `make check-full` (TIER=full) run them.
#
# Installs what it needs from Debian's packages, times the yardstick
# (tests/vm/yardstick.sh), builds the test kernels and the modules at W=1,
# boots the guests (QEMU: AMD SVM; Bochs: Intel VMX) that run the in-guest
# suites, runs the host-side checks, and counts every result.  Ends with a
# time table (each job's host seconds, its share of the run, and the run
# in yardsticks) and "N passed, N failed, N skipped"; exits non-zero if
# anything failed.
#
# The CI tier runs everything that guards a promise at least once per
# emulator and kernel.  The full tier adds what proves that tests can fail
# (negative-control guests, the deliberate bugs of tests/mutate.sh), the
# KASAN kernel, and the repetitions CI leaves to QEMU or to the other
# kernel: in the Bochs guests lockdep proving, KVM's selftests in full, the
# suites whole (ve.brief), and the SUITE@full of the guest table.
#
# A selection, for a quicker loop (comma-separated; unset means all):
#   GUESTS=6.12-svm,6.1-vmx    only these guests (see the table below)
#   SUITES=kunit,scenario      only these suites in them
#   CHECKS=style,sparse        only these host-side checks ("none": none)
# With GUESTS or SUITES given and CHECKS not, no host-side check runs;
# with CHECKS alone, no guest boots.  The yardstick is timed only for a
# whole run, or with YARDSTICK=1.
set -uo pipefail

# The whole script is one compound command, which bash reads in full
# before it runs any of it: an edit to this file during a run (a long one)
# cannot change what that run does next.
{
. "$(dirname "$0")/vm/lib.sh"

passed=0
failed=0
skipped=0
pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
skip() { skipped=$((skipped + 1)); echo "SKIP: $*"; }
finish() {
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
	exit
}

# check WHAT COMMAND...: one host-side result.
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

vm=$VE_ROOT/tests/vm

# One run at a time per cache: runs share the kernel trees and the staging
# directories, so a second one waits for the first.  A nested run (the
# full tier's KASAN job) already holds the lock.
if [ -z "${VE_CHECK_LOCKED:-}" ]; then
	mkdir -p "$VE_CACHE"
	exec 9>"$VE_CACHE/check.lock"
	flock -n 9 || { echo "waiting for another make check on $VE_CACHE"; flock 9; }
	export VE_CHECK_LOCKED=1
fi

tier=${TIER:-ci}
case $tier in ci | full) ;; *) echo "TIER=$tier: ci or full" >&2; exit 2 ;; esac
run=${VE_RUN:-$VE_CACHE/run}
rm -rf "$run"
mkdir -p "$run"
started=$SECONDS

# timed NAME SECONDS: one row of the time table.
timed() { echo "$1 $2" >>"$run/times"; }

# --- what runs ------------------------------------------------------------------

# Guests: name, kernel, initramfs, emulator, feature, CPUs, suites, extra
# command line.  The initramfs is "full" (every suite) or "chain": the small
# one the kexec'd kernel gets (tests/vm/stage.sh), which holds the kexec
# and crash suites and is much quicker to boot in Bochs.  "kexec", "crash" and their
# negative controls end their kernel: the next one (kexec'd, or the capture
# kernel) reports and runs the suites after them.  The negative controls
# need a CPU 1 that nothing else has stopped, so each has a guest of its own.
# KUnit drives a fake backend, so it needs no real VMX: it runs in the QEMU
# guests of each kernel, and in one Bochs guest only, to show its checks
# hold on a kernel that the emulator's boot-time WARN has already tainted
# (in the full tier:
# "SUITE@full"; so are the Bochs repetitions of the vendor-independent
# sysfs and trace suites, which CI runs in QEMU).  The built-in
# kernel boots twice: its initialization can fail only at boot (with
# virt_enable.tdx=on, there being no TDX here), in a small guest of its own.
# A guest ends with a poweroff, or a reboot with ve.end=reboot (the built-in
# one, whose shutdown suite then checks the hardware on the reboot path).
# Sharing in QEMU is ve_hv2 alone in CI (the Bochs guests run every part),
# and every part in the full tier: its vCPU on CPU 0 "stalled" there, which
# was QEMU's multi-threaded TCG handing that nested guest the host's state
# (ve_qemu_tcg in tests/vm/lib.sh).  Bochs 6.12 crashes from its first
# kernel in CI, and kexecs first (then crashes from the kexec'd kernel) in
# the full tier: a kexec costs Bochs 4-5 minutes, mostly hashing the next
# kernel and its root, and its VMX part (virt_enable's shutdown hook
# turning VMX off under a held reference and KVM's running vCPUs) is what
# Bochs checks in CI on the TDX kernel's poweroff (shutdown); kexec's own
# path runs in QEMU's CI on both kernels.  Stress has a guest of its own,
# multi-threaded: the others run KVM's guests, so QEMU runs them
# single-threaded (ve_qemu_tcg in tests/vm/lib.sh).
guests=(
	"6.12-svm 6.12 full qemu svm 4 kunit,scenario,selftests,sysfs,trace,suspend,bench,kvm,kvmlife,sharing,kvmselftests,ridealong@full,kexec,crash ve.kvm=percpu"
	"6.12-vmx 6.12 full bochs vmx 2 scenario,selftests@full,sysfs@full,trace@full,suspend,kvm,kvmlife,sharing,kvmselftests,ridealong@full,kexec@full,crash ve.kvm=percpu crashkernel=96M"
	"6.1-svm 6.1 full qemu svm 4 kunit,scenario,selftests,sysfs,trace,kvm,kvmlife,sharing,kvmselftests@full,ridealong@full,kexec,crash ve.kvm=percpu"
	"6.1-stress 6.1 full qemu svm 4 stress"
	"6.1-vmx 6.1 full bochs vmx 2 scenario@full,selftests@full,kvm,kvmlife,sharing@full,kvmselftests@full,ridealong@full,kexec@full ve.kvm=percpu"
	"6.12-builtin-svm 6.12-builtin full qemu svm 4 kunit,builtin,selftests,sysfs,kvm,shutdown ve.kvm=percpu ve.end=reboot"
	"6.12-builtin-noinit 6.12-builtin full qemu svm 2 builtin virt_enable.tdx=on"
	"6.12-tdx-svm 6.12-tdx full qemu svm 4 kunit@full,shutdown@full"
	"6.12-tdx-vmx 6.12-tdx full bochs vmx 2 kunit@full,tdx,shutdown ve.kvm=percpu"
)
# The full tier's guests: negative controls, which prove that a test can
# fail and need not prove it again on every change; and kexec and crash on
# top of an unmodified KVM (ve.kexec=ride, ve.crash=ride: see
# tests/guest/kexec.sh and crash.sh), in guests of their own since a
# kernel ends once.
full_guests=(
	"6.12-vmx-kexec-neg 6.12 chain bochs vmx 2 kexec-neg"
	"6.12-vmx-crash-neg 6.12 chain bochs vmx 2 crash-neg crashkernel=96M"
	"6.12-svm-kexec-neg 6.12 chain qemu svm 2 kexec-neg"
	"6.12-svm-crash-neg 6.12 chain qemu svm 2 crash-neg crashkernel=96M"
	"6.12-vmx-kexec-ride 6.12 full bochs vmx 2 kexec ve.kexec=ride"
	"6.1-vmx-kexec-ride 6.1 full bochs vmx 2 kexec ve.kexec=ride"
	"6.12-svm-kexec-ride 6.12 full qemu svm 4 kexec ve.kexec=ride"
	"6.1-svm-kexec-ride 6.1 full qemu svm 4 kexec ve.kexec=ride"
	"6.12-vmx-crash-ride 6.12 full bochs vmx 2 crash ve.crash=ride crashkernel=96M"
	"6.1-vmx-crash-ride 6.1 full bochs vmx 2 crash ve.crash=ride crashkernel=96M"
	"6.12-svm-crash-ride 6.12 full qemu svm 4 crash ve.crash=ride crashkernel=96M"
	"6.1-svm-crash-ride 6.1 full qemu svm 4 crash ve.crash=ride crashkernel=96M"
)
[ "$tier" = ci ] || guests+=("${full_guests[@]}")
all_checks="headers debian style sparse docs"
# The KASAN job's guest and suites: the 6.1 kernel (clang) rebuilt with
# KASAN, in QEMU: KUnit, the core, the stress suite and the sharing window.
kasan_suites=kunit,scenario,selftests,stress,sharing
[ "$tier" = ci ] || all_checks+=" mutate ordering bisect kasan"

selected() { [ -z "$2" ] || [[ ,$2, == *,$1,* ]]; }
checks_wanted=${CHECKS:-}
if [ -z "$checks_wanted" ]; then
	if [ -n "${GUESTS:-}${SUITES:-}" ]; then checks_wanted=none; else checks_wanted=${all_checks// /,}; fi
fi

declare -A kernel_wanted
run_guests=()
for g in "${guests[@]}"; do
	read -r name kname _ _ _ _ suites _ <<<"$g"
	selected "$name" "${GUESTS:-}" || continue
	# CHECKS alone selects host-side checks only.
	[ -z "${CHECKS:-}" ] || [ -n "${GUESTS:-}${SUITES:-}" ] || continue
	kernel_wanted[$kname]=1
	run_guests+=("$g")
done
selected sparse "$checks_wanted" && kernel_wanted[6.12]=1
if selected bisect "$checks_wanted"; then kernel_wanted[6.12]=1 kernel_wanted[6.1]=1; fi
# The kernels that start from 6.12's built tree need it built, if not staged.
[ -z "${kernel_wanted[6.12-builtin]:-}${kernel_wanted[6.12-tdx]:-}" ] ||
	kernel_wanted[6.12]=${kernel_wanted[6.12]:-seed}
# A selection is the quick loop: a change to virt_enable's .c files
# rebuilds the module, not the in-tree kernels (tests/intree.sh).
[ -z "${GUESTS:-}${SUITES:-}" ] || export VE_QUICK=1

check "Debian packages installed" "$vm/deps.sh" || finish

# The yardstick first, alone, so that nothing else competes with it.
yardstick=
if [ "${YARDSTICK:-}" = 1 ] || { [ "${YARDSTICK:-}" != 0 ] && [ -z "${GUESTS:-}${SUITES:-}${CHECKS:-}" ]; }; then
	if yardstick=$("$vm/yardstick.sh"); then
		pass "yardstick: linux 6.12 tinyconfig built in $yardstick s"
		timed yardstick "$yardstick"
	else
		fail "yardstick: linux 6.12 tinyconfig builds"
		yardstick=
	fi
fi

# --- jobs: guests and host-side checks, two at a time -------------------------

jobs_started=()
declare -A staged
job() {
	local name=$1
	shift
	while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n; done
	{
		local t=$SECONDS
		"$@"
		echo $? >"$run/$name.rc"
		timed "$name" $((SECONDS - t))
	} >"$run/$name.out" 2>&1 &
	jobs_started+=("$name")
}

# kept_suites SUITES: those of a guest's SUITES this run runs, comma-separated.
kept_suites() {
	local s kept=

	for s in ${1//,/ }; do
		# SUITE@full: in the full tier only (a repetition CI can spare).
		if [[ $s == *@full ]]; then
			[ "$tier" = full ] || continue
			s=${s%@full}
		fi
		selected "$s" "${SUITES:-}" && kept+=${kept:+,}$s
	done
	echo "$kept"
}

# stage_kvm KERNEL: what of the unmodified KVM its guests need staged
# (tests/vm/stage.sh's VE_STAGE_KVM): its modules for the suites that load
# it, KVM's selftests for the suite that runs them.
stage_kvm() {
	local g name kname suites want=

	for g in "${run_guests[@]}"; do
		read -r name kname _ _ _ _ suites _ <<<"$g"
		[ "$kname" = "$1" ] || continue
		suites=,$(kept_suites "$suites"),
		[[ $suites != *,scenario,* && $suites != *,builtin,* && $suites != *,kvmselftests,* &&
		   $suites != *,sharing,* && $suites != *,ridealong,* ]] ||
			want+=,stock
		[[ $suites != *,kvmselftests,* ]] || want+=,selftests
	done
	echo "${want:-,none}" | cut -c2-
}

# guest NAME KERNEL INITRAMFS EMULATOR FEATURE CPUS SUITES [CMDLINE]
guest() {
	local name=$1 kname=$2 initramfs=$3 emulator=$4 feature=$5 cpus=$6 suites=$7 extra=${8:-}
	local kept initrd=$run/$kname/initramfs.cpio end=poweroff

	kept=$(kept_suites "$suites")
	[ -n "$kept" ] || return 0
	[ -n "${staged[$kname]:-}" ] || return 0
	[ "$initramfs" = full ] || initrd=$run/$kname/stage/boot/chain.cpio
	# Bochs is slow enough that a long loop without a reschedule (6.1's
	# kexec_file_load hashing its segments) passes RCU's 21 s stall limit
	# when the host is busy: allow the limit's maximum there.
	[ "$emulator" != bochs ] || extra+=" rcupdate.rcu_cpu_stall_timeout=300"
	# CI's Bochs guests: lockdep tracks locks but does not prove the
	# dependency graph (QEMU's guests and make check-full do, on the same
	# code), KVM's selftests run their short VMX list, and the suites their
	# brief form (ve_brief in tests/guest/lib.sh says what each leaves out).
	[[ $emulator != bochs || $tier != ci ]] ||
		extra+=" lockdep.prove_locking=0 ve.kvmselftests=ci ve.brief=1"
	[ -z "${KASAN:-}" ] || extra+=" ve.kasan=1"
	# CI's QEMU guests: ve_hv2 alone (the comment above the guest table).
	[[ $emulator != qemu || $tier != ci ]] || extra+=" ve.sharing=alone"
	[[ " $extra " != *" ve.end=reboot "* ]] || end=reboot
	# QEMU: single-threaded where KVM's guests run (ve_qemu_tcg).
	local tcg=
	[ "$emulator" != qemu ] || tcg=$(ve_qemu_tcg "$kept")
	echo "$kname $feature $cpus $end ${kept//,/ }" >"$run/$name.guest"
	job "$name" "$vm/boot.sh" "$emulator" ${tcg:+--tcg $tcg} \
		--kernel "${kernel[$kname]}/arch/x86/boot/bzImage" \
		--initrd "$initrd" --log "$run/$name.log" --cpus "$cpus" \
		--timeout 2400 \
		--append "printk.devkmsg=on ve.panic_on_warn=1 ve.suites=$kept ve.feature=$feature $extra"
}

# start_guests long|bochs|qemu: start those guests not started yet whose
# kernel is staged.
declare -A guest_started
start_guests() {
	local g name kname initramfs emu feature cpus suites extra

	for g in "${run_guests[@]}"; do
		read -r name kname initramfs emu feature cpus suites extra <<<"$g"
		case $1 in
		long) [[ " $long_guests " == *" $name "* ]] || continue ;;
		*) [ "$emu" = "$1" ] || continue ;;
		esac
		[ -z "${guest_started[$name]:-}" ] || continue
		[ -n "${staged[$kname]:-}" ] || continue
		guest_started[$name]=1
		guest "$name" "$kname" "$initramfs" "$emu" "$feature" "$cpus" "$suites" "$extra"
	done
}

# --- kernels and modules ---------------------------------------------------------

# kernel_cmd NAME: how that kernel is built; it prints its build directory.
# Two kernels of their own source each (6.12 with gcc, 6.1 with clang:
# gcc and clang build every line of the module at W=1, and both compilers'
# code runs in every suite of one kernel or the other; Debian's 6.1 headers
# give the gcc build of 6.1's compatibility code, tests/headers.sh), and
# two that start as a copy of 6.12's built tree and rebuild only what
# their config changes: built-in, and the TDX host kernel (INTEL_TDX_HOST,
# without kexec, which 6.12 cannot have with it).
kernel_cmd() {
	case $1 in
	6.12) echo "$VE_ROOT/tests/intree.sh 6.12 kvm $vm/config/intree-m.config" ;;
	6.12-builtin) echo "$VE_ROOT/tests/intree.sh --seed ${kernel[6.12]:-none} 6.12 kvm-builtin $vm/config/intree-y.config" ;;
	6.1) echo "$VE_ROOT/tests/intree.sh --llvm 6.1 kvm $vm/config/intree-m.config ${KASAN:+$vm/config/kasan.config}" ;;
	6.12-tdx) echo "$VE_ROOT/tests/intree.sh --seed ${kernel[6.12]:-none} 6.12 kvm-tdx $vm/config/intree-m.config $vm/config/tdx.config" ;;
	esac
}

# Modules at W=1, warning-free, with the kernel's own compiler; -B in a
# whole run, since a warning only shows when its file is compiled (a
# selection, the quick loop, recompiles only what changed).
stage() {
	local args=(W=1)

	[ -n "${GUESTS:-}${SUITES:-}" ] || args+=(-B)
	local t=$SECONDS

	VE_STAGE_KVM=$(stage_kvm "$1") VE_STOCK_KVM_KERNEL=${kernel[6.12]:-} \
		"$vm/stage.sh" "${kernel[$1]}" "$run/$1" "${args[@]}" >"$run/stage-$1.log" 2>&1
	echo $? >"$run/stage-$1.rc"
	timed "stage-$1" $((SECONDS - t))
}
# The Debian job needs none of the test kernels: it starts first, and its
# downloads and single-threaded boots fill what the kernel builds leave idle.
# Debian's kernels boot the DKMS builds that the header checks make.
if selected headers "$checks_wanted" && selected debian "$checks_wanted"; then
	job distro sh -c "'$VE_ROOT/tests/headers.sh'; '$VE_ROOT/tests/debian.sh'"
elif selected headers "$checks_wanted"; then
	job headers "$VE_ROOT/tests/headers.sh"
elif selected debian "$checks_wanted"; then
	job debian "$VE_ROOT/tests/debian.sh"
fi
# Each kernel is built, then staged, then its long guests start, while
# the next kernel builds: the two Bochs guests that bound the run (6.12's
# and 6.1's) start as early as they can.  6.12 first, then 6.1, then the
# two that start from 6.12's built tree (see kernel_cmd).
long_guests="6.12-vmx 6.1-vmx"
declare -A kernel
for name in 6.12 6.1 6.12-builtin 6.12-tdx; do
	[ -n "${kernel_wanted[$name]:-}" ] || continue
	t=$SECONDS
	if ! kernel[$name]=$($(kernel_cmd "$name")); then
		fail "kernel $name builds"
		unset "kernel[$name]"
		continue
	fi
	pass "kernel $name builds ($((SECONDS - t)) s)"
	timed "kernel-$name" $((SECONDS - t))
	[ "${kernel_wanted[$name]}" != seed ] || continue
	stage "$name"
	log=$run/stage-$name.log
	if [ "$(cat "$run/stage-$name.rc")" = 0 ] && ! grep -q 'warning:' "$log"; then
		pass "$name: modules build at W=1 without warnings, guest initramfs packs"
		staged[$name]=1
	else
		fail "$name: modules build at W=1 without warnings, guest initramfs packs"
		sed 's/^/      /' "$log" | tail -n 30
	fi
	# In the full tier the deliberate bugs come first (below): about 100
	# minutes of guests one after another, the longest job there.
	[ "$tier" = full ] || start_guests long
done

# Full tier, early since they are long: the KASAN kernel (a kernel of its
# own) and the deliberate bugs (the old KVM ordering among them), and
# every prefix of the KVM series built.
! selected mutate "$checks_wanted" || job mutate "$VE_ROOT/tests/mutate.sh"
! selected ordering "$checks_wanted" || job ordering "$VE_ROOT/tests/ordering-neg.sh"
! selected bisect "$checks_wanted" ||
	job bisect "$VE_ROOT/tests/bisect.sh" "${kernel[6.12]:-none}" "${kernel[6.1]:-none}"
! selected kasan "$checks_wanted" ||
	job kasan env KASAN=1 GUESTS=6.1-svm,6.1-stress SUITES=$kasan_suites CHECKS=none TIER=ci YARDSTICK=0 \
		VE_RUN="$run/kasan-run" "$VE_ROOT/tests/check.sh"
# Then the longest first, so that the two slots end close together: the
# other Bochs guests, then QEMU's.
start_guests bochs
start_guests qemu
! selected style "$checks_wanted" || job style "$VE_ROOT/tests/style.sh"
! selected docs "$checks_wanted" || job docs "$VE_ROOT/tests/docs.sh"
! selected sparse "$checks_wanted" || job sparse "$VE_ROOT/tests/sparse.sh" "${kernel[6.12]:-}"
wait

# --- results -----------------------------------------------------------------

job_ok() { [ "$(cat "$run/$1.rc" 2>/dev/null)" = 0 ]; }

# The one warning a KUnit case triggers on purpose.
kunit_warn='virt_enable_put\+0x[0-9a-f]+/0x[0-9a-f]+ \[virt_enable_test\]'
# A suite that ends its kernel reports from the next one.
after() {
	case $1 in
	kexec | crash | kexec-neg | crash-neg) echo "$1-after" ;;
	*) echo "$1" ;;
	esac
}

# count_lines: count the PASS/FAIL/SKIP lines read; show the rest indented.
count_lines() {
	local line
	while IFS= read -r line; do
		case $line in
		"PASS: "*) pass "${line#PASS: }" ;;
		"FAIL: "*) fail "${line#FAIL: }" ;;
		"SKIP: "*) skip "${line#SKIP: }" ;;
		"      "*) echo "$line" ;;
		*) echo "      $line" ;;
		esac
	done
}

# guest_results NAME: count what a guest reported, and what its log shows.
guest_results() {
	local name=$1 log=$run/$1.log suite
	local kname feature cpus end suites allow=()

	read -r kname feature cpus end suites <"$run/$name.guest"
	check "$name: guest ran to the end" job_ok "$name"
	sed 's/^/      /' "$run/$name.out"
	count_lines < <(ve_guest_tap "$log" "$name")
	for suite in $suites; do
		check "$name: suite $suite finished" \
			grep -q "VE: suite $(after "$suite") end rc=0" "$log"
	done
	if [[ " $suites " == *" shutdown "* ]]; then
		# The kernel's last words: "reboot: Power down" or "reboot:
		# Restarting system", then ve_probe's reading of every CPU.
		local last_words="Power down"
		[ "$end" = poweroff ] || last_words="Restarting system"
		check "$name: the guest ended by $end (\"reboot: $last_words\")" \
			grep -q "reboot: $last_words" "$log"
		check "$name: $end with a reference held: $feature off on all $cpus CPUs (hardware)" \
			[ "$(grep -c "ve_probe: shutdown: cpu [0-9]* $feature off" "$log")" = "$cpus" ]
	fi
	if [[ $name == *-kexec-ride ]]; then
		# What ve_testuser found in its ->cpu_disabling at shutdown,
		# before KVM turned the hardware off (tests/guest/kexec.sh).
		check "$name: kexec riding KVM: ve_testuser told on all $cpus CPUs, $feature still on each time" \
			eval '[ "$(grep -c "ve_testuser: disabling: user ride cpu [0-9]* $feature on" "$log")" = "$cpus" ] &&
			      ! grep -q "ve_testuser: disabling: user ride cpu [0-9]* $feature off" "$log"'
	fi
	if [[ " $suites " == *" kunit "* ]]; then
		check "$name: kunit: the unbalanced put warned exactly once" \
			[ "$(grep -cE "WARNING: .* $kunit_warn" "$log")" = 1 ]
		allow+=(--allow "$kunit_warn")
	fi
	[[ " $suites " != *" crash "* && " $suites " != *" crash-neg "* ]] || allow+=(--crash)
	# The kexec suite's vCPUs loop on into kexec -e (check-log.sh says
	# what the unwinder then reports, and why it is the kernel's own).
	[[ " $suites " != *" kexec "* ]] || allow+=(--vcpu-unwind)
	check "$name: no other kernel warning, lockdep report or oops" \
		"$vm/check-log.sh" "$log" "${allow[@]}"
}

# sub_results NAME: count the PASS/FAIL lines a host-side job printed.
sub_results() {
	check "$1: ran" job_ok "$1"
	count_lines <"$run/$1.out"
}

for name in "${jobs_started[@]}"; do
	if [ -f "$run/$name.guest" ]; then
		guest_results "$name"
	else
		sub_results "$name"
	fi
done

# time_table: every job's host seconds and share of the run, longest
# first, and the run measured in yardsticks.
time_table() {
	local total=$((SECONDS - started))

	echo "time table (host seconds; jobs ran two at a time):"
	sort -k2,2nr "$run/times" 2>/dev/null |
		awk -v total="$total" '{ printf "      %-24s %6d s %5.1f%%\n", $1, $2, total ? 100 * $2 / total : 0 }'
	if [ -n "$yardstick" ] && [ "$yardstick" -gt 0 ]; then
		awk -v t="$total" -v y="$yardstick" -v tier="$tier" \
			'BEGIN { printf "      total %d s = %.1f yardsticks of %d s (tier %s)\n", t, t / y, y, tier }'
	else
		echo "      total $total s (tier $tier; no yardstick timed)"
	fi
}

echo "logs in $run, $((SECONDS - started)) s"
time_table
finish
}
