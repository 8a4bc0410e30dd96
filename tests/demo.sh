#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh [svm|vmx]: build everything, boot an emulated machine (QEMU with
# AMD SVM by default, Bochs with Intel VMX for "vmx") and show virt_enable
# at work as references come and go.
set -euo pipefail
. "$(dirname "$0")/vm/lib.sh"

feature=${1:-${VE_DEMO_FEATURE:-svm}}
vm=$VE_ROOT/tests/vm
run=$VE_CACHE/demo

"$vm/deps.sh"
# The test kernel make check builds: 6.12 with virt_enable and KVM's series in the tree.
kdir=$("$VE_ROOT/tests/intree.sh" 6.12 kvm "$vm/config/intree-m.config")
"$vm/stage.sh" "$kdir" "$run"

case $feature in
svm) boot=("$vm/boot.sh" qemu --cpus 4) ;;
vmx) boot=("$vm/boot.sh" bochs --cpus 2) ;;
*) ve_die "usage: demo.sh [svm|vmx]" ;;
esac

ve_log "booting a $feature guest (the Bochs one takes about a minute)"
: >"$run/guest.log"
"${boot[@]}" --kernel "$kdir/arch/x86/boot/bzImage" --initrd "$run/initramfs.cpio" \
	--log "$run/guest.log" --append "printk.devkmsg=on ve.suites=demo ve.feature=$feature" &
guest=$!
tail -n +1 -f --pid=$guest "$run/guest.log" | sed -nu 's/.*VE: \(.*\)$/\1/p; s/.*\(virt_enable: .*\)$/\1/p'
wait $guest
