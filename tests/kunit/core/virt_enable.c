// SPDX-License-Identifier: GPL-2.0-only
/* The KUnit tests' private copy of virt_enable.c: see build.h. */
#include "build.h"
#include "../../../virt_enable.c"

#include "../private.h"

struct ve_cpu *ve_cpu_state(unsigned int cpu)
{
	return per_cpu_ptr(&ve_cpus, cpu);
}

/* References of every user together, of every kind. */
unsigned int ve_refs_held(void)
{
	struct virt_enable_user *user;
	unsigned int refs = 0;

	mutex_lock(&ve_lock);
	list_for_each_entry(user, &ve_users, node)
		refs += atomic_read(&user->nr_refs) + user->nr_permanent +
			ve_user_cpu_refs(user);
	mutex_unlock(&ve_lock);
	return refs;
}

/* The test module's reference count (the copy pins it), or -1 built in. */
int ve_module_refs(void)
{
#ifdef MODULE
	return module_refcount(THIS_MODULE);
#else
	return -1;
#endif
}
