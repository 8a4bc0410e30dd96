// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test-only module: reports what the hardware says about VMX and SVM on
 * each online CPU, independently of virt_enable's own bookkeeping.
 *
 *   /sys/kernel/debug/ve_probe/vmx: "cpu N vmxe 0|1 root 0|1" per CPU
 *   /sys/kernel/debug/ve_probe/svm: "cpu N svme 0|1" per CPU
 *
 * "vmxe" is CR4 as read from the register.  "root" is 1 when VMPTRST
 * executes: it #UDs outside VMX operation and changes nothing inside it.
 * "svme" is EFER.SVME.
 *
 * It also looks at every CPU when the system shuts down, reboots or
 * kexecs, after virt_enable did (the last reboot notifier), and logs
 * "ve_probe: shutdown: cpu N vmx|svm on|off", so that the tests of
 * shutdown and kexec read the hardware, not virt_enable's word.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/limits.h>
#include <linux/reboot.h>
#include <linux/smp.h>
#include <asm/asm.h>
#include <asm/msr.h>
#include <asm/processor-flags.h>
#include <asm/special_insns.h>

struct ve_probe_cpu {
	unsigned long cr4;
	bool root;
	bool svme;
};

static struct dentry *ve_probe_dir;
static bool ve_probe_vmx;

static bool ve_probe_in_vmx_root(void)
{
	u64 current_vmcs;

	asm goto("1: vmptrst %[vmcs]\n\t"
		 _ASM_EXTABLE(1b, %l[outside])
		 : : [vmcs] "m" (current_vmcs) : "cc", "memory" : outside);
	return true;
outside:
	return false;
}

static void ve_probe_read_cpu(void *arg)
{
	struct ve_probe_cpu *state = arg;
	u64 efer = 0;

	state->cr4 = __read_cr4();
	state->root = ve_probe_vmx && ve_probe_in_vmx_root();
	state->svme = !ve_probe_vmx && !rdmsrl_safe(MSR_EFER, &efer) &&
		      (efer & EFER_SVME);
}

static int ve_probe_vmx_show(struct seq_file *m, void *unused)
{
	struct ve_probe_cpu state;
	int cpu;

	cpus_read_lock();
	for_each_online_cpu(cpu) {
		smp_call_function_single(cpu, ve_probe_read_cpu, &state, 1);
		seq_printf(m, "cpu %d vmxe %d root %d\n", cpu,
			   !!(state.cr4 & X86_CR4_VMXE), state.root);
	}
	cpus_read_unlock();
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ve_probe_vmx);

static int ve_probe_svm_show(struct seq_file *m, void *unused)
{
	struct ve_probe_cpu state;
	int cpu;

	cpus_read_lock();
	for_each_online_cpu(cpu) {
		smp_call_function_single(cpu, ve_probe_read_cpu, &state, 1);
		seq_printf(m, "cpu %d svme %d\n", cpu, state.svme);
	}
	cpus_read_unlock();
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ve_probe_svm);

static void ve_probe_shutdown_cpu(void *unused)
{
	struct ve_probe_cpu state;
	bool on;

	ve_probe_read_cpu(&state);
	on = ve_probe_vmx ? (state.cr4 & X86_CR4_VMXE) || state.root : state.svme;
	pr_info("shutdown: cpu %d %s %s\n", smp_processor_id(),
		ve_probe_vmx ? "vmx" : "svm", on ? "on" : "off");
}

static int ve_probe_shutdown(struct notifier_block *nb, unsigned long action,
			     void *data)
{
	on_each_cpu(ve_probe_shutdown_cpu, NULL, 1);
	return NOTIFY_DONE;
}

/* After everyone, virt_enable (INT_MIN + 1) included. */
static struct notifier_block ve_probe_reboot_nb = {
	.notifier_call = ve_probe_shutdown,
	.priority = INT_MIN,
};

static int __init ve_probe_init(void)
{
	ve_probe_vmx = boot_cpu_has(X86_FEATURE_VMX);
	ve_probe_dir = debugfs_create_dir("ve_probe", NULL);
	debugfs_create_file("vmx", 0400, ve_probe_dir, NULL, &ve_probe_vmx_fops);
	debugfs_create_file("svm", 0400, ve_probe_dir, NULL, &ve_probe_svm_fops);
	register_reboot_notifier(&ve_probe_reboot_nb);
	return 0;
}

static void __exit ve_probe_exit(void)
{
	unregister_reboot_notifier(&ve_probe_reboot_nb);
	debugfs_remove_recursive(ve_probe_dir);
}

module_init(ve_probe_init);
module_exit(ve_probe_exit);
MODULE_DESCRIPTION("virt_enable test probe: VMX/SVM state as the hardware reports it");
MODULE_LICENSE("GPL");
