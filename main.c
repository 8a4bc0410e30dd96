// SPDX-License-Identifier: GPL-2.0-only
/*
 * virt_enable module glue: pick the vendor backend this CPU needs, start the
 * core with it, and expose the debugfs interface.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

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

static const struct ve_vendor_ops *ve_vendor;

static int __init virt_enable_init(void)
{
	int r;

	ve_vendor = ve_vendor_select();
	if (IS_ERR(ve_vendor))
		return PTR_ERR(ve_vendor);

	r = ve_core_init(ve_vendor);
	if (r)
		goto err_vendor;
	r = ve_watch_kvm_modules();
	if (r)
		goto err_core;
	ve_debugfs_init();

	pr_info("managing %s\n", ve_vendor->name);
	return 0;

err_core:
	ve_core_exit();
err_vendor:
	ve_vendor->exit();
	return r;
}

static void __exit virt_enable_exit(void)
{
	ve_debugfs_exit();
	ve_unwatch_kvm_modules();
	ve_core_exit();
	ve_vendor->exit();
}

module_init(virt_enable_init);
module_exit(virt_enable_exit);

MODULE_DESCRIPTION("Reference-counted ownership of x86 hardware virtualization (VMX/SVM)");
MODULE_AUTHOR("The virt_enable developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(VIRT_ENABLE_VERSION);
