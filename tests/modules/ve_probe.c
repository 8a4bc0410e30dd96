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
 * It also looks at every CPU when the system powers off, halts or
 * reboots, after syscore shutdown (where virt_enable turns the hardware
 * off) and before the machine stops the other CPUs, and logs
 * "ve_probe: shutdown: cpu N vmx|svm on|off", so that the shutdown tests
 * read the hardware, not virt_enable's word.  The kernel's shutdown kmsg
 * dump is the one hook there; kexec reaches it only after the other CPUs
 * were stopped, with interrupts off, and then only this CPU is read.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/kmsg_dump.h>
#include <linux/limits.h>
#include <linux/smp.h>
#include <asm/asm.h>
#include <asm/msr.h>
#include <asm/processor-flags.h>
#include <asm/special_insns.h>

#include "probed.h"

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

static void ve_probe_shutdown(void)
{
	if (irqs_disabled())
		ve_probe_shutdown_cpu(NULL);
	else
		on_each_cpu(ve_probe_shutdown_cpu, NULL, 1);
}

#ifdef VE_HAVE_KMSG_DUMP_DETAIL
static void ve_probe_dump(struct kmsg_dumper *dumper,
			  struct kmsg_dump_detail *detail)
{
	if (detail->reason == KMSG_DUMP_SHUTDOWN)
		ve_probe_shutdown();
}
#else
static void ve_probe_dump(struct kmsg_dumper *dumper,
			  enum kmsg_dump_reason reason)
{
	if (reason == KMSG_DUMP_SHUTDOWN)
		ve_probe_shutdown();
}
#endif

static struct kmsg_dumper ve_probe_dumper = {
	.dump = ve_probe_dump,
	.max_reason = KMSG_DUMP_SHUTDOWN,
};

static int __init ve_probe_init(void)
{
	ve_probe_vmx = boot_cpu_has(X86_FEATURE_VMX);
	ve_probe_dir = debugfs_create_dir("ve_probe", NULL);
	debugfs_create_file("vmx", 0400, ve_probe_dir, NULL, &ve_probe_vmx_fops);
	debugfs_create_file("svm", 0400, ve_probe_dir, NULL, &ve_probe_svm_fops);
	kmsg_dump_register(&ve_probe_dumper);
	return 0;
}

static void __exit ve_probe_exit(void)
{
	kmsg_dump_unregister(&ve_probe_dumper);
	debugfs_remove_recursive(ve_probe_dir);
}

module_init(ve_probe_init);
module_exit(ve_probe_exit);
MODULE_DESCRIPTION("virt_enable test probe: VMX/SVM state as the hardware reports it");
MODULE_LICENSE("GPL");
