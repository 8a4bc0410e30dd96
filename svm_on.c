// SPDX-License-Identifier: GPL-2.0-only
/*
 * AMD SVM backend: the checks and EFER.SVME.  Only the core calls these,
 * through ve_svm_ops, on the CPU concerned with interrupts disabled.
 * MSR_VM_HSAVE_PA belongs to the hypervisor that runs guests, not here.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cc_platform.h>
#include <asm/asm.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/svm.h>

#include "internal.h"
#include "vendor_checks.h"

#define VE_CPUID_EXT_ECX_SVM	BIT(X86_FEATURE_SVM & 31)

/**
 * ve_svm_check() - whether EFER.SVME may be set, from what the kernel sees
 * @f: the facts, gathered by the caller.
 * @why: set to what to tell the user when it may not.
 *
 * Return: 0; -ENODEV if the CPU has no SVM at all; -EOPNOTSUPP otherwise.
 */
static int ve_svm_check(const struct ve_svm_facts *f, const char **why)
{
	if (!f->cpuid_svm)
		return -ENODEV;
	/* Inside an SEV-ES/SNP guest STGI raises #VC and the guest dies. */
	if (f->sev_guest)
		return ve_refuse(why,
				 "running as an SEV guest: SVM cannot be used here");
	if (f->svm_disabled)
		return ve_refuse(why,
				 "SVM is disabled by the firmware (VM_CR.SVMDIS is set): enable \"SVM Mode\" (AMD-V) in the firmware setup");
	if (!f->kernel_svm)
		return ve_refuse(why,
				 "the CPU has SVM but the kernel disabled it (clearcpuid=?)");
	return 0;
}

static bool ve_svm_disabled_by_firmware(void)
{
	u64 vm_cr;

	return !rdmsrl_safe(MSR_VM_CR, &vm_cr) && (vm_cr & SVM_VM_CR_SVM_DIS_MASK);
}

static void ve_svm_facts(struct ve_svm_facts *f)
{
	*f = (struct ve_svm_facts) {
		.cpuid_svm = boot_cpu_data.extended_cpuid_level >= 0x80000001 &&
			     (cpuid_ecx(0x80000001) & VE_CPUID_EXT_ECX_SVM),
		.kernel_svm = boot_cpu_has(X86_FEATURE_SVM),
		.svm_disabled = ve_svm_disabled_by_firmware(),
		.sev_guest = cc_platform_has(CC_ATTR_GUEST_MEM_ENCRYPT),
	};
}

static int ve_svm_init(void)
{
	struct ve_svm_facts facts;
	const char *why;
	int r;

	ve_svm_facts(&facts);
	r = ve_svm_check(&facts, &why);
	if (r && r != -ENODEV)
		pr_err("%s\n", why);
	return r;
}

static bool ve_svm_cpu_is_on(void)
{
	u64 efer;

	rdmsrl(MSR_EFER, efer);
	return efer & EFER_SVME;
}

static int ve_svm_enable_cpu(void)
{
	u64 efer;

	if (ve_svm_disabled_by_firmware()) {
		pr_err("CPU %u: SVM is disabled by the firmware (VM_CR.SVMDIS): enable AMD-V in the firmware setup\n",
		       smp_processor_id());
		return -EOPNOTSUPP;
	}

	rdmsrl(MSR_EFER, efer);
	if (efer & EFER_SVME)
		return -EBUSY;
	if (wrmsrl_safe(MSR_EFER, efer | EFER_SVME)) {
		pr_err("CPU %u: setting EFER.SVME faulted\n", smp_processor_id());
		return -EIO;
	}
	return 0;
}

/* STGI faults once SVME is clear, which an emergency path may race with. */
static void ve_stgi(void)
{
	asm goto("1: stgi\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : : "memory" : fault);
fault:
	return;
}

/* 0 once EFER.SVME is clear, whoever cleared it; -EIO while it is set. */
static int ve_svm_clear_svme(void)
{
	u64 efer;

	if (rdmsrl_safe(MSR_EFER, &efer))
		return -EIO;
	if (!(efer & EFER_SVME))
		return 0;
	/* GIF=1 first, so INIT and NMI are not left blocked. */
	ve_stgi();
	return wrmsrl_safe(MSR_EFER, efer & ~EFER_SVME) ? -EIO : 0;
}

/* Where VMRUN saves the host's state: KVM points it at its own page. */
static u64 ve_svm_window_save(void)
{
	u64 hsave;

	rdmsrl(MSR_VM_HSAVE_PA, hsave);
	return hsave;
}

static int ve_svm_window_restore(u64 saved)
{
	wrmsrl(MSR_VM_HSAVE_PA, saved);
	return 0;
}

const struct ve_vendor_ops ve_svm_ops = {
	.name = "svm",
	.feature = VIRT_ENABLE_SVM,
	.init = ve_svm_init,
	.cpu_is_on = ve_svm_cpu_is_on,
	.enable_cpu = ve_svm_enable_cpu,
	.disable_cpu = ve_svm_clear_svme,
	.emergency_disable_cpu = ve_svm_clear_svme,
	.window_save = ve_svm_window_save,
	.window_restore = ve_svm_window_restore,
};
