// SPDX-License-Identifier: GPL-2.0-only
/* The KUnit tests' private copy of kvm_policy.c: see build.h. */
#include "build.h"

/*
 * The copy looks for loaded KVM modules in its own module's kset, which
 * 6.1 has not set yet where it runs a module's KUnit suites (the module's
 * COMING notification, before its sysfs directory): there is nothing to
 * find then.  kvm_policy.c's pr_fmt, so that it can define it again.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#include <linux/kobject.h>

static inline struct kobject *ve_kunit_kset_find_obj(struct kset *kset,
						     const char *name)
{
	return kset ? kset_find_obj(kset, name) : NULL;
}

#define kset_find_obj ve_kunit_kset_find_obj

#include "../../../kvm_policy.c"

#include "../private.h"

/* A module notification, as the kernel would send it for @mod. */
int ve_kunit_module_notify(unsigned long action, struct module *mod)
{
	return notifier_to_errno(ve_module_notify(NULL, action, mod));
}
