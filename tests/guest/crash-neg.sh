# SPDX-License-Identifier: GPL-2.0
# The negative control of crash.sh (VMX only): CPU 1 left in VMX root
# operation by a careless hypervisor (ve_rawvmxon), which virt_enable's
# emergency path does not touch; the capture kernel must come up without
# it (crash-neg-after.sh).
. /tests/lib.sh
VE_SUITE=crash-negative
ncpus=$(ve_online_cpus | wc -l)
want=$((ncpus < 2 ? ncpus : 2))

# virt_enable holds VMX on CPU 0 only: CPU 1 is the careless hypervisor's,
# and virt_enable's emergency path must leave a CPU it does not own alone.
ve_load
ve_check "virt_enable holds VMX on CPU 0 (a debugfs holder)" ve_hold "get-cpu vmx 0"
ve_check "raw VMXON on CPU 1, which nobody turns off" modprobe ve_rawvmxon cpu=1
capture=/boot/chain.cpio
[ -e $capture ] || { capture=/tmp/capture.cpio; ve_self_cpio $capture; }
cmdline=$(ve_next_cmdline "$(ve_rest_after crash-neg-after)" nr_cpus=$want \
	  "ve.expect_cpus=$((want - 1))" reset_devices)
ve_check "kexec -p loads the capture kernel" \
	kexec -s -p /boot/bzImage --initrd=$capture --append="$cmdline"
ve_say "crash-negative: triggering a crash on CPU 0"
echo 0 >/proc/sys/kernel/panic_on_warn
taskset 1 sh -c 'echo c >/proc/sysrq-trigger'
ve_not_ok "the crash did not happen"
