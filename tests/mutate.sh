#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mutate.sh [NAME...]: show that the tests guarding the hardening fixes and
# TDX's bringup order can fail.  For each deliberate bug of
# tests/mutations/mutations.py (all by default): put it into a copy of the
# sources, build that module against the clang TDX test kernel, boot it in
# QEMU (SVM, 4 CPUs) with the suite that guards the fix, and require the
# named test to fail.  Each result is one PASS/FAIL line: PASS means the
# bug was caught.  An unmutated baseline must pass the same suites first.
set -uo pipefail
. "$(dirname "$0")/vm/lib.sh"

vm=$VE_ROOT/tests/vm
table=$VE_ROOT/tests/mutations/mutations.py
work=$VE_CACHE/mutate
passed=0 failed=0

pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
finish() { echo "$passed passed, $failed failed"; exit $((failed > 0)); }

"$vm/deps.sh" || { fail "Debian packages installed"; finish; }
kdir=$("$vm/build-kernel.sh" --llvm 6.12 "$vm/config/tdx.config") ||
	{ fail "the clang TDX kernel builds"; finish; }
release=$(cat "$kdir/include/config/kernel.release")
rm -rf "$work"
mkdir -p "$work"
"$vm/stage.sh" "$kdir" "$work/base" LLVM=1 >"$work/stage.log" 2>&1 ||
	{ tail -n 20 "$work/stage.log"; fail "the guest stages"; finish; }

# run NAME SUITE: boot the module built from the sources mutated by NAME
# (baseline-*: none); leaves the results in $work/NAME.results.
run() {
	local name=$1 suite=$2 tree=$work/$1/src stage=$work/$1/stage

	mkdir -p "$tree"
	(cd "$VE_ROOT" && git ls-files -co --exclude-standard -z) |
		(cd "$VE_ROOT" && xargs -0 cp --parents -t "$tree" 2>/dev/null)
	[[ $name == baseline* ]] || python3 "$table" apply "$name" "$tree" || return 1
	# build-module.sh takes the sources git knows of, as a package would.
	(cd "$tree" && git init -q && git add -A &&
	 git -c user.name=mutate -c user.email=mutate@localhost commit -qm "$name") || return 1
	"$tree/tests/vm/build-module.sh" "$kdir" "$work/$name/build" LLVM=1 \
		>"$work/$name/build.log" 2>&1 || { tail -n 20 "$work/$name/build.log"; return 1; }
	cp -a "$work/base/stage" "$stage"
	cp "$work/$name/build/virt-enable.ko" "$work/$name/build/virt-enable-test.ko" \
		"$stage/lib/modules/$release/extra/"
	depmod -b "$stage" "$release"
	"$vm/mkinitramfs.sh" "$work/$name/initramfs.cpio" "$stage"
	"$vm/boot.sh" qemu --kernel "$kdir/arch/x86/boot/bzImage" \
		--initrd "$work/$name/initramfs.cpio" --log "$work/$name.log" --cpus 4 \
		--timeout 900 \
		--append "printk.devkmsg=on ve.panic_on_warn=1 ve.suites=$suite ve.feature=svm" \
		>/dev/null 2>&1
	ve_guest_tap "$work/$name.log" "$name" >"$work/$name.results"
	rm -rf "$stage" "$work/$name/initramfs.cpio"
}

for suite in kunit selftests; do
	base=$work/baseline-$suite.results
	if run "baseline-$suite" "$suite" && ! grep -q '^FAIL' "$base" && grep -q '^PASS' "$base"; then
		pass "baseline: every $suite result passes ($(grep -c '^PASS' "$base"))"
	else
		fail "baseline: every $suite result passes"
		finish
	fi
done

want=("$@")
while IFS=$'\t' read -r name suite expect; do
	[ ${#want[@]} -eq 0 ] || [[ " ${want[*]} " == *" $name "* ]] || continue
	if ! run "$name" "$suite"; then
		fail "$name: builds and boots"
	elif grep -qxF "FAIL: $name: $expect" "$work/$name.results"; then
		pass "$name: caught by $expect ($(grep -c '^FAIL' "$work/$name.results") failures)"
	else
		fail "$name: $expect did not fail"
	fi
done < <(python3 "$table" list)
finish
