# SPDX-License-Identifier: GPL-2.0
# The negative control of crash.sh: a careless hypervisor leaves a CPU on
# that virt_enable does not own, which virt_enable's emergency path leaves
# alone; the capture kernel (crash-neg-after.sh) must see it:
#   VMX: virt_enable holds CPU 0, ve_rawvmxon leaves CPU 1 in VMX root
#        operation; the capture kernel must come up without CPU 1;
#   SVM: virt_enable holds CPU 1, ve_rawsvm leaves EFER.SVME set on CPU 0,
#        the CPU that crashes; the capture kernel's boot CPU must come up
#        with SVME set, where crash-after.sh requires it clear.  Only from
#        Linux 6.6 on (the 6.12 test kernel): before, the kernel's own
#        cpu_emergency_svm_disable() clears it whoever set it.
. /tests/lib.sh
VE_SUITE=crash-negative
ncpus=$(ve_online_cpus | wc -l)
want=$((ncpus < 2 ? ncpus : 2))

# virt_enable holds one CPU; the other is the careless hypervisor's, and
# virt_enable's emergency path must leave a CPU it does not own alone.
ve_load
if [ "$VE_FEATURE" = svm ]; then
	ve_check "virt_enable holds SVM on CPU 1 (a debugfs holder)" ve_hold "get-cpu svm 1"
	ve_check "raw EFER.SVME on CPU 0, which nobody clears" modprobe ve_rawsvm cpu=0
	expect=$want
else
	ve_check "virt_enable holds VMX on CPU 0 (a debugfs holder)" ve_hold "get-cpu vmx 0"
	ve_check "raw VMXON on CPU 1, which nobody turns off" modprobe ve_rawvmxon cpu=1
	expect=$((want - 1))
fi
capture=/boot/capture.cpio
[ -e $capture ] || { capture=/tmp/capture.cpio; ve_self_cpio $capture; }
cmdline=$(ve_next_cmdline "$(ve_rest_after crash-neg-after)" nr_cpus=$want \
	  "ve.expect_cpus=$expect" reset_devices)
ve_check "kexec -p loads the capture kernel" \
	kexec -s -p /boot/bzImage --initrd=$capture --append="$cmdline"
ve_say "crash-negative: triggering a crash on CPU 0"
echo 0 >/proc/sys/kernel/panic_on_warn
taskset 1 sh -c 'echo c >/proc/sysrq-trigger'
ve_not_ok "the crash did not happen"
