// SPDX-License-Identifier: GPL-2.0-only
/*
 * virt_enable lifecycle: what the core does, once for every user, when a
 * CPU comes and goes, the machine suspends and resumes, shuts down, or
 * crashes.  hooks.c is where the kernel calls these.
 *
 * A CPU coming online is prepared on the controlling CPU before it starts
 * (allocate what enabling it needs, so that any later hotplug state on
 * that CPU can take a per-CPU reference) and reported after it is dead
 * (references it died with); in between, the online and offline steps run
 * on the CPU itself, which is where system-wide references start and stop
 * covering it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/rculist.h>
#include <linux/smp.h>

#include "compat/compat.h"
#include "internal.h"
#include "virt_enable_trace.h"

/* What a CPU needs before its first enable, for every online CPU. */
int ve_cpus_alloc(void)
{
	int cpu, r;

	if (!ve_vendor->alloc_cpu)
		return 0;
	for_each_online_cpu(cpu) {
		r = ve_vendor->alloc_cpu(cpu);
		if (r) {
			ve_cpus_free();
			return r;
		}
	}
	return 0;
}

/* Undo ve_cpus_alloc() and every prepare step, except where still in use. */
void ve_cpus_free(void)
{
	int cpu;

	if (!ve_vendor->free_cpu)
		return;
	for_each_possible_cpu(cpu)
		if (!per_cpu_ptr(&ve_cpus, cpu)->owned)
			ve_vendor->free_cpu(cpu);
}

int ve_cpu_prepare(unsigned int cpu)
{
	int r = 0;

	mutex_lock(&ve_lock);
	if (ve_armed && ve_vendor->alloc_cpu)
		r = ve_vendor->alloc_cpu(cpu);
	mutex_unlock(&ve_lock);
	if (r)
		pr_err("CPU %u cannot come online: no memory to enable %s on it\n",
		       cpu, ve_vendor->name);
	return r;
}

/*
 * The CPU is dead.  Whatever was still on there stays with it: VMX left on
 * blocks the INIT that would start it again.  Say so, and forget the
 * references that should have been put.
 */
int ve_cpu_dead(unsigned int cpu)
{
	struct ve_cpu *vc = per_cpu_ptr(&ve_cpus, cpu);

	mutex_lock(&ve_lock);
	if (vc->nr_pinned || vc->owned) {
		pr_err("CPU %u went offline with %s %s and %u per-CPU references held: users must put them before the CPU dies; it may not start again\n",
		       cpu, ve_vendor->name, vc->owned ? "on" : "off",
		       vc->nr_pinned);
		ve_cpu_forget_pinned(cpu);
		if (vc->on && !vc->owned)
			ve_ride_cpu_off();
		WRITE_ONCE(vc->on, false);
		WRITE_ONCE(vc->owned, false);
	}
	mutex_unlock(&ve_lock);
	return 0;
}

int ve_cpu_online(unsigned int cpu)
{
	struct ve_cpu *vc = per_cpu_ptr(&ve_cpus, cpu);
	int r = 0;

	mutex_lock(&ve_lock);
	if (!ve_going_down) {
		local_irq_disable();
		vc->online = true;
		vc->system = ve_nr_system_users != 0;
		r = ve_cpu_reconcile(vc, VE_WHY_HOTPLUG);
		if (r) {
			/* Fail the online rather than break the references' promise. */
			pr_err("CPU %u cannot come online: enabling %s failed: %pe\n",
			       cpu, ve_vendor->name, ERR_PTR(r));
			vc->online = false;
			ve_cpu_reconcile(vc, VE_WHY_ROLLBACK);
		}
		local_irq_enable();
	}
	mutex_unlock(&ve_lock);
	return r;
}

int ve_cpu_offline(unsigned int cpu)
{
	struct ve_cpu *vc = per_cpu_ptr(&ve_cpus, cpu);

	mutex_lock(&ve_lock);
	local_irq_disable();
	vc->online = false;
	ve_cpu_reconcile(vc, VE_WHY_HOTPLUG);
	local_irq_enable();
	mutex_unlock(&ve_lock);
	return 0;
}

/* Tell the users that agreed to a suspend that it is over, in reverse. */
static void ve_users_resume(void)
{
	struct virt_enable_user *user;

	list_for_each_entry_reverse(user, &ve_users, node) {
		if (!user->suspended)
			continue;
		user->suspended = false;
		user->ops->resume(user->data);
	}
}

/*
 * Suspend and resume run on the last online CPU with interrupts disabled,
 * after the others went offline and with tasks frozen.  ve_lock is taken
 * with a trylock, from suspend until resume, so that a register, get or put
 * that was preempted half way cannot be seen half done: then the suspend
 * is refused, to be tried again.
 */
int ve_suspend(void)
{
	struct ve_cpu *vc = this_cpu_ptr(&ve_cpus);
	struct virt_enable_user *user;
	int r;

	lockdep_assert_irqs_disabled();

	if (!mutex_trylock(&ve_lock)) {
		pr_err("suspend refused: a virt_enable request is in progress\n");
		return -EBUSY;
	}

	list_for_each_entry(user, &ve_users, node) {
		if (!user->ops || !user->ops->suspend)
			continue;
		r = user->ops->suspend(user->data);
		if (r) {
			ve_stats.vetoed_suspends++;
			pr_err("suspend vetoed by user \"%s\": %pe\n",
			       user->name, ERR_PTR(r));
			ve_users_resume();
			mutex_unlock(&ve_lock);
			return r;
		}
		user->suspended = !!user->ops->resume;
	}

	vc->suspended = true;
	ve_cpu_reconcile(vc, VE_WHY_SUSPEND);
	return 0;
}

void ve_resume(void)
{
	struct ve_cpu *vc = this_cpu_ptr(&ve_cpus);
	int r;

	lockdep_assert_irqs_disabled();
	lockdep_assert_held(&ve_lock);

	vc->suspended = false;
	r = ve_cpu_reconcile(vc, VE_WHY_RESUME);
	if (r) {
		/*
		 * Nothing half done: off, with every user stopped, and said
		 * so.  The next change of references tries again.
		 */
		ve_stats.resume_failures++;
		pr_err("re-enabling %s on CPU %u after resume failed: %pe; it stays off\n",
		       ve_vendor->name, smp_processor_id(), ERR_PTR(r));
		vc->suspended = true;
		ve_cpu_reconcile(vc, VE_WHY_ROLLBACK);
		vc->suspended = false;
		ve_lagging = true;
	}
	ve_users_resume();
	mutex_unlock(&ve_lock);
}

/* What shutdown did: CPUs turned off, and CPUs left to the KVM ridden. */
struct ve_shutdown_count {
	atomic_t turned_off;
	atomic_t ridden;
};

static void ve_shutdown_ipi(void *arg)
{
	struct ve_cpu *vc = this_cpu_ptr(&ve_cpus);
	struct ve_shutdown_count *count = arg;
	bool was_on = vc->on, was_owned = vc->owned;

	ve_cpu_reconcile(vc, VE_WHY_SHUTDOWN);
	if (was_on && !vc->on)
		atomic_inc(was_owned ? &count->turned_off : &count->ridden);
}

/*
 * Reboot, halt, power-off and kexec: turn the hardware off everywhere, with
 * every CPU still running, before firmware or the next kernel needs INIT to
 * work, and refuse to turn it on again.
 *
 * References are honoured until syscore shutdown.  Before it, user tasks
 * (vCPUs among them) still run, and a user may only learn that the machine
 * is going down there: KVM sets kvm_rebooting in its own syscore shutdown,
 * where it also VMCLEARs and puts its per-CPU references.  KVM registered
 * its syscore ops after virt_enable's (it imports our symbols), and
 * syscore_shutdown() runs them in reverse, so KVM's come first and ours
 * last.  Reboot, halt and power-off reach syscore_shutdown() after the
 * reboot notifiers and device shutdown, and so does kexec since Linux 6.7;
 * 6.1's kexec goes from the reboot notifiers straight to machine_shutdown(),
 * so there the reboot notifier, registered last, does it: 6.1's KVM has
 * put its references and set kvm_rebooting in its own reboot notifier by
 * then.  Crashes and emergency reboots take the emergency path instead.
 * Riding an unmodified KVM, both hooks of ours run before KVM's (see
 * ve_syscore_reorder()): users are stopped here, and KVM turns the
 * hardware off after.
 */
void ve_shutdown(void)
{
	struct ve_shutdown_count count = {};
	char kvm[MODULE_NAME_LEN] = "KVM";

	mutex_lock(&ve_lock);
	WRITE_ONCE(ve_going_down, true);
	on_each_cpu(ve_shutdown_ipi, &count, 1);
	/* The CPUs' pins on it are gone: the name, not the module. */
	if (ve_ride_kvm)
		strscpy(kvm, module_name(ve_ride_kvm), sizeof(kvm));
	mutex_unlock(&ve_lock);
	if (atomic_read(&count.turned_off))
		pr_info("%s turned off on %d CPUs for shutdown\n", ve_vendor->name,
			atomic_read(&count.turned_off));
	if (atomic_read(&count.ridden))
		pr_info("users stopped on %d CPUs for shutdown, %s turns %s off\n",
			atomic_read(&count.ridden), kvm, ve_vendor->name);
}

/**
 * ve_emergency_disable_cpu() - force the hardware off on this CPU
 *
 * The kernel's emergency virtualization callback, run on every CPU for a
 * crash, kexec on panic and emergency reboot, in NMI context (or with
 * interrupts disabled on the crashing CPU).  Users get their ->emergency
 * callback first, and only where the hardware is on (VMCLEAR needs VMX on);
 * then the hardware goes off if, and only if, virt_enable turned it on
 * (even half way), whatever the reference counts.  A failure means what it
 * means to ve_hw_off(): the hardware is still on, and ours, and the next
 * call tries again (without users' callbacks, which have run).  Takes no
 * locks; idempotent.
 */
void ve_emergency_disable_cpu(void)
{
	struct ve_cpu *vc = this_cpu_ptr(&ve_cpus);
	struct virt_enable_user *user;
	int r;

	WRITE_ONCE(ve_going_down, true);

	if (READ_ONCE(vc->on)) {
		rcu_read_lock();
		list_for_each_entry_rcu(user, &ve_users, node)
			if (user->ops && user->ops->emergency)
				user->ops->emergency(user->data);
		rcu_read_unlock();
	}

	if (!READ_ONCE(vc->owned))
		return;
	ve_cpu_unready();
	WRITE_ONCE(vc->on, false);
	barrier();
	r = ve_vendor->emergency_disable_cpu();
	barrier();
	trace_virt_enable_cpu(raw_smp_processor_id(), false, VE_WHY_EMERGENCY,
			      KBUILD_MODNAME, r);
	if (r) {
		WRITE_ONCE(vc->nr_disable_failures, vc->nr_disable_failures + 1);
		return;
	}
	WRITE_ONCE(vc->owned, false);
	WRITE_ONCE(vc->nr_emergencies, vc->nr_emergencies + 1);
}
