#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: every test of virt_enable, as `make check` runs it.
#
# Installs what it needs from Debian's packages, builds a small kernel and
# the module, boots QEMU (AMD SVM) and Bochs (Intel VMX) guests that run the
# in-guest suites, and counts every result.  Ends with "N passed, N failed";
# exits non-zero if anything failed.
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

kdir=$("$vm/build-kernel.sh" 6.12) || { fail "kernel 6.12 builds"; finish; }
pass "kernel 6.12 builds"

check "module builds and the guest initramfs packs" \
	"$vm/stage.sh" "$kdir" "$run" || finish

# Compile checks against distribution headers run while the guests boot.
"$VE_ROOT/tests/headers.sh" >"$run/headers.out" 2>&1 &
headers=$!

suites="kunit scenario selftests shutdown"
# The one warning a KUnit case triggers on purpose.
kunit_warn='virt_enable_put\+0x[0-9a-f]+/0x[0-9a-f]+ \[virt_enable_test\]'
cmdline="printk.devkmsg=on ve.panic_on_warn=1 ve.suites=${suites// /,}"
"$vm/boot.sh" qemu --kernel "$kdir/arch/x86/boot/bzImage" \
	--initrd "$run/initramfs.cpio" --log "$run/qemu-svm.log" --cpus 4 \
	--append "$cmdline ve.feature=svm" &
qemu=$!
"$vm/boot.sh" bochs --kernel "$kdir/arch/x86/boot/bzImage" \
	--initrd "$run/initramfs.cpio" --log "$run/bochs-vmx.log" --cpus 2 \
	--append "$cmdline ve.feature=vmx" &
bochs=$!

# guest_results NAME PID CPUS: count one guest's results once it has finished.
guest_results() {
	local name=$1 pid=$2 log=$run/$1.log suite

	check "$name: guest ran to the end" wait "$pid"
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
	check "$name: poweroff with a reference held turns it off on every CPU" \
		grep -qE "virt_enable: (vmx|svm) turned off on $3 CPUs for shutdown" "$log"
	check "$name: kunit: the unbalanced put warned exactly once" \
		[ "$(grep -cE "WARNING: .* $kunit_warn" "$log")" = 1 ]
	check "$name: no other kernel warning, lockdep report or oops" \
		"$vm/check-log.sh" "$log" --allow "$kunit_warn"
}

# sub_results FILE: count the PASS/FAIL lines a sub-suite printed.
sub_results() {
	while read -r line; do
		case $line in
		"PASS: "*) pass "${line#PASS: }" ;;
		"FAIL: "*) fail "${line#FAIL: }" ;;
		*) echo "      $line" ;;
		esac
	done <"$1"
}

guest_results qemu-svm "$qemu" 4
guest_results bochs-vmx "$bochs" 2
check "header compile checks ran" wait "$headers"
sub_results "$run/headers.out"

echo "logs in $run, $((SECONDS - started)) s"
finish
