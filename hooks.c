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

/*
 * Last, after a patched KVM's, which puts its references there: see
 * ve_shutdown().  First while riding an unmodified KVM, which turns the
 * hardware off in its own reboot notifier: see ve_syscore_reorder().
 */
static struct notifier_block ve_reboot_nb = {
	.notifier_call = ve_reboot_notify,
	.priority = INT_MIN + 1,
};

static void ve_reboot_notifier_register(void)
{
	ve_reboot_nb.priority = READ_ONCE(ve_ride_kvm) ? INT_MAX : INT_MIN + 1;
	register_reboot_notifier(&ve_reboot_nb);
}

#define ve_reboot_notifier_unregister()	unregister_reboot_notifier(&ve_reboot_nb)
#else
#define ve_reboot_notifier_register()	do { } while (0)
#define ve_reboot_notifier_unregister()	do { } while (0)
#endif

VE_DEFINE_SYSCORE(ve_syscore, ve_suspend, ve_resume, ve_shutdown);

/*
 * Riding an unmodified KVM (ride.c), its syscore ops must come before ours
 * in the list, which syscore suspend and shutdown run in reverse and resume
 * in order: ours stop users before KVM turns the hardware off, and start
 * them after KVM turned it back on.  KVM registers its ops when its usage
 * count leaves zero (6.12) or at load (6.1), so ours move to the end each
 * time that may have happened.  Where kexec skips syscore shutdown (6.1),
 * KVM turns the hardware off from a reboot notifier: ours then goes first.
 * Never with ve_lock held: see ride.c.
 */
void ve_syscore_reorder(void)
{
	static DEFINE_MUTEX(ve_reorder_lock);

	mutex_lock(&ve_reorder_lock);
	ve_syscore_unregister(&ve_syscore);
	ve_syscore_register(&ve_syscore);
	ve_reboot_notifier_unregister();
	ve_reboot_notifier_register();
	mutex_unlock(&ve_reorder_lock);
}

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
