# SPDX-License-Identifier: GPL-2.0
# kexec with VMX/SVM held: a debugfs holder, a per-CPU holder on the last
# CPU, and KVM where it uses virt_enable; syscore shutdown must turn the
# hardware off everywhere (ve_probe logs what it reads then), or INIT,
# blocked in VMX root operation, keeps the next kernel from starting CPUs.
# The next kernel reports in kexec-after.sh.
. /tests/lib.sh
VE_SUITE=kexec
F=$VE_FEATURE
last=$(ve_online_cpus | tail -n 1)

ve_probe_load
ve_load
ve_check "a debugfs holder takes $F system-wide and on CPU $last" \
	ve_hold "get $F" "get-cpu $F $last"
[ "$(ve_kvm_model)" = none ] || ve_check "KVM, a user, is loaded" modprobe "$(ve_kvm_module)"
ve_check "every CPU on before kexec (hardware)" ve_all_hw 1

cmdline=$(ve_next_cmdline "$(ve_rest_after kexec-after)" \
	  "ve.expect_cpus=$(ve_online_cpus | wc -l)" crashkernel=96M)
ve_check "kexec loads this kernel again (kexec_file_load)" \
	kexec -s -l /boot/bzImage --initrd=/boot/chain.cpio --append="$cmdline"
ve_say "kexec: executing"
kexec -e
ve_not_ok "kexec -e returned"
