// SPDX-License-Identifier: GPL-2.0-only
/*
 * virt_enable's policy towards an unmodified KVM.
 *
 * An unmodified kvm_intel or kvm_amd turns VMX/SVM on by itself (6.12 at
 * load, 6.1 per VM) and claims the kernel's one emergency hook, which
 * allows a single owner.  Loaded before virt_enable's first user, it is
 * ridden (ride.c): it keeps switching the hardware, and virt_enable's
 * users share it.  It cannot load while virt_enable has users and switches
 * the hardware itself: its initialization would find the hardware on and
 * the emergency hook taken.
 *
 * A KVM patched to use virt_enable (kvm/ in this repository) is a user like
 * any other; see ve_kvm_is_user() for how it is told from an unmodified one.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/string.h>

#include "internal.h"

static const char *const ve_kvm_modules[] = { "kvm_intel", "kvm_amd" };

/* An unmodified KVM loaded while virt_enable had no users. */
static struct module *ve_foreign_module;

#if defined(MODULE) && !defined(CONFIG_MODULE_UNLOAD)
/* The module use lists tell which KVM is a user: see ve_kvm_is_user(). */
#error "virt_enable as a module needs CONFIG_MODULE_UNLOAD"
#endif

/*
 * Whether @mod, a kvm_intel or kvm_amd being loaded or loaded, turns the
 * hardware on and off through virt_enable (the KVM series, kvm/).
 *
 * A modular virt_enable asks the module loader: resolving a module's
 * symbols, before MODULE_STATE_COMING, it records each module the new one
 * takes symbols from (ref_module(): what lsmod's "Used by" and
 * /sys/module/virt_enable/holders show).  A built-in virt_enable has no
 * such record; the KVM series of its tree says so in Kconfig instead: a
 * converted KVM_INTEL or KVM_AMD selects VIRT_ENABLE_KVM_INTEL or
 * VIRT_ENABLE_KVM_AMD.  That speaks for the modules built with the tree,
 * not for one built elsewhere (tainted out-of-tree), which is taken for
 * unmodified: at worst it is refused, never let in over virt_enable's
 * hardware.  @mod is NULL for a KVM built into the kernel.
 */
static bool ve_kvm_is_user(const char *name, struct module *mod)
{
#ifdef MODULE
	struct module_use *use;

	if (!mod)	/* built in, it cannot link against a module */
		return false;
	list_for_each_entry(use, &mod->target_list, target_list)
		if (use->target == THIS_MODULE)
			return true;
	return false;
#else
	bool converted = strcmp(name, "kvm_intel") ?
			 IS_ENABLED(CONFIG_VIRT_ENABLE_KVM_AMD) :
			 IS_ENABLED(CONFIG_VIRT_ENABLE_KVM_INTEL);

	return converted && (!mod || !test_bit(TAINT_OOT_MODULE, &mod->taints));
#endif
}

static const char *ve_kvm_module_name(const char *name)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(ve_kvm_modules); i++)
		if (!strcmp(name, ve_kvm_modules[i]))
			return ve_kvm_modules[i];
	return NULL;
}

/*
 * A KVM vendor module that was loaded (or built in) before virt_enable got
 * its first user.  A patched one registers a user while it loads, so one
 * found here is either loading right now or unmodified.
 */
static struct module *ve_kvm_module_present(void)
{
#ifdef MODULE
	struct kset *modules = THIS_MODULE->mkobj.kobj.kset;
#else
	struct kset *modules = module_kset;
#endif
	struct kobject *kobj;
	struct module *mod;
	bool foreign;
	int i;

	for (i = 0; i < ARRAY_SIZE(ve_kvm_modules); i++) {
		kobj = kset_find_obj(modules, ve_kvm_modules[i]);
		if (!kobj)
			continue;
		mod = container_of(kobj, struct module_kobject, kobj)->mod;
		foreign = !ve_kvm_is_user(ve_kvm_modules[i], mod);
		kobject_put(kobj);
		if (foreign)
			return mod ?: ERR_PTR(-EBUSY);
	}
	return NULL;
}

/**
 * ve_foreign_kvm() - the unmodified KVM that owns the hardware, if any
 *
 * Called with ve_lock held, before the first user registers.
 *
 * Return: its module (kvm_intel or kvm_amd), NULL, or ERR_PTR(-EBUSY) for
 * an unmodified one built into the kernel, which cannot be ridden.
 */
struct module *ve_foreign_kvm(void)
{
	lockdep_assert_held(&ve_lock);
	return ve_foreign_module ?: ve_kvm_module_present();
}

static int ve_module_notify(struct notifier_block *nb, unsigned long action,
			    void *data)
{
	struct module *mod = data;
	const char *name = ve_kvm_module_name(mod->name);
	int r = 0;

	if (!name)
		return NOTIFY_DONE;
	if (action == MODULE_STATE_COMING && ve_kvm_is_user(name, mod))
		return NOTIFY_DONE;

	mutex_lock(&ve_lock);
	if (action == MODULE_STATE_COMING) {
		if (ve_armed && !ve_ride_kvm) {
			pr_err("refusing to load %s: virt_enable users own %s; drop them first, or use a KVM built on virt_enable\n",
			       name, ve_vendor->name);
			r = -EBUSY;
		} else if (!ve_armed) {
			ve_foreign_module = mod;
		}
	} else if (action == MODULE_STATE_GOING) {
		if (ve_foreign_module == mod)
			ve_foreign_module = NULL;
		if (ve_ride_kvm == mod)
			ve_ride_stop();
	}
	mutex_unlock(&ve_lock);
	return notifier_from_errno(r);
}

static struct notifier_block ve_module_nb = {
	.notifier_call = ve_module_notify,
};

/*
 * Watching KVM modules come and go is for the module's lifetime: the KUnit
 * tests restart the core, and registering a module notifier from within
 * the module notifier chain (where a test module runs) would deadlock.
 */
int ve_watch_kvm_modules(void)
{
	return register_module_notifier(&ve_module_nb);
}

void ve_unwatch_kvm_modules(void)
{
	unregister_module_notifier(&ve_module_nb);
}
