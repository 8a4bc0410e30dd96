# SPDX-License-Identifier: GPL-2.0
# The negative control of kexec.sh: a careless hypervisor leaves the
# hardware on behind virt_enable's back, and the next kernel
# (kexec-neg-after.sh) must see what kexec-after.sh checks fail:
#   VMX: ve_rawvmxon leaves CPU 1 in VMX root operation; the next kernel
#        must come up without it, and the first kernel's ve_probe must have
#        read CPU 1 on at its shutdown hook;
#   SVM: ve_rawsvm leaves EFER.SVME set on CPU 0, the CPU that runs kexec;
#        the next kernel's boot CPU must come up with SVME set, and
#        ve_probe must have read CPU 0 on.
# This shows that the kexec test can fail for the reasons it names.
. /tests/lib.sh
VE_SUITE=kexec-negative
ncpus=$(ve_online_cpus | wc -l)

ve_probe_load
if [ "$VE_FEATURE" = svm ]; then
	ve_check "raw EFER.SVME on CPU 0, which nobody clears" modprobe ve_rawsvm cpu=0
	expect=$ncpus
else
	ve_check "raw VMXON on CPU 1, which nobody turns off" modprobe ve_rawvmxon cpu=1
	expect=$((ncpus - 1))
fi
ve_self_cpio /tmp/next.cpio
cmdline=$(ve_next_cmdline "$(ve_rest_after kexec-neg-after)" "ve.expect_cpus=$expect" \
	  "ve.first_cpus=$ncpus")
ve_check "kexec loads this kernel again" \
	kexec -s -l /boot/bzImage --initrd=/tmp/next.cpio --append="$cmdline"
ve_say "kexec-negative: executing"
kexec -e
ve_not_ok "kexec -e returned"
