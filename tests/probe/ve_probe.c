// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test-only module: reports what the VMX hardware says on each online CPU,
 * independently of virt_enable's own bookkeeping.
 *
 *   /sys/kernel/debug/ve_probe/vmx: "cpu N vmxe 0|1 root 0|1" per CPU
 *
 * "vmxe" is CR4 as read from the register.  "root" is 1 when VMPTRST
 * executes: it #UDs outside VMX operation and changes nothing inside it.
 */
#include <linux/cpu.h>
#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/smp.h>
#include <asm/asm.h>
#include <asm/processor-flags.h>
#include <asm/special_insns.h>

struct ve_probe_cpu {
	unsigned long cr4;
	bool root;
};

static struct dentry *ve_probe_dir;

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

	state->cr4 = __read_cr4();
	state->root = ve_probe_in_vmx_root();
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

static int __init ve_probe_init(void)
{
	ve_probe_dir = debugfs_create_dir("ve_probe", NULL);
	debugfs_create_file("vmx", 0400, ve_probe_dir, NULL, &ve_probe_vmx_fops);
	return 0;
}

static void __exit ve_probe_exit(void)
{
	debugfs_remove_recursive(ve_probe_dir);
}

module_init(ve_probe_init);
module_exit(ve_probe_exit);
MODULE_DESCRIPTION("virt_enable test probe: VMX state as the hardware reports it");
MODULE_LICENSE("GPL");
