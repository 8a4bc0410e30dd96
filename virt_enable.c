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
#include <kunit/visibility.h>

#include "internal.h"

#define CREATE_TRACE_POINTS
#include "virt_enable_trace.h"

const struct ve_vendor_ops *ve_vendor __read_mostly;
EXPORT_SYMBOL_IF_KUNIT(ve_vendor);
/* Between ve_core_init() and ve_core_exit(): nothing works outside. */
static bool ve_running;
DEFINE_PER_CPU(struct ve_cpu, ve_cpus);
/* Users, system-wide references, hotplug and shutdown: see above. */
DEFINE_MUTEX(ve_lock);
EXPORT_SYMBOL_IF_KUNIT(ve_lock);
LIST_HEAD(ve_users);
EXPORT_SYMBOL_IF_KUNIT(ve_users);
unsigned int ve_nr_system_users;
EXPORT_SYMBOL_IF_KUNIT(ve_nr_system_users);
/* A CPU lags behind the system-wide references: its resume failed. */
bool ve_lagging;
bool ve_going_down;
bool ve_armed;
EXPORT_SYMBOL_IF_KUNIT(ve_armed);
struct ve_stats ve_stats;
EXPORT_SYMBOL_IF_KUNIT(ve_stats);

/* The module is pinned by a CPU left on, see ve_disarm(). */
static bool ve_pinned;

/* References of all users together, each of which pins the module. */
static atomic_t ve_nr_refs = ATOMIC_INIT(0);
VISIBLE_IF_KUNIT unsigned int ve_max_refs = VE_MAX_REFS;
EXPORT_SYMBOL_IF_KUNIT(ve_max_refs);

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
	if (!READ_ONCE(ve_running))
		return -ENODEV;
	return feature == ve_vendor->feature ? 0 : -EOPNOTSUPP;
}

static bool ve_refs_take(void)
{
	if (atomic_inc_return(&ve_nr_refs) <= ve_max_refs) {
		__module_get(THIS_MODULE);
		return true;
	}
	atomic_dec(&ve_nr_refs);
	return false;
}

static void ve_refs_release(unsigned int count)
{
	atomic_sub(count, &ve_nr_refs);
	while (count--)
		module_put(THIS_MODULE);
}

#if IS_ENABLED(CONFIG_KUNIT)
struct ve_cpu *ve_cpu_state(unsigned int cpu)
{
	return per_cpu_ptr(&ve_cpus, cpu);
}
EXPORT_SYMBOL_IF_KUNIT(ve_cpu_state);

unsigned int ve_refs_held(void)
{
	return atomic_read(&ve_nr_refs);
}
EXPORT_SYMBOL_IF_KUNIT(ve_refs_held);

/* The module's reference count, or -1 when built in. */
int ve_module_refs(void)
{
#ifdef MODULE
	return module_refcount(THIS_MODULE);
#else
	return -1;
#endif
}
EXPORT_SYMBOL_IF_KUNIT(ve_module_refs);
#endif

static bool ve_has_cpu_callbacks(const struct virt_enable_user *user)
{
	return user->ops && (user->ops->cpu_enabled || user->ops->cpu_disabling);
}

static bool ve_follows_online(const struct virt_enable_user *user)
{
	return user->flags & VE_USER_FOLLOW_ONLINE;
}

bool ve_cpu_wanted(const struct ve_cpu *vc)
{
	if (READ_ONCE(ve_going_down) || vc->suspended)
		return false;
	return vc->nr_pinned ||
	       (vc->online && (vc->system || vc->nr_follow));
}

/* Whether @user's references cover this CPU, whose state is @vc. */
bool ve_user_covers(struct virt_enable_user *user, const struct ve_cpu *vc)
{
	if (READ_ONCE(ve_going_down) || vc->suspended)
		return false;
	if (this_cpu_ptr(user->cpu)->refs &&
	    (vc->online || !ve_follows_online(user)))
		return true;
	return vc->online && vc->system && READ_ONCE(user->system);
}

static int ve_hw_on(struct ve_cpu *vc, enum ve_reason why)
{
	int r;

	if (vc->on)
		return 0;

	/* Someone else's VMXON/SVME: never take over, never undo it. */
	if (ve_vendor->cpu_is_on()) {
		atomic_long_inc(&ve_stats.busy);
		pr_err_ratelimited("%s is already enabled on CPU %u: another hypervisor owns it (kvm_intel/kvm_amd loaded without virt_enable?)\n",
				   ve_vendor->name, smp_processor_id());
		trace_virt_enable_cpu(smp_processor_id(), true, why, -EBUSY);
		return -EBUSY;
	}

	/* Let the emergency path see a half-enabled CPU as ours. */
	WRITE_ONCE(vc->owned, true);
	barrier();
	r = ve_vendor->enable_cpu();
	barrier();
	trace_virt_enable_cpu(smp_processor_id(), true, why, r);
	if (r) {
		WRITE_ONCE(vc->owned, false);
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
static void ve_hw_off(struct ve_cpu *vc, enum ve_reason why)
{
	int r;

	if (!vc->on)
		return;
	WRITE_ONCE(vc->on, false);
	barrier();
	r = ve_vendor->disable_cpu();
	barrier();
	trace_virt_enable_cpu(smp_processor_id(), false, why, r);
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

static int ve_get_system(struct virt_enable_user *user, bool permanent)
{
	int r;

	lockdep_assert_held(&ve_lock);

	if (ve_going_down)
		return -ESHUTDOWN;
	if (user->nr_refs + user->nr_permanent >= VE_MAX_REFS || !ve_refs_take())
		return -EOVERFLOW;

	if (!user->system) {
		ve_set_system(user, true);
		if (ve_needs_broadcast(user)) {
			r = ve_broadcast(VE_WHY_REFERENCE);
			if (r) {
				/* All or nothing: undo every CPU this request enabled. */
				ve_set_system(user, false);
				ve_stats.rollbacks++;
				ve_broadcast(VE_WHY_ROLLBACK);
				ve_refs_release(1);
				return r;
			}
		}
	}

	if (permanent)
		user->nr_permanent++;
	else
		user->nr_refs++;
	return 0;
}

static int ve_put_system(struct virt_enable_user *user)
{
	lockdep_assert_held(&ve_lock);

	if (!user->nr_refs)
		return user->nr_permanent ? -EPERM : -EINVAL;

	user->nr_refs--;
	if (!user->nr_refs && !user->nr_permanent) {
		ve_set_system(user, false);
		if (ve_needs_broadcast(user))
			ve_broadcast(VE_WHY_REFERENCE);
	}
	ve_refs_release(1);
	return 0;
}

static unsigned int *ve_cpu_count(struct ve_cpu *vc,
				  struct virt_enable_user *user)
{
	return ve_follows_online(user) ? &vc->nr_follow : &vc->nr_pinned;
}

static int ve_get_cpu(struct virt_enable_user *user)
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
	else if (vc->suspended || (ve_follows_online(user) && !vc->online))
		r = -ENODEV;
	else if (uc->refs >= VE_MAX_REFS || !ve_refs_take())
		r = -EOVERFLOW;
	if (r)
		goto out;

	uc->refs++;
	(*ve_cpu_count(vc, user))++;
	r = ve_cpu_sync(vc, user, VE_WHY_REFERENCE);
	if (r) {
		uc->refs--;
		(*ve_cpu_count(vc, user))--;
		ve_cpu_sync(vc, user, VE_WHY_ROLLBACK);
		ve_refs_release(1);
	}
out:
	local_irq_restore(flags);
	return r;
}

/* Drop up to @count of @user's references on this CPU; returns how many. */
static unsigned int ve_put_cpu_refs(struct virt_enable_user *user,
				    unsigned int count)
{
	struct ve_cpu *vc = this_cpu_ptr(&ve_cpus);
	struct ve_user_cpu *uc = this_cpu_ptr(user->cpu);
	unsigned int dropped = min(count, uc->refs);

	uc->refs -= dropped;
	*ve_cpu_count(vc, user) -= dropped;
	ve_cpu_sync(vc, user, VE_WHY_REFERENCE);
	return dropped;
}

static int ve_put_cpu(struct virt_enable_user *user)
{
	unsigned long flags;
	unsigned int dropped;

	local_irq_save(flags);
	dropped = ve_put_cpu_refs(user, 1);
	local_irq_restore(flags);
	if (!dropped)
		return -EINVAL;
	ve_refs_release(1);
	return 0;
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

	cpus_read_lock();
	mutex_lock(&ve_lock);
	r = ve_get_system(user, kind == VE_REF_PERMANENT);
	mutex_unlock(&ve_lock);
	cpus_read_unlock();
out:
	trace_virt_enable_ref(user->name, kind, true,
			      kind == VE_REF_CPU ? raw_smp_processor_id() : -1, r);
	return r;
}
EXPORT_SYMBOL_IF_KUNIT(ve_get);

int ve_put(struct virt_enable_user *user, enum virt_enable_feature feature,
	   enum ve_ref_kind kind)
{
	int r;

	r = ve_check_feature(feature);
	if (!r && kind == VE_REF_PERMANENT)
		r = -EPERM;
	if (!r && kind == VE_REF_CPU)
		r = ve_put_cpu(user);
	if (!r && kind == VE_REF_SYSTEM) {
		cpus_read_lock();
		mutex_lock(&ve_lock);
		r = ve_put_system(user);
		mutex_unlock(&ve_lock);
		cpus_read_unlock();
	}
	trace_virt_enable_ref(user->name, kind, false,
			      kind == VE_REF_CPU ? raw_smp_processor_id() : -1, r);
	return r;
}
EXPORT_SYMBOL_IF_KUNIT(ve_put);

/*
 * Called for the first user: make sure nobody else owns the hardware, give
 * every online CPU what it needs to be enabled, claim the emergency hook.
 */
static int ve_arm(void)
{
	const char *owner;
	bool busy;
	int r;

	lockdep_assert_held(&ve_lock);

	/* Still armed: a CPU stayed on, see ve_disarm(). */
	if (ve_armed)
		return 0;

	owner = ve_foreign_kvm();
	if (owner) {
		atomic_long_inc(&ve_stats.busy);
		pr_err("%s is loaded and owns %s: unload it before using virt_enable\n",
		       owner, ve_vendor->name);
		return -EBUSY;
	}

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

	r = ve_cpus_alloc();
	if (r)
		return r;
	r = ve_emergency_hook_claim();
	if (r) {
		ve_cpus_free();
		return r;
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

struct virt_enable_user *ve_register(const char *name,
				     const struct virt_enable_user_ops *ops,
				     void *data, unsigned int flags)
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
	user->flags = flags;

	cpus_read_lock();
	mutex_lock(&ve_lock);
	if (!ve_running)
		r = -ENODEV;
	else if (ve_going_down)
		r = -ESHUTDOWN;
	else
		r = ve_name_available(name);
	if (!r && list_empty(&ve_users))
		r = ve_arm();
	if (!r)
		list_add_tail_rcu(&user->node, &ve_users);
	mutex_unlock(&ve_lock);
	cpus_read_unlock();

	if (r) {
		free_percpu(user->cpu);
		kfree(user);
		return ERR_PTR(r);
	}
	return user;
}
EXPORT_SYMBOL_IF_KUNIT(ve_register);

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
	return ve_register(name, ops, data, 0);
}
EXPORT_SYMBOL_GPL(virt_enable_register);

struct ve_drop_call {
	struct virt_enable_user *user;
	atomic_t dropped;
};

static void ve_drop_cpu_refs_ipi(void *arg)
{
	struct ve_drop_call *call = arg;

	atomic_add(ve_put_cpu_refs(call->user, UINT_MAX), &call->dropped);
}

static unsigned int ve_user_cpu_refs(struct virt_enable_user *user)
{
	unsigned int refs = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		refs += per_cpu_ptr(user->cpu, cpu)->refs;
	return refs;
}

/*
 * Drop everything @user holds, permanent references included, and release
 * exactly as many module references as references were dropped.
 */
static void ve_user_drop_all(struct virt_enable_user *user)
{
	struct ve_drop_call call = { .user = user, .dropped = ATOMIC_INIT(0) };
	unsigned int dropped;
	int cpu;

	lockdep_assert_held(&ve_lock);

	on_each_cpu(ve_drop_cpu_refs_ipi, &call, 1);
	dropped = atomic_read(&call.dropped);

	/* Offline CPUs run nothing: their counts can be fixed from here. */
	for_each_possible_cpu(cpu) {
		struct ve_user_cpu *uc = per_cpu_ptr(user->cpu, cpu);

		if (cpu_online(cpu) || !uc->refs)
			continue;
		*ve_cpu_count(per_cpu_ptr(&ve_cpus, cpu), user) -= uc->refs;
		dropped += uc->refs;
		uc->refs = 0;
		uc->active = false;
	}

	dropped += user->nr_refs + user->nr_permanent;
	user->nr_refs = 0;
	user->nr_permanent = 0;
	if (user->system) {
		ve_set_system(user, false);
		if (ve_needs_broadcast(user))
			ve_broadcast(VE_WHY_REFERENCE);
	}
	ve_refs_release(dropped);
}

/**
 * ve_cpu_forget_pinned() - drop the per-CPU references left on a dead CPU
 * @cpu: a CPU that is offline, with ve_lock held.
 *
 * In-kernel users must put their per-CPU references before the CPU dies;
 * lifecycle.c reports those that did not, then calls this so that the
 * counts and the module references stay balanced.
 */
void ve_cpu_forget_pinned(unsigned int cpu)
{
	struct virt_enable_user *user;
	unsigned int dropped = 0;

	lockdep_assert_held(&ve_lock);

	list_for_each_entry(user, &ve_users, node) {
		struct ve_user_cpu *uc = per_cpu_ptr(user->cpu, cpu);

		uc->active = false;
		if (ve_follows_online(user))
			continue;
		dropped += uc->refs;
		uc->refs = 0;
	}
	per_cpu_ptr(&ve_cpus, cpu)->nr_pinned = 0;
	ve_refs_release(dropped);
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

	/* The emergency path or a per-CPU reference may still see it. */
	synchronize_rcu();
	free_percpu(user->cpu);
	kfree(user);
}
EXPORT_SYMBOL_IF_KUNIT(ve_unregister);

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
	WARN(user->nr_refs || ve_user_cpu_refs(user),
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
	int r = ve_put(user, feature, VE_REF_SYSTEM);

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
	int r = ve_put(user, feature, VE_REF_CPU);

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
	return READ_ONCE(ve_running) ? ve_vendor->feature : VIRT_ENABLE_NONE;
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
	WRITE_ONCE(ve_running, !r);
	return r;
}
EXPORT_SYMBOL_IF_KUNIT(ve_core_init);

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

	WRITE_ONCE(ve_running, false);
	ve_lifecycle_exit();
	WARN_ON(!list_empty(&ve_users));
	WARN_ON(atomic_read(&ve_nr_refs));
	for_each_possible_cpu(cpu)
		WARN_ON(per_cpu_ptr(&ve_cpus, cpu)->on);
}
EXPORT_SYMBOL_IF_KUNIT(ve_core_exit);
