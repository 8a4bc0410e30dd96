# SPDX-License-Identifier: GPL-2.0
# KVM's own selftests as the peer check: the same subset
# (tests/kvm/selftests.list) on the unmodified KVM and on the KVM that uses
# virt_enable, in this same kernel; every test must end the same way on
# both (pass or skip), and fail on neither.
. /tests/lib.sh
VE_SUITE=kvm-selftests
KVM=$(ve_kvm_module)
DIR=/tests/kvm-selftests

# run LABEL: the subset, results to /tmp/ks-LABEL ("NAME pass|fail|skip").
run() {
	KVM_SELFTEST_FEATURE=$VE_FEATURE KVM_SELFTEST_SUBSET=${VE_KVMSELFTESTS:-} \
		sh $DIR/run-kvm-selftests.sh $DIR >/tmp/ks-$1.out 2>&1
	sed -n 's/^kvm-selftest \([^ ]*\) \(pass\|fail\|skip\)$/\1 \2/p' /tmp/ks-$1.out >/tmp/ks-$1
	grep '^# ' /tmp/ks-$1.out | while read -r line; do ve_say "$1: $line"; done
}

ve_probe_load
ve_load
ve_check "unmodified $KVM loads for the stock run" ve_stock_kvm_load
run stock
ve_stock_kvm_unload
ve_check "patched $KVM loads" modprobe "$KVM"
run patched
rmmod "$KVM" kvm

selected=$(sed -n 's/^kvm-selftests selected //p' /tmp/ks-stock.out)
ve_check "the stock run reported every test selected (${VE_KVMSELFTESTS:-all}: $selected)" \
	eval '[ "${selected:-0}" -gt 0 ] && ve_same "$(wc -l </tmp/ks-stock)" "$selected"'
[ "${VE_KVMSELFTESTS:-}" != ci ] ||
	ve_say "the CI subset in this emulator; make check-full runs the whole list"
while read -r name stock; do
	patched=$(awk -v n="$name" '$1 == n { print $2 }' /tmp/ks-patched)
	ve_check "$name: stock $stock, patched ${patched:-missing}" \
		eval '[ "$stock" = "$patched" ] && [ "$stock" != fail ]'
done </tmp/ks-stock
ve_check "no user left" ve_same "$(ve_field users)" 0
