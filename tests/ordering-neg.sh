#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ordering-neg.sh: show that the kvmlife suite's ordering test can fail.
# Builds the in-tree 6.12 test kernel with the old KVM series kept in
# tests/mutations/kvm-6.12-old-ordering/ (main at f9a7115: KVM holds a
# system-wide reference and virt_enable turns the hardware off from its
# CPUHP_AP_ONLINE_DYN teardown, before SCHED_WAIT_EMPTY) in place of
# kvm/6.12/, boots it in QEMU (SVM, 4 CPUs) with only the ordering part of
# kvmlife, and requires the ordering test to fail there, for its own reason:
# the trace was read and the hardware went off, once, too early.  Each
# result is one PASS/FAIL line: PASS means the old ordering was caught.
#
# The kernel gets a source tree and a build directory of its own (build
# name kvm-old-ordering), so the normal 6.12 kernel is never touched.
set -uo pipefail
. "$(dirname "$0")/vm/lib.sh"

vm=$VE_ROOT/tests/vm
bug=$VE_ROOT/tests/mutations/kvm-6.12-old-ordering
work=$VE_CACHE/ordering-neg
name=ordering-neg
expect="kvmlife: ordering: CPU 1's hardware goes off only after its SCHED_WAIT_EMPTY teardown"
passed=0 failed=0

pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
finish() { echo "$passed passed, $failed failed"; exit $((failed > 0)); }

"$vm/deps.sh" >/dev/null || { fail "$name: Debian packages installed"; finish; }
mkdir -p "$work"

# The sources with the old series in kvm/6.12/'s place, in a copy (a git
# repository: add-to-kernel-tree.sh names the version after its commit).
src=$work/src
rm -rf "$src"
mkdir -p "$src"
(cd "$VE_ROOT" && git ls-files -co --exclude-standard -z) |
	(cd "$VE_ROOT" && xargs -0 cp --parents -t "$src" 2>/dev/null)
rm -f "$src"/kvm/6.12/*.patch
cp "$bug"/*.patch "$src/kvm/6.12/"
(cd "$src" && git init -q && git add -A &&
 git -c user.name=ordering-neg -c user.email=ordering-neg@localhost commit -qm "$name") ||
	{ fail "$name: the sources copy"; finish; }

# A source tree of its own, made anew whenever the old series or the tree
# it comes from is not the one it was made with (hard links: cheap).
base=$("$vm/source.sh" 6.12) || { fail "$name: Debian's 6.12 source"; finish; }
tree=$work/$(basename "$base")
stamp=$(cat "$bug"/*.patch | sha256sum | cut -c1-12)
if [ "$(cat "$tree/.ve-old-ordering" 2>/dev/null)" != "$stamp" ]; then
	rm -rf "$tree" "$tree.tmp"
	cp -al "$base" "$tree.tmp"
	echo "$stamp" >"$tree.tmp/.ve-old-ordering"
	mv "$tree.tmp" "$tree"
fi
t=$SECONDS
if ! "$src/scripts/add-to-kernel-tree.sh" --with-kvm "$tree" >"$work/build.log" 2>&1 ||
   ! kdir=$("$vm/build-kernel.sh" --source "$tree" kvm-old-ordering 6.12 \
		"$vm/config/intree-m.config" 2>>"$work/build.log"); then
	tail -n 30 "$work/build.log" | sed 's/^/      /'
	fail "$name: the 6.12 kernel with the old KVM series builds"
	finish
fi
pass "$name: the 6.12 kernel with the old KVM series builds ($((SECONDS - t)) s)"
grep -q 'kvm_virt_cpu_disabling' "$tree/arch/x86/kvm/x86.c" ||
	fail "$name: the tree has the old series (kvm_virt_cpu_disabling in x86.c)"

t=$SECONDS
"$src/tests/vm/stage.sh" "$kdir" "$work/run" >"$work/stage.log" 2>&1 ||
	{ tail -n 20 "$work/stage.log" | sed 's/^/      /'; fail "$name: the guest stages"; finish; }
"$vm/boot.sh" qemu --tcg "$(ve_qemu_tcg kvmlife)" --kernel "$kdir/arch/x86/boot/bzImage" \
	--initrd "$work/run/initramfs.cpio" --log "$work/$name.log" --cpus 4 --timeout 600 \
	--append "printk.devkmsg=on ve.panic_on_warn=1 ve.suites=kvmlife ve.kvmlife=ordering ve.feature=svm ve.kvm=system" \
	>"$work/boot.out" 2>&1
rc=$?
ve_guest_tap "$work/$name.log" "$name" >"$work/$name.results"
[ "$rc" = 0 ] && pass "$name: the guest ran to the end ($((SECONDS - t)) s)" ||
	{ sed 's/^/      /' "$work/boot.out"; fail "$name: the guest ran to the end"; }

# Caught, and for the right reason: the events were there and read, CPU 1
# went off exactly once, and only the order is wrong.
sed -n 's/^      # /      /p' "$work/$name.results"
if grep -qxF "FAIL: $name: $expect" "$work/$name.results"; then
	pass "$name: the old series fails \"$expect\""
else
	fail "$name: the old series does not fail \"$expect\""
fi
for why in "the trace shows CPU 1's SCHED_WAIT_EMPTY teardown" \
	   "CPU 1's svm goes off exactly once during its offline, without error"; do
	if grep -q "^PASS: $name: kvmlife: $why" "$work/$name.results"; then
		pass "$name: ...and not for another reason: \"$why\" holds"
	else
		fail "$name: ...and not for another reason: \"$why\" holds"
	fi
done
finish
