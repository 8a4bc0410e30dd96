// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test-only module, the negative control of the kexec and crash tests: a
 * careless hypervisor.  It does VMXON on one CPU (cpu=, default 1) behind
 * everyone's back and never turns it off, and it cannot be unloaded.  VMX
 * root operation blocks INIT, so a kexec'd or kdump kernel cannot start
 * that CPU: the tests check that they see it missing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/module.h>
#include <linux/smp.h>
#include <asm/asm.h>
#include <asm/msr.h>
#include <asm/tlbflush.h>
#include <asm/vmx.h>

static unsigned int cpu = 1;
module_param(cpu, uint, 0444);
MODULE_PARM_DESC(cpu, "the CPU to leave in VMX root operation");

static void *ve_raw_region;

static void ve_raw_vmxon(void *result)
{
	u64 pa = __pa(ve_raw_region);

	cr4_set_bits(X86_CR4_VMXE);
	asm goto("1: vmxon %[pa]\n\t"
		 "jna %l[fail]\n\t"
		 _ASM_EXTABLE(1b, %l[fail])
		 : : [pa] "m" (pa) : "cc", "memory" : fail);
	*(int *)result = 0;
	return;
fail:
	cr4_clear_bits(X86_CR4_VMXE);
	*(int *)result = -EIO;
}

static int __init ve_raw_init(void)
{
	int r = -ENODEV;
	u64 basic;

	if (!boot_cpu_has(X86_FEATURE_VMX) || !cpu_online(cpu))
		return -ENODEV;
	ve_raw_region = (void *)get_zeroed_page(GFP_KERNEL);
	if (!ve_raw_region)
		return -ENOMEM;
	rdmsrl(MSR_IA32_VMX_BASIC, basic);
	*(u32 *)ve_raw_region = vmx_basic_vmcs_revision_id(basic);
	smp_call_function_single(cpu, ve_raw_vmxon, &r, 1);
	if (r) {
		free_page((unsigned long)ve_raw_region);
		return r;
	}
	pr_info("CPU %u left in VMX root operation\n", cpu);
	return 0;
}

/* No exit: the region must outlive the kernel, as a careless owner's would. */
module_init(ve_raw_init);
MODULE_DESCRIPTION("virt_enable test: a raw VMXON nobody turns off");
MODULE_LICENSE("GPL");
