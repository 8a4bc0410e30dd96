// SPDX-License-Identifier: GPL-2.0-only
/*
 * TDX bringup as a virt_enable user.
 *
 * TDX is not a hypervisor: it never owns a VMCS.  It needs VMX on, on every
 * CPU, for as long as the TDX module is initialized, which is forever
 * (there is no de-init), plus a per-CPU TDH.SYS.LP_INIT after VMXON on each
 * CPU, including CPUs that come online later.  So on a TDX platform, and
 * only there, a user "tdx" takes a permanent reference, does the per-CPU
 * init in its ->cpu_enabled (which a CPU coming online runs after its
 * VMXON, and whose failure fails that online, as
 * Documentation/arch/x86/tdx.rst asks), then the global init.
 *
 * CPU offline is allowed: KVM on the kernels virt_enable supports runs no
 * TDX guests, so no private key IDs live on any package; a returning CPU
 * gets VMXON and its (idempotent) LP_INIT again.  Suspend is vetoed: TDX
 * loses its state in S3.
 *
 * The three TDX operations go through struct ve_tdx_ops, real by default
 * and faked by the KUnit tests.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": TDX: " fmt

#include <linux/cpu.h>
#include <linux/err.h>
#include <linux/moduleparam.h>
#include <linux/string.h>

#include "compat/compat.h"
#include "internal.h"

#ifdef VE_HAVE_TDX_HOST
#include <asm/tdx.h>

static bool ve_tdx_platform(void)
{
	return boot_cpu_has(X86_FEATURE_TDX_HOST_PLATFORM);
}

static int ve_tdx_cpu_enable(void)
{
	return tdx_cpu_enable();
}

static int ve_tdx_enable(void)
{
	return tdx_enable();
}

#define VE_TDX_NO_PLATFORM	"the firmware offers no TDX module"
#else
static bool ve_tdx_platform(void)
{
	return false;
}

static int ve_tdx_cpu_enable(void)
{
	return -ENODEV;
}

static int ve_tdx_enable(void)
{
	return -ENODEV;
}

#define VE_TDX_NO_PLATFORM	"this kernel has no TDX host support (CONFIG_INTEL_TDX_HOST)"
#endif

static const struct ve_tdx_ops ve_tdx_real_ops = {
	.platform = ve_tdx_platform,
	.cpu_enable = ve_tdx_cpu_enable,
	.enable = ve_tdx_enable,
};

static enum ve_tdx_policy ve_tdx_policy = VE_TDX_AUTO;
static const char *const ve_tdx_policies[] = {
	[VE_TDX_AUTO] = "auto",
	[VE_TDX_ON] = "on",
	[VE_TDX_OFF] = "off",
};

static int ve_tdx_param_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(ve_tdx_policies, val);

	if (i < 0)
		return -EINVAL;
	ve_tdx_policy = i;
	return 0;
}

static int ve_tdx_param_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", ve_tdx_policies[ve_tdx_policy]);
}

static const struct kernel_param_ops ve_tdx_param_ops = {
	.set = ve_tdx_param_set,
	.get = ve_tdx_param_get,
};

module_param_cb(tdx, &ve_tdx_param_ops, NULL, 0444);
MODULE_PARM_DESC(tdx, "TDX bringup: auto (default) when the platform has TDX, on to fail loading unless TDX comes up, off to never bring it up");

static const struct ve_tdx_ops *ve_tdx_ops;
static struct virt_enable_user *ve_tdx_user;
static bool ve_tdx_up;

static int ve_tdx_cpu_enabled(unsigned int cpu, void *data)
{
	int r = ve_tdx_ops->cpu_enable();

	if (r)
		pr_err("CPU %u failed its TDX initialization (TDH.SYS.LP_INIT): %pe\n",
		       cpu, ERR_PTR(r));
	return r;
}

static int ve_tdx_suspend(void *data)
{
	pr_err("suspend refused: TDX is initialized and would lose its state\n");
	return -EBUSY;
}

static const struct virt_enable_user_ops ve_tdx_user_ops = {
	.cpu_enabled = ve_tdx_cpu_enabled,
	.suspend = ve_tdx_suspend,
};

/**
 * ve_tdx_start() - bring TDX up, if the platform and @policy say so
 * @ops: the TDX operations.
 * @policy: auto, on or off.
 *
 * Order: VMX on every online CPU, then TDH.SYS.LP_INIT on each (both by
 * the permanent reference), then the global init with CPU hotplug held off
 * so that every online CPU is known to be initialized.  Any failure undoes
 * everything: no user, no reference, VMX off again.
 *
 * Return: 0 when TDX is up or was not wanted; with @policy on, the error
 * that kept it down (-ENODEV without a platform).
 */
static int ve_tdx_start(const struct ve_tdx_ops *ops,
			enum ve_tdx_policy policy)
{
	struct virt_enable_user *user;
	int r;

	ve_tdx_ops = ops;
	if (policy == VE_TDX_OFF) {
		pr_info("not brought up (tdx=off)\n");
		return 0;
	}
	if (!ops->platform()) {
		if (policy == VE_TDX_ON) {
			pr_err("tdx=on, but no TDX platform: " VE_TDX_NO_PLATFORM "\n");
			return -ENODEV;
		}
		pr_info("no TDX platform: " VE_TDX_NO_PLATFORM "\n");
		return 0;
	}

	user = virt_enable_register("tdx", &ve_tdx_user_ops, NULL);
	r = PTR_ERR_OR_ZERO(user);
	if (r) {
		pr_err("cannot register with virt_enable: %pe\n", ERR_PTR(r));
		goto out;
	}
	r = ve_get(user, VIRT_ENABLE_VMX, VE_REF_PERMANENT);
	if (r) {
		pr_err("turning VMX on and initializing every CPU failed: %pe\n",
		       ERR_PTR(r));
		goto err_user;
	}
	cpus_read_lock();
	r = ops->enable();
	cpus_read_unlock();
	if (r) {
		pr_err("initializing the TDX module failed: %pe\n", ERR_PTR(r));
		goto err_user;
	}
	ve_tdx_user = user;
	ve_tdx_up = true;
	pr_info("initialized; VMX stays on while the system runs\n");
	return 0;

err_user:
	ve_unregister(user);
out:
	return policy == VE_TDX_ON ? r : 0;
}

/* Whether TDX holds its permanent reference. */
bool ve_tdx_active(void)
{
	return READ_ONCE(ve_tdx_up);
}

/* At load, with the tdx= policy given to the module. */
int ve_tdx_init(void)
{
	if (ve_vendor->feature == VIRT_ENABLE_VMX)
		return ve_tdx_start(&ve_tdx_real_ops, ve_tdx_policy);
	if (ve_tdx_policy != VE_TDX_ON)
		return 0;
	pr_err("tdx=on, but this machine has no VMX: TDX needs an Intel CPU\n");
	return -ENODEV;
}
