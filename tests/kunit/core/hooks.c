// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where the kernel calls the KUnit tests' private copy of the core, in
 * place of ../../../hooks.c: the same two CPU hotplug states, so that real
 * hotplug drives the copy, but neither syscore ops nor a reboot notifier
 * (the cases call ve_suspend(), ve_resume() and ve_shutdown() themselves)
 * and a slot of its own for the emergency callback, which the kernel's
 * holds one of (the loaded virt_enable's, or KVM's).
 */
#include <linux/bug.h>
#include <linux/cpuhotplug.h>

#include "../private.h"

static int ve_prepare_state;
static int ve_online_state;

void (*ve_kunit_emergency_hook)(void);

int ve_emergency_hook_claim(void)
{
	/* The kernel's hook WARNs on a second registration: so does this. */
	WARN_ON(ve_kunit_emergency_hook);
	WRITE_ONCE(ve_kunit_emergency_hook, ve_emergency_disable_cpu);
	return 0;
}

void ve_emergency_hook_release(void)
{
	WRITE_ONCE(ve_kunit_emergency_hook, NULL);
}

bool ve_emergency_hook_available(void)
{
	return true;
}

/* No syscore ops to reorder here. */
void ve_syscore_reorder(void)
{
}

int ve_lifecycle_init(void)
{
	int r;

	r = cpuhp_setup_state(CPUHP_BP_PREPARE_DYN, "virt_enable_test:prepare",
			      ve_cpu_prepare, ve_cpu_dead);
	if (r < 0)
		return r;
	ve_prepare_state = r;

	r = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "virt_enable_test:online",
			      ve_cpu_online, ve_cpu_offline);
	if (r < 0) {
		cpuhp_remove_state(ve_prepare_state);
		return r;
	}
	ve_online_state = r;
	return 0;
}

void ve_lifecycle_exit(void)
{
	cpuhp_remove_state(ve_online_state);
	cpuhp_remove_state(ve_prepare_state);
}
