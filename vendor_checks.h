/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The decisions of the vendor backends' load and per-CPU checks, as pure
 * functions of what the kernel sees, so that KUnit can try every case
 * (firmware settings, tboot, SEV guests) that no emulator here offers.
 */
#ifndef _VIRT_ENABLE_VENDOR_CHECKS_H
#define _VIRT_ENABLE_VENDOR_CHECKS_H

#include <linux/errno.h>
#include <linux/types.h>

struct ve_vmx_facts {
	bool cpuid_vmx;			/* CPUID.1:ECX.VMX */
	bool kernel_vmx;		/* X86_FEATURE_VMX survived boot: VMXON allowed */
	bool feat_ctl_readable;
	u64 feat_ctl;			/* IA32_FEAT_CTL */
	bool kernel_enables_vmx;	/* CONFIG_KVM_INTEL: boot enables VMX in it */
};

struct ve_svm_facts {
	bool cpuid_svm;			/* CPUID.80000001H:ECX.SVM */
	bool kernel_svm;		/* X86_FEATURE_SVM survived boot */
	bool svm_disabled;		/* VM_CR.SVMDIS */
	bool sev_guest;			/* inside an SEV guest */
};

/* A check's verdict: the feature cannot be used here, for @reason. */
static inline int ve_refuse(const char **why, const char *reason)
{
	*why = reason;
	return -EOPNOTSUPP;
}

unsigned int ve_vmx_nr_regions(void);

#endif /* _VIRT_ENABLE_VENDOR_CHECKS_H */
