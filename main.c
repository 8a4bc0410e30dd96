// SPDX-License-Identifier: GPL-2.0-only
/*
 * virt_enable module glue: pick the vendor backend this CPU needs, start the
 * core with it, and bring up its interfaces and TDX.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>

#include "internal.h"

static const struct ve_vendor_ops *const ve_vendors[] = {
	&ve_vmx_ops,
	&ve_svm_ops,
};

static const struct ve_vendor_ops *ve_vendor_select(void)
{
	int i, r;

	for (i = 0; i < ARRAY_SIZE(ve_vendors); i++) {
		r = ve_vendors[i]->init();
		if (!r)
			return ve_vendors[i];
		if (r != -ENODEV)
			return ERR_PTR(r);
	}
	pr_err("this CPU offers neither VMX nor SVM\n");
	return ERR_PTR(-ENODEV);
}

static int __init virt_enable_init(void)
{
	const struct ve_vendor_ops *vendor;
	int r;

	vendor = ve_vendor_select();
	r = PTR_ERR_OR_ZERO(vendor);
	if (r)
		goto out;

	r = ve_core_init(vendor);
	if (r)
		goto out;
	r = ve_watch_kvm_modules();
	if (r)
		goto err_core;
	r = ve_sysfs_init();
	if (r)
		goto err_watch;
	ve_debugfs_init();
	r = ve_tdx_init();
	if (r)
		goto err_debugfs;

	pr_info("managing %s\n", vendor->name);
	return 0;

err_debugfs:
	ve_debugfs_exit();
	ve_sysfs_exit();
err_watch:
	ve_unwatch_kvm_modules();
err_core:
	ve_core_exit();
out:
	/* Built in, the exported functions stay, and refuse every user. */
	pr_err("not started: %pe\n", ERR_PTR(r));
	return r;
}

/* Every reference pins the module: nothing is held here. */
static void __exit virt_enable_exit(void)
{
	ve_debugfs_exit();
	ve_sysfs_exit();
	ve_unwatch_kvm_modules();
	ve_core_exit();
}

/*
 * Built in, before device initcalls: a built-in KVM (arch/ links before
 * drivers/) registers its user from its own module_init().
 */
subsys_initcall(virt_enable_init);
module_exit(virt_enable_exit);

MODULE_DESCRIPTION("Reference-counted ownership of x86 hardware virtualization (VMX/SVM)");
MODULE_AUTHOR("The virt_enable developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(VIRT_ENABLE_VERSION);
