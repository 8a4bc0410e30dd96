// SPDX-License-Identifier: GPL-2.0-only
/*
 * AMD SVM backend: the checks and EFER.SVME.  Only the core calls these,
 * through ve_svm_ops, on the CPU concerned with interrupts disabled.
 * MSR_VM_HSAVE_PA belongs to the hypervisor that runs guests, not here.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <asm/asm.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/svm.h>

#include "internal.h"

#define VE_CPUID_EXT_ECX_SVM	BIT(X86_FEATURE_SVM & 31)

static bool ve_svm_disabled_by_firmware(void)
{
	u64 vm_cr;

	return !rdmsrl_safe(MSR_VM_CR, &vm_cr) && (vm_cr & SVM_VM_CR_SVM_DIS_MASK);
}

static int ve_svm_init(void)
{
	if (boot_cpu_has(X86_FEATURE_SVM))
		return 0;

	if (boot_cpu_data.extended_cpuid_level < 0x80000001 ||
	    !(cpuid_ecx(0x80000001) & VE_CPUID_EXT_ECX_SVM))
		return -ENODEV;

	if (ve_svm_disabled_by_firmware())
		pr_err("SVM is disabled by the firmware (VM_CR.SVMDIS is set): enable \"SVM Mode\" (AMD-V) in the firmware setup\n");
	else
		pr_err("the CPU has SVM but the kernel disabled it (clearcpuid=)\n");
	return -EOPNOTSUPP;
}

static void ve_svm_exit(void)
{
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

static void ve_svm_clear_svme(void)
{
	u64 efer;

	if (rdmsrl_safe(MSR_EFER, &efer) || !(efer & EFER_SVME))
		return;
	/* GIF=1 first, so INIT and NMI are not left blocked. */
	ve_stgi();
	wrmsrl_safe(MSR_EFER, efer & ~EFER_SVME);
}

const struct ve_vendor_ops ve_svm_ops = {
	.name = "svm",
	.feature = VIRT_ENABLE_SVM,
	.init = ve_svm_init,
	.exit = ve_svm_exit,
	.cpu_is_on = ve_svm_cpu_is_on,
	.enable_cpu = ve_svm_enable_cpu,
	.disable_cpu = ve_svm_clear_svme,
	.emergency_disable_cpu = ve_svm_clear_svme,
};
