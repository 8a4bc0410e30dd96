// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where the kernel calls virt_enable's lifecycle (lifecycle.c): two CPU
 * hotplug states, the syscore ops, the reboot notifier where kexec skips
 * syscore shutdown, and the kernel's single emergency virtualization
 * callback.  The KUnit tests run a private copy of the core on a fake
 * backend behind their own version of this file, so that they never touch
 * these hooks.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpuhotplug.h>
#include <linux/limits.h>
#include <linux/reboot.h>

#include "compat/compat.h"
#include "internal.h"

static int ve_prepare_state;
static int ve_online_state;

#ifdef VE_KEXEC_SKIPS_SYSCORE_SHUTDOWN
static int ve_reboot_notify(struct notifier_block *nb, unsigned long action,
			    void *data)
{
	ve_shutdown();
	return NOTIFY_DONE;
}

/* Last, after KVM's: see ve_shutdown(). */
static struct notifier_block ve_reboot_nb = {
	.notifier_call = ve_reboot_notify,
	.priority = INT_MIN + 1,
};

#define ve_reboot_notifier_register()	register_reboot_notifier(&ve_reboot_nb)
#define ve_reboot_notifier_unregister()	unregister_reboot_notifier(&ve_reboot_nb)
#else
#define ve_reboot_notifier_register()	do { } while (0)
#define ve_reboot_notifier_unregister()	do { } while (0)
#endif

VE_DEFINE_SYSCORE(ve_syscore, ve_suspend, ve_resume, ve_shutdown);

/**
 * ve_emergency_hook_claim() - become the kernel's emergency callback
 *
 * The hook holds one callback and WARNs on a second registration, so it is
 * claimed only once ve_arm() found no other owner: the kernel offers no
 * way to read it, and the owners it can have are KVM (checked by
 * ve_foreign_kvm()) and virt_enable.
 *
 * Return: 0.
 */
int ve_emergency_hook_claim(void)
{
	ve_emergency_hook_register(ve_emergency_disable_cpu);
	return 0;
}

void ve_emergency_hook_release(void)
{
	ve_emergency_hook_unregister(ve_emergency_disable_cpu);
}

bool ve_emergency_hook_available(void)
{
	return VE_HAVE_EMERGENCY_HOOK;
}

int ve_lifecycle_init(void)
{
	int r;

	r = cpuhp_setup_state(CPUHP_BP_PREPARE_DYN, KBUILD_MODNAME ":prepare",
			      ve_cpu_prepare, ve_cpu_dead);
	if (r < 0)
		return r;
	ve_prepare_state = r;

	r = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, KBUILD_MODNAME ":online",
			      ve_cpu_online, ve_cpu_offline);
	if (r < 0) {
		cpuhp_remove_state(ve_prepare_state);
		return r;
	}
	ve_online_state = r;
	ve_syscore_register(&ve_syscore);
	ve_reboot_notifier_register();

	if (!VE_HAVE_EMERGENCY_HOOK)
		pr_warn("this kernel has no emergency virtualization hook (built without KVM): a crash with %s on can leave CPUs unable to start in a kdump kernel\n",
			ve_vendor->name);
	return 0;
}

void ve_lifecycle_exit(void)
{
	ve_reboot_notifier_unregister();
	ve_syscore_unregister(&ve_syscore);
	cpuhp_remove_state(ve_online_state);
	cpuhp_remove_state(ve_prepare_state);
}
