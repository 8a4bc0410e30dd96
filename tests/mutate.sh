#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mutate.sh [NAME...]: show that the tests guarding the hardening fixes,
# TDX's bringup order and the lifecycle's hardware checks can fail.  For
# each deliberate bug of tests/mutations/mutations.py (all by default): put
# it into a copy of the sources, build that module against the test kernel
# of the bug's guest, boot that guest with the suite that guards the fix,
# and require the named test to fail (and the checks the table says still
# hold to pass).  The default guest is the TDX test kernel in QEMU (SVM,
# 4 CPUs); the lifecycle's bugs name theirs (mutations.py guest NAME: the
# 6.12 or 6.1 test kernel, in QEMU or Bochs, on the small initramfs).  Every
# kernel has virt_enable in tree, as a module the mutated one replaces.  Each result is one
# PASS/FAIL line: PASS means the bug was caught.  An unmutated baseline of
# each guest must pass the same suites first.
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
rm -rf "$work"
mkdir -p "$work"

# The test kernels, each built and staged on first use, as check.sh builds
# them: tdx (6.12 with INTEL_TDX_HOST, started from the 6.12 build), 6.12
# and 6.1 (clang).
default_guest="tdx qemu svm 4 full"
declare -A kdirs
kernel() {
	local kdir

	[ -z "${kdirs[$1]:-}" ] || return 0
	case $1 in
	tdx)
		kernel 6.12 || return 1
		kdir=$("$VE_ROOT/tests/intree.sh" --seed "${kdirs[6.12]}" 6.12 kvm-tdx \
			"$vm/config/intree-m.config" "$vm/config/tdx.config") || return 1 ;;
	6.12) kdir=$("$VE_ROOT/tests/intree.sh" 6.12 kvm "$vm/config/intree-m.config") || return 1 ;;
	6.1)
		kdir=$("$VE_ROOT/tests/intree.sh" --llvm 6.1 kvm "$vm/config/intree-m.config") || return 1 ;;
	*) return 1 ;;
	esac
	"$vm/stage.sh" "$kdir" "$work/base-$1" >"$work/stage-$1.log" 2>&1 ||
		{ tail -n 20 "$work/stage-$1.log"; return 1; }
	kdirs[$1]=$kdir
}

# run NAME SUITES [GUEST]: boot the module built from the sources mutated by
# NAME (baseline-*: none) in GUEST ("KERNEL EMULATOR FEATURE CPUS
# INITRAMFS [CMDLINE...]", default $default_guest); leaves the results in
# $work/NAME.results.
run() {
	local name=$1 suites=$2 tree=$work/$1/src stage=$work/$1/stage
	local kname emu feature cpus initramfs extra kdir release ko dest

	read -r kname emu feature cpus initramfs extra <<<"${3:-$default_guest}"
	kernel "$kname" || { echo "      the $kname kernel does not build or stage"; return 1; }
	kdir=${kdirs[$kname]}
	release=$(cat "$kdir/include/config/kernel.release")
	mkdir -p "$tree"
	(cd "$VE_ROOT" && git ls-files -co --exclude-standard -z) |
		(cd "$VE_ROOT" && xargs -0 cp --parents -t "$tree" 2>/dev/null)
	[[ $name == baseline* ]] || python3 "$table" apply "$name" "$tree" || return 1
	# build-module.sh takes the sources git knows of, as a package would.
	(cd "$tree" && git init -q && git add -A &&
	 git -c user.name=mutate -c user.email=mutate@localhost commit -qm "$name") || return 1
	"$tree/tests/vm/build-module.sh" "$kdir" "$work/$name/build" \
		>"$work/$name/build.log" 2>&1 || { tail -n 20 "$work/$name/build.log"; return 1; }
	# The guest's root: the full one, or the small one kexec'd kernels get.
	if [ "$initramfs" = full ]; then
		cp -a "$work/base-$kname/stage" "$stage"
	else
		cp -a "$work/base-$kname/chain" "$stage"
	fi
	# The module where the kernel has its own, else where ours go.
	for ko in virt-enable virt-enable-test; do
		dest=$stage/lib/modules/$release/kernel/drivers/virt/virt_enable/$ko.ko
		[ -f "$dest" ] || dest=$stage/lib/modules/$release/extra/$ko.ko
		[ ! -f "$work/$name/build/$ko.ko" ] || cp "$work/$name/build/$ko.ko" "$dest"
	done
	depmod -b "$stage" "$release"
	"$vm/mkinitramfs.sh" "$work/$name/initramfs.cpio" "$stage"
	# As check.sh's Bochs guests: RCU's longest stall limit, lockdep without
	# its proving.
	[ "$emu" != bochs ] ||
		extra+=" rcupdate.rcu_cpu_stall_timeout=300 lockdep.prove_locking=0"
	"$vm/boot.sh" "$emu" $([ "$emu" != qemu ] || echo --tcg "$(ve_qemu_tcg "$suites")") \
		--kernel "$kdir/arch/x86/boot/bzImage" \
		--initrd "$work/$name/initramfs.cpio" --log "$work/$name.log" --cpus "$cpus" \
		--timeout 1800 \
		--append "printk.devkmsg=on ve.panic_on_warn=1 ve.suites=$suites ve.feature=$feature $extra" \
		>"$work/$name.boot" 2>&1
	ve_guest_tap "$work/$name.log" "$name" >"$work/$name.results"
	rm -rf "$stage" "$work/$name/initramfs.cpio"
}

# baseline NAME SUITES [GUEST]: the unmutated module passes every result.
baseline() {
	local base=$work/$1.results

	if run "$@" && ! grep -q '^FAIL' "$base" && grep -q '^PASS' "$base"; then
		pass "$1: every ${2//,/, } result passes in ${3:-$default_guest} ($(grep -c '^PASS' "$base"))"
	else
		fail "$1: every ${2//,/, } result passes in ${3:-$default_guest}"
		grep '^FAIL' "$base" 2>/dev/null | sed 's/^/      /'
		return 1
	fi
}

want=("$@")
declare -A suite_of expect_of guest_of guest_suites
names=()
while IFS=$'\t' read -r name suite expect; do
	[ ${#want[@]} -eq 0 ] || [[ " ${want[*]} " == *" $name "* ]] || continue
	guest=$(python3 "$table" guest "$name")
	guest=${guest:-$default_guest}
	names+=("$name")
	suite_of[$name]=$suite
	expect_of[$name]=$expect
	guest_of[$name]=$guest
	[[ ,${guest_suites[$guest]:-}, == *,$suite,* ]] ||
		guest_suites[$guest]+=${guest_suites[$guest]:+,}$suite
done < <(python3 "$table" list)

# The default guest's baselines, one suite at a time, as always; every other
# guest's in one boot (in the order the suites first appear: suites that end
# their kernel last).
if [ -n "${guest_suites[$default_guest]:-}" ]; then
	for suite in kunit selftests; do
		baseline "baseline-$suite" "$suite" || finish
	done
fi
i=0
for guest in "${!guest_suites[@]}"; do
	[ "$guest" != "$default_guest" ] || continue
	i=$((i + 1))
	suites=$(tr , '\n' <<<"${guest_suites[$guest]}" |
		 awk '/^(kexec|crash)$/ { last = last "," $0; next } { printf "%s,", $0 } END { print substr(last, 2) }' |
		 sed 's/,$//')
	baseline "baseline-$i" "$suites" "$guest" || finish
done

for name in "${names[@]}"; do
	expect=${expect_of[$name]}
	if ! run "$name" "${suite_of[$name]}" "${guest_of[$name]}"; then
		fail "$name: builds and boots"
	elif grep -qxF "FAIL: $name: $expect" "$work/$name.results"; then
		pass "$name: caught by $expect ($(grep -c '^FAIL' "$work/$name.results") failures)"
		while IFS= read -r what; do
			if grep -qxF "PASS: $name: $what" "$work/$name.results"; then
				pass "$name: ...while this still holds: $what"
			else
				fail "$name: ...while this still holds: $what"
			fi
		done < <(python3 "$table" holds "$name")
	else
		fail "$name: $expect did not fail"
	fi
done
finish
