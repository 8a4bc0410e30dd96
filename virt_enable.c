// SPDX-License-Identifier: GPL-2.0-only
/*
 * virt_enable core: named users, their references, and the per-CPU state
 * machine that keeps VMX/SVM on exactly where references need it.
 *
 * A CPU wants the hardware on while it is not suspended, the system is not
 * going down, and either a per-CPU reference of an in-kernel user is held
 * on it, or it is online for virt_enable and a system-wide (or permanent)
 * reference exists or a debugfs per-CPU reference was taken on it.  Every
 * change of references is followed by a reconcile on the affected CPUs,
 * which runs on that CPU with interrupts disabled: it stops the users whose
 * references no longer cover the CPU, switches the hardware, then starts
 * the users newly covering it.  lifecycle.c drives the same reconcile from
 * CPU hotplug, suspend/resume and shutdown.
 *
 * Locking: ve_lock serializes users, system-wide references, hotplug
 * callbacks and shutdown; it nests inside the CPU hotplug lock.  Per-CPU
 * state is only written by its own CPU with interrupts disabled (or, for an
 * offline CPU, under both locks), so per-CPU references need no lock and
 * work from any context but NMI, including other CPU-hotplug callbacks.
 * The users list is RCU-protected for the emergency path, which runs in NMI
 * context and takes no locks, and for per-CPU references, which may start
 * users on their CPU.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/ctype.h>
#include <linux/module.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/string.h>

#include "internal.h"

#define CREATE_TRACE_POINTS
#include "virt_enable_trace.h"

const struct ve_vendor_ops *ve_vendor __read_mostly;
/*
 * The vendor's feature between ve_core_init() and ve_core_exit(), where
 * the core runs, VIRT_ENABLE_NONE outside: every fast path reads it.
 */
static enum virt_enable_feature ve_feature __read_mostly = VIRT_ENABLE_NONE;
DEFINE_PER_CPU(struct ve_cpu, ve_cpus);
/* Users, system-wide references, hotplug and shutdown: see above. */
DEFINE_MUTEX(ve_lock);
LIST_HEAD(ve_users);
unsigned int ve_nr_system_users;
/* A CPU lags behind the system-wide references: its resume failed. */
bool ve_lagging;
/* Read by every reference's fast path: kept off the lines locks write. */
bool ve_going_down __read_mostly;
bool ve_armed;
struct ve_stats ve_stats;

/* The module is pinned by a CPU left on, see ve_disarm(). */
static bool ve_pinned;

/* Users at once: root can open any number of debugfs control files. */
#define VE_MAX_USERS	1024

const char *ve_feature_name(enum virt_enable_feature feature)
{
	switch (feature) {
	case VIRT_ENABLE_VMX:
		return "vmx";
	case VIRT_ENABLE_SVM:
		return "svm";
	case VIRT_ENABLE_NONE:
		break;
	}
	return "none";
}

int ve_feature_parse(const char *name, enum virt_enable_feature *feature)
{
	if (!strcmp(name, "vmx"))
		*feature = VIRT_ENABLE_VMX;
	else if (!strcmp(name, "svm"))
		*feature = VIRT_ENABLE_SVM;
	else
		return -EINVAL;
	return 0;
}

/*
 * Every export but virt_enable_register() checks here that the core runs:
 * built in, its symbols outlive an initialization that failed.
 */
static int ve_check_feature(enum virt_enable_feature feature)
{
	enum virt_enable_feature running = READ_ONCE(ve_feature);

	if (running == VIRT_ENABLE_NONE)
		return -ENODEV;
	return feature == running ? 0 : -EOPNOTSUPP;
}

static unsigned int ve_user_cpu_refs(struct virt_enable_user *user)
{
	unsigned int refs = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		refs += READ_ONCE(per_cpu_ptr(user->cpu, cpu)->refs);
	return refs;
}

static bool ve_has_cpu_callbacks(const struct virt_enable_user *user)
{
	return user->ops && (user->ops->cpu_enabled || user->ops->cpu_disabling);
}

bool ve_cpu_wanted(const struct ve_cpu *vc)
{
	if (READ_ONCE(ve_going_down) || vc->suspended)
		return false;
	return vc->nr_pinned || (vc->online && vc->system);
}

/* Whether @user's references cover this CPU, whose state is @vc. */
bool ve_user_covers(struct virt_enable_user *user, const struct ve_cpu *vc)
{
	if (READ_ONCE(ve_going_down) || vc->suspended)
		return false;
	if (this_cpu_ptr(user->cpu)->refs)
		return true;
	return vc->online && vc->system && READ_ONCE(user->system);
}

static int ve_hw_on(struct ve_cpu *vc, enum ve_reason why)
{
	int r;

	if (vc->on)
		return 0;

	/* Riding an unmodified KVM: its hardware, never switched here. */
	if (READ_ONCE(ve_ride_kvm)) {
		r = ve_ride_cpu_on();
		trace_virt_enable_cpu(smp_processor_id(), true, why,
				      module_name(ve_ride_kvm), r);
		if (r) {
			pr_err_ratelimited("%s is off on CPU %u: %s has not turned it on there\n",
					   ve_vendor->name, smp_processor_id(),
					   module_name(ve_ride_kvm));
			return r;
		}
		WRITE_ONCE(vc->on, true);
		return 0;
	}

	/*
	 * Let the emergency path see a half-enabled CPU as ours.  The enable
	 * itself refuses someone else's VMXON/SVME (-EBUSY): we never take it
	 * over or undo it, except that a crash meanwhile may turn it off,
	 * which is what a crash wants of every CPU.
	 */
	WRITE_ONCE(vc->owned, true);
	barrier();
	r = ve_vendor->enable_cpu();
	barrier();
	trace_virt_enable_cpu(smp_processor_id(), true, why, KBUILD_MODNAME, r);
	if (r) {
		WRITE_ONCE(vc->owned, false);
		if (r == -EBUSY) {
			atomic_long_inc(&ve_stats.busy);
			pr_err_ratelimited("%s is already enabled on CPU %u: another hypervisor owns it (kvm_intel/kvm_amd loaded without virt_enable?)\n",
					   ve_vendor->name, smp_processor_id());
		}
		return r;
	}
	WRITE_ONCE(vc->on, true);
	WRITE_ONCE(vc->nr_enables, vc->nr_enables + 1);
	return 0;
}

/*
 * Not on from the moment the disable starts: an emergency half way through
 * it must not run users' VMCLEARs; still owned until it succeeded, so that
 * the emergency path forces the hardware off.  A failed disable leaves the
 * hardware on, and ours: on again, so that a later enable finds it on
 * instead of blaming another hypervisor, and a later disable tries again.
 */
/**
 * ve_cpu_unready() - send every further per-CPU get on this CPU to the slow path
 *
 * Called, with interrupts disabled or from NMI, before anything turns the
 * hardware off here or stops a user under its held references: only a
 * slow get, which brings the CPU and the user back, marks a user ready
 * again.
 */
void ve_cpu_unready(void)
{
	struct virt_enable_user *user;

	rcu_read_lock();
	list_for_each_entry_rcu(user, &ve_users, node)
		WRITE_ONCE(this_cpu_ptr(user->cpu)->ready, false);
	rcu_read_unlock();
}

static void ve_hw_off(struct ve_cpu *vc, enum ve_reason why)
{
	int r;

	if (!vc->on)
		return;
	ve_cpu_unready();
	WRITE_ONCE(vc->on, false);
	if (!vc->owned) {
		/* KVM's hardware, see ve_hw_on(). */
		trace_virt_enable_cpu(smp_processor_id(), false, why,
				      module_name(ve_ride_kvm), 0);
		ve_ride_cpu_off();
		return;
	}
	barrier();
	r = ve_vendor->disable_cpu();
	barrier();
	trace_virt_enable_cpu(smp_processor_id(), false, why, KBUILD_MODNAME, r);
	if (r) {
		WRITE_ONCE(vc->on, true);
		WRITE_ONCE(vc->nr_disable_failures, vc->nr_disable_failures + 1);
		pr_err_ratelimited("turning %s off on CPU %u failed: %pe; it stays on\n",
				   ve_vendor->name, smp_processor_id(), ERR_PTR(r));
		return;
	}
	WRITE_ONCE(vc->owned, false);
	WRITE_ONCE(vc->nr_disables, vc->nr_disables + 1);
}

static int ve_user_start(struct virt_enable_user *user)
{
	struct ve_user_cpu *uc = this_cpu_ptr(user->cpu);
	int r;

	if (user->ops->cpu_enabled) {
		r = user->ops->cpu_enabled(smp_processor_id(), user->data);
		if (r) {
			pr_err("user \"%s\" failed to start on CPU %u: %pe\n",
			       user->name, smp_processor_id(), ERR_PTR(r));
			return r;
		}
	}
	uc->active = true;
	return 0;
}

static void ve_user_stop(struct virt_enable_user *user)
{
	WRITE_ONCE(this_cpu_ptr(user->cpu)->ready, false);
	if (user->ops->cpu_disabling)
		user->ops->cpu_disabling(smp_processor_id(), user->data);
	this_cpu_ptr(user->cpu)->active = false;
}

static bool ve_user_active(struct virt_enable_user *user)
{
	return ve_has_cpu_callbacks(user) && this_cpu_ptr(user->cpu)->active;
}

/*
 * Start, in order, the users whose references cover this CPU and that did
 * not start here yet.  Interrupts are disabled, which makes this an RCU
 * reader of the users list: per-CPU references call it without ve_lock.
 */
static int ve_users_start(struct ve_cpu *vc)
{
	struct virt_enable_user *user;
	int r;

	list_for_each_entry_rcu(user, &ve_users, node) {
		if (ve_has_cpu_callbacks(user) && !ve_user_active(user) &&
		    ve_user_covers(user, vc)) {
			r = ve_user_start(user);
			if (r)
				return r;
		}
	}
	return 0;
}

/*
 * Once the users no longer covering this CPU were stopped: switch the
 * hardware as the references want it, and start the users newly covering
 * the CPU.
 */
static int ve_cpu_switch(struct ve_cpu *vc, enum ve_reason why)
{
	if (!ve_cpu_wanted(vc)) {
		ve_hw_off(vc, why);
		return 0;
	}
	return ve_hw_on(vc, why) ?: ve_users_start(vc);
}

/**
 * ve_cpu_reconcile() - bring this CPU in line with the references
 * @vc: this CPU's state.
 * @why: what changed, for the trace events.
 *
 * Called with interrupts disabled, with ve_lock held or from syscore (the
 * only CPU running).  On error the CPU may be left partly started: the
 * caller undoes what it asked for and reconciles again, which only ever
 * stops things.
 *
 * Return: 0, or the error of enabling the hardware or of a user's
 * ->cpu_enabled.
 */
int ve_cpu_reconcile(struct ve_cpu *vc, enum ve_reason why)
{
	struct virt_enable_user *user;

	list_for_each_entry_reverse(user, &ve_users, node)
		if (ve_user_active(user) && !ve_user_covers(user, vc))
			ve_user_stop(user);

	return ve_cpu_switch(vc, why);
}

/*
 * The same after @user's per-CPU references on this CPU changed, without
 * ve_lock: @user is the only one that can have stopped covering the CPU,
 * while the others may still be waiting to start after a failed resume.
 */
static int ve_cpu_sync(struct ve_cpu *vc, struct virt_enable_user *user,
		       enum ve_reason why)
{
	if (ve_user_active(user) && !ve_user_covers(user, vc))
		ve_user_stop(user);

	return ve_cpu_switch(vc, why);
}

struct ve_broadcast_call {
	enum ve_reason why;
	int error;
};

static void ve_reconcile_ipi(void *arg)
{
	struct ve_cpu *vc = this_cpu_ptr(&ve_cpus);
	struct ve_broadcast_call *call = arg;
	int r;

	vc->system = ve_nr_system_users != 0;
	r = ve_cpu_reconcile(vc, call->why);
	if (r) {
		pr_err("enabling %s on CPU %u failed: %pe\n", ve_vendor->name,
		       smp_processor_id(), ERR_PTR(r));
		cmpxchg(&call->error, 0, r);
	}
}

/**
 * ve_broadcast() - reconcile every online CPU
 * @why: what changed, for the trace events.
 *
 * Called with ve_lock and the CPU hotplug lock held.
 *
 * Return: 0 or the first CPU's error.
 */
int ve_broadcast(enum ve_reason why)
{
	struct ve_broadcast_call call = { .why = why };

	lockdep_assert_held(&ve_lock);

	ve_stats.broadcasts++;
	on_each_cpu(ve_reconcile_ipi, &call, 1);
	if (!call.error)
		ve_lagging = false;
	return call.error;
}

static void ve_set_system(struct virt_enable_user *user, bool system)
{
	WRITE_ONCE(user->system, system);
	if (system)
		ve_nr_system_users++;
	else
		ve_nr_system_users--;
}

/*
 * Called after @user joined or left the system-wide users.  Only the first
 * to join and the last to leave switch hardware; in between, a user needs a
 * broadcast only to run its own callbacks, or to bring back a CPU that
 * lags behind since its resume failed.
 */
static bool ve_needs_broadcast(struct virt_enable_user *user)
{
	bool edge = user->system ? ve_nr_system_users == 1 : !ve_nr_system_users;

	return edge || ve_has_cpu_callbacks(user) || ve_lagging;
}

/*
 * A system-wide get or put that changes nothing but @user's count: the
 * count was, and stays, non-zero.  A non-zero count was published by
 * ve_get_system() after the broadcast that enabled every online CPU for
 * @user, and the hotplug callbacks keep it so for CPUs coming online, so
 * the caller gets what the locked path would give it without the hotplug
 * lock or ve_lock.  A put that would reach zero, and a get from zero, take
 * the locked path, which rechecks the count under ve_lock; its 1 -> 0 is a
 * cmpxchg, so a fast get racing with it either lands first (the put then
 * drops 2 -> 1 and nothing changes) or sees zero and waits for the lock.
 */
static __always_inline bool ve_get_system_fast(struct virt_enable_user *user)
{
	int refs = atomic_read(&user->nr_refs);

	do {
		if (refs <= 0 || refs >= VE_MAX_REFS || READ_ONCE(ve_going_down))
			return false;
	} while (!atomic_try_cmpxchg(&user->nr_refs, &refs, refs + 1));
	return true;
}

static __always_inline bool ve_put_system_fast(struct virt_enable_user *user)
{
	int refs = atomic_read(&user->nr_refs);

	do {
		if (refs <= 1)
			return false;
	} while (!atomic_try_cmpxchg(&user->nr_refs, &refs, refs - 1));
	return true;
}

static int ve_get_system(struct virt_enable_user *user, bool permanent)
{
	int r;

	lockdep_assert_held(&ve_lock);

	if (ve_going_down)
		return -ESHUTDOWN;
	if ((permanent ? user->nr_permanent : atomic_read(&user->nr_refs)) >=
	    VE_MAX_REFS)
		return -EOVERFLOW;

	if (!user->system) {
		if (!ve_nr_system_users && !ve_ride_ready())
			return -EAGAIN;
		ve_set_system(user, true);
		if (ve_needs_broadcast(user)) {
			r = ve_broadcast(VE_WHY_REFERENCE);
			if (r) {
				/* All or nothing: undo every CPU this request enabled. */
				ve_set_system(user, false);
				ve_stats.rollbacks++;
				ve_broadcast(VE_WHY_ROLLBACK);
				if (!ve_nr_system_users)
					ve_ride_unhold();
				return r;
			}
		}
	}

	/* Published only now: a non-zero count lets gets skip the lock. */
	if (permanent)
		user->nr_permanent++;
	else
		atomic_inc(&user->nr_refs);
	return 0;
}

static int ve_put_system(struct virt_enable_user *user)
{
	int refs = atomic_read(&user->nr_refs);

	lockdep_assert_held(&ve_lock);

	do {
		if (!refs)
			return user->nr_permanent ? -EPERM : -EINVAL;
	} while (!atomic_try_cmpxchg(&user->nr_refs, &refs, refs - 1));

	if (refs == 1 && !user->nr_permanent) {
		ve_set_system(user, false);
		if (ve_needs_broadcast(user))
			ve_broadcast(VE_WHY_REFERENCE);
		if (!ve_nr_system_users)
			ve_ride_unhold();
	}
	return 0;
}

static int ve_get_cpu_slow(struct virt_enable_user *user)
{
	struct ve_cpu *vc;
	struct ve_user_cpu *uc;
	unsigned long flags;
	int r = 0;

	local_irq_save(flags);
	vc = this_cpu_ptr(&ve_cpus);
	uc = this_cpu_ptr(user->cpu);

	if (READ_ONCE(ve_going_down))
		r = -ESHUTDOWN;
	else if (vc->suspended)
		r = -ENODEV;
	else if (uc->refs >= VE_MAX_REFS)
		r = -EOVERFLOW;
	if (r)
		goto out;

	if (!uc->refs++)
		vc->nr_pinned++;
	r = ve_cpu_sync(vc, user, VE_WHY_REFERENCE);
	if (r) {
		if (!--uc->refs)
			vc->nr_pinned--;
		ve_cpu_sync(vc, user, VE_WHY_ROLLBACK);
	} else {
		/* On, and @user started here: see ve_get_cpu_fast(). */
		WRITE_ONCE(uc->ready, true);
	}
out:
	local_irq_restore(flags);
	return r;
}

/*
 * The per-CPU fast paths: with preemption disabled, one cmpxchg on this
 * CPU's count of @user, which no other CPU writes while this one runs
 * (ve_cpu_forget_pinned() touches it only once this CPU is dead).
 * this_cpu_cmpxchg() cannot be split by an interrupt on this CPU, so a get
 * or put from interrupt context between the checks and the cmpxchg changes
 * the count, fails the cmpxchg and makes this one look again; it needs no
 * interrupts disabled.
 *
 * A get takes the fast path only where @user already holds a reference
 * here (1 to VE_MAX_REFS - 1 of them, one compare) and is ready: a slow
 * get left the hardware on and @user started here, and nothing has turned
 * the hardware off or stopped @user since (ve_cpu_unready(),
 * ve_user_stop()).  The count is then non-zero before and after, and the
 * reconcile of the slow path would change nothing.  The hardware goes off
 * under a held reference only for going down (shutdown, and the emergency
 * NMI) and for suspend, and each makes every user unready before it
 * touches the hardware: once going down has turned a CPU off, the slow
 * path refuses with -ESHUTDOWN.  If going down comes in between the
 * check and the cmpxchg, the get completed before it, as one that
 * returned just before would have, and users tolerate the hardware going
 * away from then on (virt_enable_rebooting()).  Suspend runs with every
 * task frozen and this path is not preemptible, so it cannot come in
 * between; a resume that failed leaves the users unready with their
 * counts held, which sends the next get to the slow path to try again.
 * A put takes the fast path unless it drops the last reference, which
 * must stop @user and switch the hardware: a fast put never reaches zero,
 * and a fast get never leaves it.
 */
static __always_inline bool ve_get_cpu_fast(struct virt_enable_user *user)
{
	unsigned int refs, seen;
	bool done = false;

	preempt_disable();
	refs = this_cpu_read(user->cpu->refs);
	while (refs - 1 < VE_MAX_REFS - 1 && this_cpu_read(user->cpu->ready)) {
		seen = this_cpu_cmpxchg(user->cpu->refs, refs, refs + 1);
		if (seen == refs) {
			done = true;
			break;
		}
		refs = seen;
	}
	preempt_enable();
	return done;
}

static __always_inline bool ve_put_cpu_fast(struct virt_enable_user *user)
{
	unsigned int refs, seen;
	bool done = false;

	preempt_disable();
	refs = this_cpu_read(user->cpu->refs);
	while (refs > 1) {
		seen = this_cpu_cmpxchg(user->cpu->refs, refs, refs - 1);
		if (seen == refs) {
			done = true;
			break;
		}
		refs = seen;
	}
	preempt_enable();
	return done;
}

static int ve_get_cpu(struct virt_enable_user *user)
{
	int r = 0;

	preempt_disable();
	if (!ve_get_cpu_fast(user))
		r = ve_get_cpu_slow(user);
	preempt_enable();
	return r;
}

/* Drop up to @count of @user's references on this CPU; returns how many. */
static unsigned int ve_put_cpu_refs(struct virt_enable_user *user,
				    unsigned int count)
{
	struct ve_cpu *vc = this_cpu_ptr(&ve_cpus);
	struct ve_user_cpu *uc = this_cpu_ptr(user->cpu);
	unsigned int dropped = min(count, uc->refs);

	if (!dropped)
		return 0;
	uc->refs -= dropped;
	if (!uc->refs) {
		vc->nr_pinned--;
		WRITE_ONCE(uc->ready, false);
	}
	ve_cpu_sync(vc, user, VE_WHY_REFERENCE);
	return dropped;
}

static int ve_put_cpu(struct virt_enable_user *user)
{
	unsigned long flags;
	unsigned int dropped = 1;

	preempt_disable();
	if (!ve_put_cpu_fast(user)) {
		local_irq_save(flags);
		dropped = ve_put_cpu_refs(user, 1);
		local_irq_restore(flags);
	}
	preempt_enable();
	return dropped ? 0 : -EINVAL;
}

/*
 * Behind the tracepoint's own static key: a lockdep kernel checks RCU at
 * every call of a tracepoint, enabled or not, which would be most of what
 * a fast path costs there.
 */
static __always_inline void ve_trace_ref(struct virt_enable_user *user,
					 enum ve_ref_kind kind, bool get, int r)
{
	if (trace_virt_enable_ref_enabled())
		trace_virt_enable_ref(user->name, kind, get,
				      kind == VE_REF_CPU ? raw_smp_processor_id() : -1, r);
}

int ve_get(struct virt_enable_user *user, enum virt_enable_feature feature,
	   enum ve_ref_kind kind)
{
	int r;

	r = ve_check_feature(feature);
	if (r)
		goto out;
	if (kind == VE_REF_CPU) {
		r = ve_get_cpu(user);
		goto out;
	}
	if (kind == VE_REF_SYSTEM && ve_get_system_fast(user))
		goto out;

	do {
		r = ve_ride_prepare();
		if (r)
			break;
		cpus_read_lock();
		mutex_lock(&ve_lock);
		r = ve_get_system(user, kind == VE_REF_PERMANENT);
		mutex_unlock(&ve_lock);
		cpus_read_unlock();
	} while (r == -EAGAIN);
	/* A VM held for a get that failed all the same. */
	if (r)
		ve_ride_unhold();
out:
	ve_trace_ref(user, kind, true, r);
	return r;
}

int ve_put(struct virt_enable_user *user, enum virt_enable_feature feature,
	   enum ve_ref_kind kind)
{
	int r;

	r = ve_check_feature(feature);
	if (!r && kind == VE_REF_PERMANENT)
		r = -EPERM;
	if (!r && kind == VE_REF_CPU)
		r = ve_put_cpu(user);
	if (!r && kind == VE_REF_SYSTEM && !ve_put_system_fast(user)) {
		cpus_read_lock();
		mutex_lock(&ve_lock);
		r = ve_put_system(user);
		mutex_unlock(&ve_lock);
		cpus_read_unlock();
		ve_ride_flush();
	}
	ve_trace_ref(user, kind, false, r);
	return r;
}

/*
 * Called for the first user: make sure nobody else owns the hardware, give
 * every online CPU what it needs to be enabled, claim the emergency hook.
 */
static int ve_arm(void)
{
	struct module *kvm;
	bool busy;
	int r;

	lockdep_assert_held(&ve_lock);

	/* Still armed: a CPU stayed on, see ve_disarm(). */
	if (ve_armed)
		return 0;

	kvm = ve_ride_kvm ? NULL : ve_foreign_kvm();
	if (IS_ERR(kvm)) {
		atomic_long_inc(&ve_stats.busy);
		pr_err("a built-in KVM owns %s: virt_enable cannot ride it\n",
		       ve_vendor->name);
		return -EBUSY;
	}
	if (kvm)
		ve_ride_start(kvm);

	if (!ve_ride_kvm) {
		/* Nothing of ours is on yet, so any VMXE/SVME bit is someone else's. */
		preempt_disable();
		busy = ve_vendor->cpu_is_on();
		preempt_enable();
		if (busy) {
			atomic_long_inc(&ve_stats.busy);
			pr_err("%s is already on: another hypervisor owns it\n",
			       ve_vendor->name);
			return -EBUSY;
		}
	}

	/* Also when riding: the KVM ridden may go, and virt_enable take over. */
	r = ve_cpus_alloc();
	if (r)
		return r;
	if (!ve_ride_kvm) {
		r = ve_emergency_hook_claim();
		if (r) {
			ve_cpus_free();
			return r;
		}
	}
	ve_armed = true;
	return 0;
}

/*
 * Called when the last user left.  A CPU where turning the hardware off
 * failed is still on, and ours: the emergency hook stays, so that a crash
 * still forces it off, and with it the module, whose code the hook runs,
 * until a later last user leaves every CPU off.
 */
static void ve_disarm(void)
{
	int cpu;

	lockdep_assert_held(&ve_lock);

	for_each_possible_cpu(cpu) {
		if (!per_cpu_ptr(&ve_cpus, cpu)->owned)
			continue;
		pr_warn("%s could not be turned off on CPU %d: keeping the emergency hook, and the module loaded\n",
			ve_vendor->name, cpu);
		if (!ve_pinned)
			__module_get(THIS_MODULE);
		ve_pinned = true;
		return;
	}
	if (ve_pinned)
		module_put(THIS_MODULE);
	ve_pinned = false;
	if (!ve_ride_kvm)
		ve_emergency_hook_release();
	ve_cpus_free();
	ve_armed = false;
}

static bool ve_name_valid(const char *name)
{
	size_t i, len = strnlen(name, VIRT_ENABLE_NAME_LEN);

	if (!len || len == VIRT_ENABLE_NAME_LEN)
		return false;
	for (i = 0; i < len; i++)
		if (!isprint(name[i]) || name[i] == '"' || name[i] == '\\')
			return false;
	return true;
}

/* 0, -EEXIST if @name is in use, -EUSERS if there are too many users. */
static int ve_name_available(const char *name)
{
	struct virt_enable_user *user;
	unsigned int nr_users = 0;

	list_for_each_entry(user, &ve_users, node) {
		if (!strcmp(user->name, name))
			return -EEXIST;
		nr_users++;
	}
	return nr_users < VE_MAX_USERS ? 0 : -EUSERS;
}

/**
 * virt_enable_register() - register a user of hardware virtualization
 * @name: what the user is called in the state views and in messages, e.g.
 *	"kvm_intel"; 1 to VIRT_ENABLE_NAME_LEN - 1 printable characters,
 *	no quotes or backslashes, not used by another registered user.
 *	Copied.
 * @ops: optional callbacks, or NULL; must stay valid until unregistered.
 * @data: passed to the callbacks.
 *
 * The first registration claims the kernel's emergency virtualization hook
 * and allocates what the CPUs need to be enabled (the VMXON regions), and
 * fails with -EBUSY if another hypervisor (typically an unmodified
 * kvm_intel or kvm_amd) owns VMX/SVM or that hook.
 *
 * Context: process context, may sleep; not from a CPU hotplug callback.
 * Return: the user, or an ERR_PTR(): -EINVAL for a bad name, -EEXIST for a
 * name in use, -EUSERS past 1024 users, -ENOMEM, -EBUSY as above,
 * -ESHUTDOWN if the system is going down, -ENODEV if virt_enable is not
 * running (built in, its initialization failed).
 */
struct virt_enable_user *virt_enable_register(const char *name,
					      const struct virt_enable_user_ops *ops,
					      void *data)
{
	struct virt_enable_user *user;
	int r = 0;

	if (!name || !ve_name_valid(name))
		return ERR_PTR(-EINVAL);

	user = kzalloc(sizeof(*user), GFP_KERNEL);
	if (!user)
		return ERR_PTR(-ENOMEM);
	user->cpu = alloc_percpu(struct ve_user_cpu);
	if (!user->cpu) {
		kfree(user);
		return ERR_PTR(-ENOMEM);
	}
	strscpy(user->name, name, sizeof(user->name));
	user->ops = ops;
	user->data = data;

	cpus_read_lock();
	mutex_lock(&ve_lock);
	if (ve_feature == VIRT_ENABLE_NONE)
		r = -ENODEV;
	else if (ve_going_down)
		r = -ESHUTDOWN;
	else
		r = ve_name_available(name);
	if (!r && list_empty(&ve_users))
		r = ve_arm();
	if (!r) {
		/*
		 * One pin per user keeps the module while anything is held:
		 * every reference belongs to a registered user, and
		 * unregistering drops them all.
		 */
		__module_get(THIS_MODULE);
		list_add_tail_rcu(&user->node, &ve_users);
	}
	mutex_unlock(&ve_lock);
	cpus_read_unlock();

	if (r) {
		free_percpu(user->cpu);
		kfree(user);
		return ERR_PTR(r);
	}
	return user;
}
EXPORT_SYMBOL_GPL(virt_enable_register);

static void ve_drop_cpu_refs_ipi(void *user)
{
	ve_put_cpu_refs(user, UINT_MAX);
}

/*
 * Drop everything @user holds, permanent references included.  With the
 * hotplug lock held every CPU is online or dead, and ve_cpu_dead() has
 * dropped what a dead CPU held: the online CPUs are all there is to drop.
 */
static void ve_user_drop_all(struct virt_enable_user *user)
{
	lockdep_assert_held(&ve_lock);

	on_each_cpu(ve_drop_cpu_refs_ipi, user, 1);
	atomic_set(&user->nr_refs, 0);
	user->nr_permanent = 0;
	if (user->system) {
		ve_set_system(user, false);
		if (ve_needs_broadcast(user))
			ve_broadcast(VE_WHY_REFERENCE);
		if (!ve_nr_system_users)
			ve_ride_unhold();
	}
}

/**
 * ve_cpu_forget_pinned() - drop the per-CPU references left on a dead CPU
 * @cpu: a CPU that is offline, with ve_lock held.
 *
 * In-kernel users must put their per-CPU references before the CPU dies;
 * lifecycle.c reports those that did not, then calls this so that the
 * counts stay balanced.
 */
void ve_cpu_forget_pinned(unsigned int cpu)
{
	struct virt_enable_user *user;

	lockdep_assert_held(&ve_lock);

	list_for_each_entry(user, &ve_users, node) {
		struct ve_user_cpu *uc = per_cpu_ptr(user->cpu, cpu);

		uc->active = false;
		uc->ready = false;
		uc->refs = 0;
	}
	per_cpu_ptr(&ve_cpus, cpu)->nr_pinned = 0;
}

/* Unregister @user, dropping what it holds; used by debugfs on close. */
void ve_unregister(struct virt_enable_user *user)
{
	cpus_read_lock();
	mutex_lock(&ve_lock);
	ve_user_drop_all(user);
	list_del_rcu(&user->node);
	if (list_empty(&ve_users))
		ve_disarm();
	mutex_unlock(&ve_lock);
	cpus_read_unlock();
	ve_ride_flush();

	/* The emergency path or a per-CPU reference may still see it. */
	synchronize_rcu();
	free_percpu(user->cpu);
	kfree(user);

	/*
	 * The caller holds the module some other way while it calls here (it
	 * imports our symbols, or it is one of our files), so this cannot be
	 * the put that lets the module go while its code still runs.
	 */
	module_put(THIS_MODULE);
}

/**
 * virt_enable_unregister() - unregister a user
 * @user: from virt_enable_register(); NULL and error pointers are ignored.
 *
 * Permanent references end here.  A user should have put its other
 * references first: any left are dropped, with a warning.
 *
 * Context: process context, may sleep.
 */
void virt_enable_unregister(struct virt_enable_user *user)
{
	if (IS_ERR_OR_NULL(user))
		return;

	mutex_lock(&ve_lock);
	WARN(atomic_read(&user->nr_refs) || ve_user_cpu_refs(user),
	     "virt_enable: user \"%s\" unregistered with references held\n",
	     user->name);
	mutex_unlock(&ve_lock);
	ve_unregister(user);
}
EXPORT_SYMBOL_GPL(virt_enable_unregister);

/**
 * virt_enable_get() - take a system-wide reference
 * @user: the registered user taking it.
 * @feature: the extension wanted; must be the one this CPU offers.
 *
 * On success the feature is enabled on every online CPU, and stays so, also
 * on CPUs that come online, until the reference is put.  The first
 * system-wide reference turns the hardware on with one broadcast; later
 * ones do no hardware work (only @user's own ->cpu_enabled callbacks run).
 * Enabling is all or nothing: if any CPU fails, every CPU this call turned
 * on is turned off again and the error is returned.
 *
 * Context: process context, may sleep; not from a CPU hotplug callback.
 * Return: 0; -EOPNOTSUPP for the wrong feature; -EBUSY if another
 * hypervisor has the feature on; -ESHUTDOWN once the system is going down;
 * -EOVERFLOW past VE_MAX_REFS references; -ENODEV if virt_enable is not
 * running; or the error of the failing CPU or callback.
 */
int virt_enable_get(struct virt_enable_user *user,
		    enum virt_enable_feature feature)
{
	if (likely(feature == READ_ONCE(ve_feature) && ve_get_system_fast(user))) {
		ve_trace_ref(user, VE_REF_SYSTEM, true, 0);
		return 0;
	}
	return ve_get(user, feature, VE_REF_SYSTEM);
}
EXPORT_SYMBOL_GPL(virt_enable_get);

/**
 * virt_enable_get_permanent() - take a system-wide reference that put cannot drop
 * @user: the registered user taking it.
 * @feature: the extension wanted; must be the one this CPU offers.
 *
 * Like virt_enable_get(), for users such as TDX that need the hardware on
 * for as long as they exist.  The reference ends only when @user is
 * unregistered; the hardware still goes off with a CPU going offline, a
 * suspend that no user vetoes, and shutdown.
 *
 * Context: process context, may sleep.
 * Return: as virt_enable_get().
 */
int virt_enable_get_permanent(struct virt_enable_user *user,
			      enum virt_enable_feature feature)
{
	return ve_get(user, feature, VE_REF_PERMANENT);
}
EXPORT_SYMBOL_GPL(virt_enable_get_permanent);

/**
 * virt_enable_put() - put a system-wide reference
 * @user: the user that took it with virt_enable_get().
 * @feature: the feature it was taken for.
 *
 * The last system-wide reference turns the hardware off on every CPU that
 * no per-CPU reference holds.  A put without a matching get (including one
 * that would drop a permanent reference) is refused with a warning and
 * changes nothing.
 *
 * Context: process context, may sleep.
 */
void virt_enable_put(struct virt_enable_user *user,
		     enum virt_enable_feature feature)
{
	int r;

	if (likely(feature == READ_ONCE(ve_feature) && ve_put_system_fast(user))) {
		ve_trace_ref(user, VE_REF_SYSTEM, false, 0);
		return;
	}
	r = ve_put(user, feature, VE_REF_SYSTEM);
	if (r)
		atomic_long_inc(&ve_stats.refused_puts);
	WARN_ONCE(r, "virt_enable: unbalanced put of %s by \"%s\" refused: %pe\n",
		  ve_feature_name(feature), user->name, ERR_PTR(r));
}
EXPORT_SYMBOL_GPL(virt_enable_put);

/**
 * virt_enable_get_cpu() - take a reference on the current CPU only
 * @user: the registered user taking it.
 * @feature: the extension wanted; must be the one this CPU offers.
 *
 * For callers that manage CPUs themselves, in the way of upstream's
 * x86_virt_get_ref(): the feature is enabled on this CPU until the matching
 * virt_enable_put_cpu() on the same CPU, whatever happens to the CPU's
 * hotplug state in between.  It may be called from the caller's own CPU
 * hotplug callbacks at any state, STARTING section included; the caller
 * must put the reference before the CPU dies (virt_enable reports and drops
 * references left on a dead CPU).  The 0->1 transition completes with
 * interrupts disabled, so no other reference on this CPU can observe it
 * half done.  The caller must stay on this CPU (preemption or migration
 * disabled, a bound kthread, a hotplug callback) for as long as it relies
 * on the result.
 *
 * Context: any context but NMI; does not sleep.
 * Return: 0; -EOPNOTSUPP, -EBUSY, -ESHUTDOWN, -EOVERFLOW, -ENODEV as
 * virt_enable_get(); -ENODEV between suspend and resume; or the error of
 * enabling or of a user's ->cpu_enabled (those of other users too, where a
 * failed resume left them stopped on this CPU).
 */
int virt_enable_get_cpu(struct virt_enable_user *user,
			enum virt_enable_feature feature)
{
	/* The emergency path takes no locks; references never come from NMI. */
	if (WARN_ON_ONCE(in_nmi()))
		return -EPERM;
	if (likely(feature == READ_ONCE(ve_feature) && ve_get_cpu_fast(user))) {
		ve_trace_ref(user, VE_REF_CPU, true, 0);
		return 0;
	}
	return ve_get(user, feature, VE_REF_CPU);
}
EXPORT_SYMBOL_GPL(virt_enable_get_cpu);

/**
 * virt_enable_put_cpu() - put a reference on the current CPU
 * @user: the user that took it with virt_enable_get_cpu() on this CPU.
 * @feature: the feature it was taken for.
 *
 * A put without a matching get on this CPU is refused with a warning and
 * changes nothing.
 *
 * Context: any context but NMI; does not sleep.
 */
void virt_enable_put_cpu(struct virt_enable_user *user,
			 enum virt_enable_feature feature)
{
	int r = -EPERM;

	if (!WARN_ON_ONCE(in_nmi())) {
		if (likely(feature == READ_ONCE(ve_feature) && ve_put_cpu_fast(user))) {
			ve_trace_ref(user, VE_REF_CPU, false, 0);
			return;
		}
		r = ve_put(user, feature, VE_REF_CPU);
	}
	if (r)
		atomic_long_inc(&ve_stats.refused_puts);
	WARN_ONCE(r, "virt_enable: unbalanced per-CPU put of %s by \"%s\" on CPU %u refused: %pe\n",
		  ve_feature_name(feature), user->name, raw_smp_processor_id(),
		  ERR_PTR(r));
}
EXPORT_SYMBOL_GPL(virt_enable_put_cpu);

/**
 * virt_enable_feature() - the extension this machine offers
 *
 * Return: %VIRT_ENABLE_VMX or %VIRT_ENABLE_SVM; %VIRT_ENABLE_NONE when
 * virt_enable is not running, which only a built-in virt_enable whose
 * initialization failed can report (as a module it does not load).
 */
enum virt_enable_feature virt_enable_feature(void)
{
	return READ_ONCE(ve_feature);
}
EXPORT_SYMBOL_GPL(virt_enable_feature);

/**
 * virt_enable_rebooting() - whether the machine is going down
 *
 * True once shutdown, reboot, kexec or an emergency (crash, kexec on panic,
 * NMI shootdown) began turning VMX/SVM off for good.  Users tolerate faults
 * of their VMX/SVM instructions from then on, as KVM does with
 * kvm_rebooting; their ->cpu_disabling callbacks for shutdown already see
 * it true.
 *
 * Context: any.
 */
bool virt_enable_rebooting(void)
{
	return READ_ONCE(ve_going_down);
}
EXPORT_SYMBOL_GPL(virt_enable_rebooting);

/**
 * ve_core_init() - start the core with one vendor's ops
 * @vendor: the ops table, already initialized; used for every hardware access
 *	from now on.
 *
 * Return: 0 or a negative error, with nothing left registered.
 */
int ve_core_init(const struct ve_vendor_ops *vendor)
{
	int cpu, r;

	ve_vendor = vendor;
	ve_going_down = false;
	ve_armed = false;
	ve_lagging = false;
	ve_nr_system_users = 0;
	memset(&ve_stats, 0, sizeof(ve_stats));
	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(&ve_cpus, cpu), 0, sizeof(struct ve_cpu));
	r = ve_lifecycle_init();
	WRITE_ONCE(ve_feature, r ? VIRT_ENABLE_NONE : vendor->feature);
	return r;
}

/**
 * ve_core_exit() - stop the core
 *
 * Module references keep this from running while any reference is held;
 * the checks are for the core's own consistency.  From here on every
 * export refuses: built in, after a failed initialization, they stay.
 */
void ve_core_exit(void)
{
	int cpu;

	WRITE_ONCE(ve_feature, VIRT_ENABLE_NONE);
	ve_ride_exit();
	ve_lifecycle_exit();
	WARN_ON(!list_empty(&ve_users));
	for_each_possible_cpu(cpu)
		WARN_ON(per_cpu_ptr(&ve_cpus, cpu)->on);
}
