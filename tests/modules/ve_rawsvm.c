// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test-only module, the SVM negative control of the kexec and crash tests:
 * a careless hypervisor.  It sets EFER.SVME on one CPU (cpu=, default 0,
 * the CPU that runs kexec and that the crash suites crash on) behind
 * everyone's back and never clears it, and it cannot be unloaded.
 *
 * EFER.SVME does not block INIT (QEMU's TCG blocks it only with GIF=0),
 * so a CPU left so still starts in the next kernel: what shows is that
 * the next kernel's boot CPU, which keeps the EFER of the CPU that jumped
 * to it, comes up with SVME set.  The tests check that they see it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/smp.h>
#include <asm/msr.h>

static unsigned int cpu;
module_param(cpu, uint, 0444);
MODULE_PARM_DESC(cpu, "the CPU to leave with EFER.SVME set");

static void ve_raw_svme(void *result)
{
	u64 efer;

	if (rdmsrl_safe(MSR_EFER, &efer) || (efer & EFER_SVME) ||
	    wrmsrl_safe(MSR_EFER, efer | EFER_SVME))
		*(int *)result = -EIO;
	else
		*(int *)result = 0;
}

static int __init ve_raw_init(void)
{
	int r = -ENODEV;

	if (!boot_cpu_has(X86_FEATURE_SVM) || !cpu_online(cpu))
		return -ENODEV;
	smp_call_function_single(cpu, ve_raw_svme, &r, 1);
	if (r)
		return r;
	pr_info("CPU %u left with EFER.SVME set\n", cpu);
	return 0;
}

/* No exit: a careless owner's SVME outlives the kernel. */
module_init(ve_raw_init);
MODULE_DESCRIPTION("virt_enable test: a raw EFER.SVME nobody clears");
MODULE_LICENSE("GPL");
