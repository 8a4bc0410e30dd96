// SPDX-License-Identifier: GPL-2.0-only
/*
 * Intel VMX backend: the checks, the VMXON regions, VMXON and VMXOFF.  Only
 * the core calls these, through ve_vmx_ops, on the CPU concerned with
 * interrupts disabled (the regions: in process context).
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
#include "vendor_checks.h"

/* IA32_VMX_BASIC: VMCS accesses must be write-back, addresses 64 bits wide. */
#define VE_VMX_BASIC_32BIT_ADDR		BIT_ULL(48)
#define VE_VMX_BASIC_MEM_TYPE		GENMASK_ULL(53, 50)
#define VE_VMX_MEM_TYPE_WB		6

#define VE_CPUID1_ECX_VMX		BIT(X86_FEATURE_VMX & 31)

static DEFINE_PER_CPU(void *, ve_vmxon_region);
static atomic_t ve_nr_vmxon_regions = ATOMIC_INIT(0);
static u32 ve_vmcs_revision;

/**
 * ve_vmx_check() - whether VMXON is allowed, from what the kernel decided
 * @f: the facts, gathered by the caller.
 * @why: set to what to tell the user when it is not.
 *
 * At boot init_ia32_feat_ctl() left X86_FEATURE_VMX set on a CPU only where
 * IA32_FEAT_CTL allows VMXON for this boot: outside SMX, or inside SMX when
 * tboot launched the kernel (which a module cannot ask: tboot_enabled() is
 * not exported, and Linux runs with CR4.SMXE clear even then).  That is the
 * verdict; the MSR only explains a refusal.
 *
 * Return: 0; -ENODEV if the CPU has no VMX at all; -EOPNOTSUPP otherwise.
 */
static int ve_vmx_check(const struct ve_vmx_facts *f, const char **why)
{
	if (!f->cpuid_vmx)
		return -ENODEV;
	if (f->kernel_vmx)
		return 0;
	if (!f->feat_ctl_readable)
		return ve_refuse(why,
				 "IA32_FEAT_CTL cannot be read, so VMXON would fault");
	if (!(f->feat_ctl & FEAT_CTL_LOCKED))
		return ve_refuse(why,
				 "IA32_FEAT_CTL is not locked, so VMXON would fault: the kernel did not configure it at boot");
	if (!(f->feat_ctl & (FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX |
			     FEAT_CTL_VMX_ENABLED_INSIDE_SMX)) &&
	    !f->kernel_enables_vmx)
		return ve_refuse(why,
				 "VMX is not enabled in IA32_FEAT_CTL: this kernel was built without CONFIG_KVM_INTEL, so it does not enable VMX when the firmware leaves IA32_FEAT_CTL unlocked; enable VT-x in the firmware setup, or use a kernel with CONFIG_KVM_INTEL");
	/* Not launched by tboot, or it would have been allowed inside SMX. */
	if (!(f->feat_ctl & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX))
		return ve_refuse(why,
				 "VMX is disabled by the firmware (VMXON outside SMX not allowed in IA32_FEAT_CTL): enable \"Intel Virtualization Technology\" (VT-x) in the firmware setup");
	if (!(f->feat_ctl & FEAT_CTL_VMX_ENABLED_INSIDE_SMX))
		return ve_refuse(why,
				 "the kernel disabled VMX, and IA32_FEAT_CTL does not allow VMX inside SMX: if the kernel was launched by tboot (Intel TXT), enable VT-x together with TXT in the firmware setup; otherwise see clearcpuid= on the kernel command line");
	return ve_refuse(why,
			 "the CPU has VMX but the kernel disabled it (clearcpuid=?)");
}

/* The kernel's verdict for this CPU, as KVM reads it. */
static bool ve_vmx_kernel_allows(void)
{
	return this_cpu_has(X86_FEATURE_MSR_IA32_FEAT_CTL) &&
	       this_cpu_has(X86_FEATURE_VMX);
}

static void ve_vmx_facts(struct ve_vmx_facts *f)
{
	*f = (struct ve_vmx_facts) {
		.cpuid_vmx = cpuid_ecx(1) & VE_CPUID1_ECX_VMX,
		.kernel_vmx = ve_vmx_kernel_allows(),
		.kernel_enables_vmx = IS_ENABLED(CONFIG_KVM_INTEL),
	};
	f->feat_ctl_readable = !rdmsrl_safe(MSR_IA32_FEAT_CTL, &f->feat_ctl);
}

static int ve_vmx_init(void)
{
	struct ve_vmx_facts facts;
	const char *why;
	u64 basic;
	int r;

	ve_vmx_facts(&facts);
	r = ve_vmx_check(&facts, &why);
	if (r == -ENODEV)
		return r;
	if (r) {
		pr_err("%s (IA32_FEAT_CTL = %#llx)\n", why, facts.feat_ctl);
		return r;
	}

	rdmsrl(MSR_IA32_VMX_BASIC, basic);
	if (vmx_basic_vmcs_size(basic) > PAGE_SIZE ||
	    (basic & VE_VMX_BASIC_32BIT_ADDR) ||
	    FIELD_GET(VE_VMX_BASIC_MEM_TYPE, basic) != VE_VMX_MEM_TYPE_WB) {
		pr_err("unsupported IA32_VMX_BASIC %#llx\n", basic);
		return -EIO;
	}
	ve_vmcs_revision = vmx_basic_vmcs_revision_id(basic);
	return 0;
}

/* A CPU's VMXON region, from the first user on: nothing is allocated before. */
static int ve_vmx_alloc_cpu(unsigned int cpu)
{
	struct page *page;

	if (per_cpu(ve_vmxon_region, cpu))
		return 0;
	page = alloc_pages_node(cpu_to_node(cpu), GFP_KERNEL | __GFP_ZERO, 0);
	if (!page)
		return -ENOMEM;
	*(u32 *)page_address(page) = ve_vmcs_revision;
	per_cpu(ve_vmxon_region, cpu) = page_address(page);
	atomic_inc(&ve_nr_vmxon_regions);
	return 0;
}

static void ve_vmx_free_cpu(unsigned int cpu)
{
	void *region = per_cpu(ve_vmxon_region, cpu);

	if (!region)
		return;
	per_cpu(ve_vmxon_region, cpu) = NULL;
	free_page((unsigned long)region);
	atomic_dec(&ve_nr_vmxon_regions);
}

/**
 * ve_vmx_nr_regions() - VMXON regions currently allocated
 *
 * Return: how many CPUs have one; shown by the state view.
 */
unsigned int ve_vmx_nr_regions(void)
{
	return atomic_read(&ve_nr_vmxon_regions);
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
	struct ve_vmx_facts facts;
	const char *why;
	u64 basic;
	int r;

	if (ve_vmx_cpu_is_on())
		return -EBUSY;
	if (!region) {
		pr_err("CPU %u: no VMXON region\n", cpu);
		return -ENOMEM;
	}

	/* Firmware configures each CPU; a late CPU may differ from the boot CPU. */
	ve_vmx_facts(&facts);
	r = ve_vmx_check(&facts, &why);
	if (r) {
		pr_err("CPU %u: %s (IA32_FEAT_CTL = %#llx)\n", cpu, why, facts.feat_ctl);
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

/*
 * What VMXOFF's outcome means, the same to both ways of turning VMX off.
 * VMfail: the CPU stays in VMX operation, where CR4.VMXE cannot be cleared,
 * so VMX is still on.  A fault (#UD): the CPU was not in VMX operation,
 * because enabling was interrupted before its VMXON or someone (the
 * emergency path, another module) did VMXOFF already, so VMX is off once
 * CR4.VMXE is clear.
 */
static int ve_vmx_off(void)
{
	int r = ve_vmxoff();

	if (r == -EIO)
		return r;
	if (r)
		pr_warn_ratelimited("CPU %u: VMXOFF faulted: it was not in VMX operation; VMX is off\n",
				    smp_processor_id());
	cr4_clear_bits(X86_CR4_VMXE);
	return 0;
}

static int ve_vmx_disable_cpu(void)
{
	int r = ve_vmx_off();

	if (!r)
		intel_pt_handle_vmx(0);
	return r;
}

/* From NMI context, as KVM's: leaves Intel PT alone. */
static int ve_vmx_emergency_disable_cpu(void)
{
	if (!(__read_cr4() & X86_CR4_VMXE))
		return 0;
	return ve_vmx_off();
}

/* VMPTRST's answer when no VMCS is current. */
#define VE_NO_CURRENT_VMCS	(~0ULL)

/* The current-VMCS pointer. */
static u64 ve_vmx_window_save(void)
{
	u64 vmcs;

	asm volatile("vmptrst %0" : "=m" (vmcs) : : "cc");
	return vmcs;
}

static int ve_vmx_window_restore(u64 saved)
{
	/* None was current: the user's VMCLEAR must have left none. */
	if (saved == VE_NO_CURRENT_VMCS)
		return ve_vmx_window_save() == VE_NO_CURRENT_VMCS ? 0 : -EBUSY;

	asm goto("1: vmptrld %[pa]\n\t"
		 "jna %l[vmfail]\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : [pa] "m" (saved) : "cc", "memory" : vmfail, fault);
	return 0;
vmfail:
	return -EIO;
fault:
	return -EFAULT;
}

const struct ve_vendor_ops ve_vmx_ops = {
	.name = "vmx",
	.feature = VIRT_ENABLE_VMX,
	.init = ve_vmx_init,
	.alloc_cpu = ve_vmx_alloc_cpu,
	.free_cpu = ve_vmx_free_cpu,
	.cpu_is_on = ve_vmx_cpu_is_on,
	.enable_cpu = ve_vmx_enable_cpu,
	.disable_cpu = ve_vmx_disable_cpu,
	.emergency_disable_cpu = ve_vmx_emergency_disable_cpu,
	.window_save = ve_vmx_window_save,
	.window_restore = ve_vmx_window_restore,
};
