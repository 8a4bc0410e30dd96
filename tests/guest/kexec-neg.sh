# SPDX-License-Identifier: GPL-2.0
# The negative control of kexec.sh (VMX only): a careless hypervisor
# (ve_rawvmxon) leaves CPU 1 in VMX root operation behind virt_enable's
# back; the next kernel must come up without it (kexec-neg-after.sh), which
# shows that the kexec test can fail for the reason it names.
. /tests/lib.sh
VE_SUITE=kexec-negative
ncpus=$(ve_online_cpus | wc -l)

ve_check "raw VMXON on CPU 1, which nobody turns off" modprobe ve_rawvmxon cpu=1
ve_self_cpio /tmp/next.cpio
cmdline=$(ve_next_cmdline "$(ve_rest_after kexec-neg-after)" "ve.expect_cpus=$((ncpus - 1))")
ve_check "kexec loads this kernel again" \
	kexec -s -l /boot/bzImage --initrd=/tmp/next.cpio --append="$cmdline"
ve_say "kexec-negative: executing"
kexec -e
ve_not_ok "kexec -e returned"
