// SPDX-License-Identifier: GPL-2.0-only
/*
 * Intel VMX backend: the checks, VMXON and VMXOFF.  Only the core calls
 * these, through ve_vmx_ops, on the CPU concerned with interrupts disabled.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitfield.h>
#include <linux/gfp.h>
#include <linux/percpu.h>
#include <asm/asm.h>
#include <asm/msr.h>
#include <asm/perf_event.h>
#include <asm/processor.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <asm/vmx.h>

#include "internal.h"

/* IA32_VMX_BASIC: VMCS accesses must be write-back, addresses 64 bits wide. */
#define VE_VMX_BASIC_32BIT_ADDR		BIT_ULL(48)
#define VE_VMX_BASIC_MEM_TYPE		GENMASK_ULL(53, 50)
#define VE_VMX_MEM_TYPE_WB		6

#define VE_CPUID1_ECX_VMX		BIT(X86_FEATURE_VMX & 31)

static DEFINE_PER_CPU(void *, ve_vmxon_region);
static u32 ve_vmcs_revision;

/* Why the kernel hid VMX although the CPU has it. */
static int ve_vmx_explain_missing(void)
{
	u64 feat_ctl;

	if (!rdmsrl_safe(MSR_IA32_FEAT_CTL, &feat_ctl) &&
	    !(feat_ctl & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX)) {
		pr_err("VMX is disabled by the firmware (IA32_FEAT_CTL = %#llx, VMXON outside SMX not allowed): enable \"Intel Virtualization Technology\" (VT-x) in the firmware setup\n",
		       feat_ctl);
		return -EOPNOTSUPP;
	}
	pr_err("the CPU has VMX but the kernel disabled it (clearcpuid= or a missing IA32_FEAT_CTL)\n");
	return -EOPNOTSUPP;
}

static void ve_vmx_free_regions(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		free_page((unsigned long)per_cpu(ve_vmxon_region, cpu));
		per_cpu(ve_vmxon_region, cpu) = NULL;
	}
}

static int ve_vmx_init(void)
{
	u64 basic;
	int cpu;

	if (!boot_cpu_has(X86_FEATURE_VMX)) {
		if (!(cpuid_ecx(1) & VE_CPUID1_ECX_VMX))
			return -ENODEV;
		return ve_vmx_explain_missing();
	}

	rdmsrl(MSR_IA32_VMX_BASIC, basic);
	if (vmx_basic_vmcs_size(basic) > PAGE_SIZE ||
	    (basic & VE_VMX_BASIC_32BIT_ADDR) ||
	    FIELD_GET(VE_VMX_BASIC_MEM_TYPE, basic) != VE_VMX_MEM_TYPE_WB) {
		pr_err("unsupported IA32_VMX_BASIC %#llx\n", basic);
		return -EIO;
	}
	ve_vmcs_revision = vmx_basic_vmcs_revision_id(basic);

	/* Allocated up front: CPUs come online where allocating is not allowed. */
	for_each_possible_cpu(cpu) {
		struct page *page;

		page = alloc_pages_node(cpu_to_node(cpu), GFP_KERNEL | __GFP_ZERO, 0);
		if (!page) {
			ve_vmx_free_regions();
			return -ENOMEM;
		}
		*(u32 *)page_address(page) = ve_vmcs_revision;
		per_cpu(ve_vmxon_region, cpu) = page_address(page);
	}
	return 0;
}

static bool ve_vmx_fixed_ok(u64 value, u32 fixed0_msr, u32 fixed1_msr)
{
	u64 fixed0, fixed1;

	rdmsrl(fixed0_msr, fixed0);
	rdmsrl(fixed1_msr, fixed1);
	return (value & fixed0) == fixed0 && !(value & ~fixed1);
}

static int ve_vmxon(u64 region)
{
	asm goto("1: vmxon %[region]\n\t"
		 "jna %l[vmfail]\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : [region] "m" (region) : "cc", "memory" : vmfail, fault);
	return 0;
vmfail:
	return -EIO;
fault:
	return -EFAULT;
}

static int ve_vmxoff(void)
{
	asm goto("1: vmxoff\n\t"
		 "jna %l[vmfail]\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : : "cc", "memory" : vmfail, fault);
	return 0;
vmfail:
	return -EIO;
fault:
	return -EFAULT;
}

static bool ve_vmx_cpu_is_on(void)
{
	return cr4_read_shadow() & X86_CR4_VMXE;
}

static int ve_vmx_enable_cpu(void)
{
	unsigned int cpu = smp_processor_id();
	void *region = per_cpu(ve_vmxon_region, cpu);
	u64 feat_ctl, basic;
	int r;

	/* Firmware configures each CPU; a late CPU may differ from the boot CPU. */
	if (rdmsrl_safe(MSR_IA32_FEAT_CTL, &feat_ctl) ||
	    !(feat_ctl & FEAT_CTL_LOCKED) ||
	    !(feat_ctl & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX)) {
		pr_err("CPU %u: VMX is disabled by the firmware (IA32_FEAT_CTL = %#llx): enable VT-x in the firmware setup\n",
		       cpu, feat_ctl);
		return -EOPNOTSUPP;
	}

	rdmsrl(MSR_IA32_VMX_BASIC, basic);
	if (vmx_basic_vmcs_revision_id(basic) != ve_vmcs_revision) {
		pr_err("CPU %u: VMCS revision %#x differs from the boot CPU's %#x\n",
		       cpu, vmx_basic_vmcs_revision_id(basic), ve_vmcs_revision);
		return -EIO;
	}

	if (!ve_vmx_fixed_ok(read_cr0(), MSR_IA32_VMX_CR0_FIXED0,
			     MSR_IA32_VMX_CR0_FIXED1) ||
	    !ve_vmx_fixed_ok(cr4_read_shadow() | X86_CR4_VMXE,
			     MSR_IA32_VMX_CR4_FIXED0, MSR_IA32_VMX_CR4_FIXED1)) {
		pr_err("CPU %u: CR0 %#lx or CR4 %#lx outside the VMX fixed bits\n",
		       cpu, read_cr0(), cr4_read_shadow());
		return -EIO;
	}

	/* Intel PT cannot trace in VMX operation on older parts: as KVM does. */
	intel_pt_handle_vmx(1);
	cr4_set_bits(X86_CR4_VMXE);
	r = ve_vmxon(__pa(region));
	if (r) {
		cr4_clear_bits(X86_CR4_VMXE);
		intel_pt_handle_vmx(0);
		pr_err("CPU %u: VMXON %s\n", cpu,
		       r == -EFAULT ? "faulted" : "failed (VMfail)");
	}
	return r;
}

static void ve_vmx_disable_cpu(void)
{
	/* CR4.VMXE cannot be cleared in VMX operation: leave it if VMXOFF failed. */
	if (WARN_ONCE(ve_vmxoff(), "virt_enable: VMXOFF failed on CPU %u\n",
		      smp_processor_id()))
		return;
	cr4_clear_bits(X86_CR4_VMXE);
	intel_pt_handle_vmx(0);
}

/*
 * The CPU may have been interrupted half way through enabling: VMXOFF then
 * faults harmlessly because VMXON never happened.
 */
static void ve_vmx_emergency_disable_cpu(void)
{
	if (!(__read_cr4() & X86_CR4_VMXE))
		return;
	if (ve_vmxoff() != -EIO)
		cr4_clear_bits(X86_CR4_VMXE);
}

static void ve_vmx_exit(void)
{
	ve_vmx_free_regions();
}

const struct ve_vendor_ops ve_vmx_ops = {
	.name = "vmx",
	.feature = VIRT_ENABLE_VMX,
	.init = ve_vmx_init,
	.exit = ve_vmx_exit,
	.cpu_is_on = ve_vmx_cpu_is_on,
	.enable_cpu = ve_vmx_enable_cpu,
	.disable_cpu = ve_vmx_disable_cpu,
	.emergency_disable_cpu = ve_vmx_emergency_disable_cpu,
};
