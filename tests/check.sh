#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: every test of virt_enable, as `make check` runs it.
#
# Installs what it needs from Debian's packages, builds the test kernels
# (6.12 and 6.1 with gcc, 6.12 with clang, 6.12 with virt_enable built in)
# and the modules at W=1, boots the guests (QEMU: AMD SVM; Bochs: Intel VMX)
# that run the in-guest suites, runs the compile, packaging and style checks,
# and counts every result.  Ends with "N passed, N failed, N skipped"; exits
# non-zero if anything failed.
set -uo pipefail
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
run=$VE_CACHE/run
rm -rf "$run"
mkdir -p "$run"
started=$SECONDS

check "Debian packages installed" "$vm/deps.sh" || finish

# --- kernels and modules ---------------------------------------------------

declare -A kernel
build_kernel() {
	local name=$1
	shift
	if kernel[$name]=$("$@"); then
		pass "kernel $name builds"
	else
		fail "kernel $name builds"
		unset "kernel[$name]"
	fi
}
build_kernel 6.12 "$vm/build-kernel.sh" 6.12
build_kernel 6.1 "$vm/build-kernel.sh" 6.1
build_kernel 6.12-clang "$vm/build-kernel.sh" --llvm 6.12
build_kernel 6.12-intree "$VE_ROOT/tests/intree.sh"

# Modules at W=1, warning-free, with the kernel's own compiler; -B, since a
# warning only shows when its file is compiled.
declare -A staged
for name in "${!kernel[@]}"; do
	args=(-B W=1)
	[[ $name != *-clang ]] || args+=(LLVM=1)
	log=$run/stage-$name.log
	if "$vm/stage.sh" "${kernel[$name]}" "$run/$name" "${args[@]}" >"$log" 2>&1 &&
	   ! grep -q 'warning:' "$log"; then
		pass "$name: modules build at W=1 without warnings, guest initramfs packs"
		staged[$name]=1
	else
		fail "$name: modules build at W=1 without warnings, guest initramfs packs"
		sed 's/^/      /' "$log" | tail -n 30
	fi
done

# --- jobs: guests and host-side checks, two at a time -------------------------

jobs_started=()
job() {
	local name=$1
	shift
	while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n; done
	{ "$@"; echo $? >"$run/$name.rc"; } >"$run/$name.out" 2>&1 &
	jobs_started+=("$name")
}

# The one warning a KUnit case triggers on purpose.
kunit_warn='virt_enable_put\+0x[0-9a-f]+/0x[0-9a-f]+ \[virt_enable_test\]'
module_suites="kunit scenario selftests shutdown"
builtin_suites="kunit builtin selftests shutdown"

# guest NAME KERNEL EMULATOR FEATURE CPUS SUITES
guest() {
	local name=$1 kdir=${kernel[$2]} emulator=$3 feature=$4 cpus=$5 suites=$6
	local cmdline="printk.devkmsg=on ve.panic_on_warn=1 ve.suites=${suites// /,}"

	echo "$2 $feature $cpus $suites" >"$run/$name.guest"
	job "$name" "$vm/boot.sh" "$emulator" --kernel "$kdir/arch/x86/boot/bzImage" \
		--initrd "$run/$2/initramfs.cpio" --log "$run/$name.log" --cpus "$cpus" \
		--append "$cmdline ve.feature=$feature"
}

[ -z "${staged[6.12]:-}" ] || guest 6.12-vmx 6.12 bochs vmx 2 "$module_suites"
[ -z "${staged[6.1]:-}" ] || guest 6.1-vmx 6.1 bochs vmx 2 "$module_suites"
[ -z "${staged[6.12]:-}" ] || guest 6.12-svm 6.12 qemu svm 4 "$module_suites"
[ -z "${staged[6.1]:-}" ] || guest 6.1-svm 6.1 qemu svm 4 "$module_suites"
[ -z "${staged[6.12-clang]:-}" ] || guest 6.12-clang-svm 6.12-clang qemu svm 4 "$module_suites"
[ -z "${staged[6.12-intree]:-}" ] || guest 6.12-intree-svm 6.12-intree qemu svm 4 "$builtin_suites"
job headers "$VE_ROOT/tests/headers.sh"
job style "$VE_ROOT/tests/style.sh"
job sparse "$VE_ROOT/tests/sparse.sh" "${kernel[6.12]:-}"
wait

# --- results -----------------------------------------------------------------

job_ok() { [ "$(cat "$run/$1.rc" 2>/dev/null)" = 0 ]; }

# guest_results NAME: count what a guest reported, and what its log shows.
guest_results() {
	local name=$1 log=$run/$1.log suite
	local kname feature cpus suites

	read -r kname feature cpus suites <"$run/$name.guest"
	check "$name: guest ran to the end" job_ok "$name"
	sed 's/^/      /' "$run/$name.out"
	while read -r line; do
		case $line in
		"ok "*" # SKIP"*) skip "$name: ${line#ok * - }" ;;
		"ok "*) pass "$name: ${line#ok * - }" ;;
		"not ok "*) fail "$name: ${line#not ok * - }" ;;
		"# "*) echo "      $line" ;;
		esac
	done < <(sed -n 's/.*VE: \(\(not \)\?ok .*\|# .*\)$/\1/p' "$log")
	for suite in $suites; do
		check "$name: suite $suite finished" \
			grep -q "VE: suite $suite end rc=0" "$log"
	done
	check "$name: poweroff with a reference held turns $feature off on every CPU" \
		grep -q "virt_enable: $feature turned off on $cpus CPUs for shutdown" "$log"
	check "$name: kunit: the unbalanced put warned exactly once" \
		[ "$(grep -cE "WARNING: .* $kunit_warn" "$log")" = 1 ]
	check "$name: no other kernel warning, lockdep report or oops" \
		"$vm/check-log.sh" "$log" --allow "$kunit_warn"
}

# sub_results NAME: count the PASS/FAIL lines a host-side job printed.
sub_results() {
	check "$1: ran" job_ok "$1"
	while read -r line; do
		case $line in
		"PASS: "*) pass "${line#PASS: }" ;;
		"FAIL: "*) fail "${line#FAIL: }" ;;
		*) echo "      $line" ;;
		esac
	done <"$run/$1.out"
}

for name in "${jobs_started[@]}"; do
	if [ -f "$run/$name.guest" ]; then
		guest_results "$name"
	else
		sub_results "$name"
	fi
done

echo "logs in $run, $((SECONDS - started)) s"
finish
