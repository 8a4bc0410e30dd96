// SPDX-License-Identifier: GPL-2.0-only
/*
 * virt_enable core: named users, their references, and the per-CPU state
 * machine that keeps VMX/SVM on exactly where references need it, across
 * CPU hotplug, suspend/resume, shutdown and crash.
 *
 * A CPU wants the hardware on while it is online and either a system-wide
 * (or permanent) reference exists or a per-CPU reference was taken on it.
 * Every change of references is followed by a reconcile on the affected
 * CPUs, which runs on that CPU with interrupts disabled: it stops the users
 * whose references no longer cover the CPU, switches the hardware, then
 * starts the users newly covering it.
 *
 * Locking: ve_lock serializes users, system-wide references, hotplug
 * callbacks and shutdown; it nests inside the CPU hotplug lock.  Per-CPU
 * state is only written by its own CPU with interrupts disabled (or, for an
 * offline CPU, under both locks), so per-CPU references need no lock and
 * work from any context.  The users list is RCU-protected for the emergency
 * path, which runs in NMI context and takes no locks.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/ctype.h>
#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/string.h>

#include "compat/compat.h"
#include "internal.h"

/* Far more than any real user needs; keeps every counter from overflowing. */
#define VE_MAX_REFS	BIT(20)

struct ve_cpu {
	bool online;		/* hotplug allows the hardware on here */
	bool system;		/* system-wide references cover this CPU */
	bool owned;		/* enabling started, disabling not finished */
	bool on;		/* hardware on, turned on by us */
	unsigned int nr_local;	/* per-CPU references, all users */
	unsigned long nr_enables;
	unsigned long nr_disables;
	unsigned long nr_emergencies;
};

struct ve_user_cpu {
	unsigned int refs;	/* this user's per-CPU references */
	bool active;		/* ->cpu_enabled ran, ->cpu_disabling did not */
};

struct virt_enable_user {
	struct list_head node;
	char name[VIRT_ENABLE_NAME_LEN];
	const struct virt_enable_user_ops *ops;
	void *data;
	unsigned int nr_refs;
	unsigned int nr_permanent;
	bool system;		/* holds system-wide or permanent references */
	struct ve_user_cpu __percpu *cpu;
};

static const struct ve_vendor_ops *ve_vendor __read_mostly;
static DEFINE_PER_CPU(struct ve_cpu, ve_cpus);
static DEFINE_MUTEX(ve_lock);
static LIST_HEAD(ve_users);
static unsigned int ve_nr_system_users;
static bool ve_shutting_down;
static bool ve_armed;
static const char *ve_foreign_module;
static int ve_cpuhp_state;

static struct {
	unsigned long broadcasts;
	unsigned long rollbacks;
	unsigned long vetoed_suspends;
	atomic_long_t refused_puts;	/* kernel callers only: debugfs gets errors */
	atomic_long_t busy;
} ve_stats;

static const char *ve_feature_name(enum virt_enable_feature feature)
{
	switch (feature) {
	case VIRT_ENABLE_VMX:
		return "vmx";
	case VIRT_ENABLE_SVM:
		return "svm";
	}
	return "none";
}

static int ve_check_feature(enum virt_enable_feature feature)
{
	return feature == ve_vendor->feature ? 0 : -EOPNOTSUPP;
}

static bool ve_has_cpu_callbacks(const struct virt_enable_user *user)
{
	return user->ops && (user->ops->cpu_enabled || user->ops->cpu_disabling);
}

static bool ve_cpu_wanted(const struct ve_cpu *vc)
{
	return vc->online && (vc->system || vc->nr_local);
}

static bool ve_user_covers(struct virt_enable_user *user,
			   const struct ve_cpu *vc)
{
	if (!vc->online)
		return false;
	return (vc->system && READ_ONCE(user->system)) ||
	       this_cpu_ptr(user->cpu)->refs;
}

static int ve_hw_on(struct ve_cpu *vc)
{
	int r;

	if (vc->on)
		return 0;

	/* Someone else's VMXON/SVME: never take over, never undo it. */
	if (ve_vendor->cpu_is_on()) {
		atomic_long_inc(&ve_stats.busy);
		pr_err_ratelimited("%s is already enabled on CPU %u: another hypervisor owns it (kvm_intel/kvm_amd loaded without virt_enable?)\n",
				   ve_vendor->name, smp_processor_id());
		return -EBUSY;
	}

	/* Let the emergency path see a half-enabled CPU as ours. */
	WRITE_ONCE(vc->owned, true);
	barrier();
	r = ve_vendor->enable_cpu();
	barrier();
	if (r) {
		WRITE_ONCE(vc->owned, false);
		return r;
	}
	WRITE_ONCE(vc->on, true);
	WRITE_ONCE(vc->nr_enables, vc->nr_enables + 1);
	return 0;
}

static void ve_hw_off(struct ve_cpu *vc)
{
	if (!vc->on)
		return;
	ve_vendor->disable_cpu();
	WRITE_ONCE(vc->on, false);
	barrier();
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
 * Bring this CPU in line with the references.  Called with interrupts
 * disabled, with ve_lock held or from syscore (the only CPU running).  On
 * error the CPU may be left partly started: the caller undoes what it asked
 * for and reconciles again, which only ever stops things.
 */
static int ve_cpu_reconcile(struct ve_cpu *vc)
{
	struct virt_enable_user *user;
	int r;

	list_for_each_entry_reverse(user, &ve_users, node)
		if (ve_user_active(user) && !ve_user_covers(user, vc))
			ve_user_stop(user);

	if (!ve_cpu_wanted(vc)) {
		ve_hw_off(vc);
		return 0;
	}

	r = ve_hw_on(vc);
	if (r)
		return r;

	list_for_each_entry(user, &ve_users, node) {
		if (ve_has_cpu_callbacks(user) && !ve_user_active(user) &&
		    ve_user_covers(user, vc)) {
			r = ve_user_start(user);
			if (r)
				return r;
		}
	}
	return 0;
}

static void ve_reconcile_ipi(void *arg)
{
	struct ve_cpu *vc = this_cpu_ptr(&ve_cpus);
	int *error = arg;
	int r;

	vc->system = ve_nr_system_users != 0;
	r = ve_cpu_reconcile(vc);
	if (r) {
		pr_err("enabling %s on CPU %u failed: %pe\n", ve_vendor->name,
		       smp_processor_id(), ERR_PTR(r));
		cmpxchg(error, 0, r);
	}
}

/* Reconcile every online CPU, with CPU hotplug held off; returns the first error. */
static int ve_broadcast(void)
{
	int error = 0;

	lockdep_assert_held(&ve_lock);

	ve_stats.broadcasts++;
	on_each_cpu(ve_reconcile_ipi, &error, 1);
	return error;
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
 * broadcast only to run its own callbacks.
 */
static bool ve_needs_broadcast(struct virt_enable_user *user)
{
	bool edge = user->system ? ve_nr_system_users == 1 : !ve_nr_system_users;

	return edge || ve_has_cpu_callbacks(user);
}

static int ve_get_system(struct virt_enable_user *user, bool permanent)
{
	int r;

	lockdep_assert_held(&ve_lock);

	if (ve_shutting_down)
		return -ESHUTDOWN;
	if (user->nr_refs + user->nr_permanent >= VE_MAX_REFS)
		return -EOVERFLOW;

	if (!user->system) {
		ve_set_system(user, true);
		if (ve_needs_broadcast(user)) {
			r = ve_broadcast();
			if (r) {
				/* All or nothing: undo every CPU this request enabled. */
				ve_set_system(user, false);
				ve_stats.rollbacks++;
				ve_broadcast();
				return r;
			}
		}
	}

	if (permanent)
		user->nr_permanent++;
	else
		user->nr_refs++;
	__module_get(THIS_MODULE);
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
			ve_broadcast();
	}
	module_put(THIS_MODULE);
	return 0;
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

	if (READ_ONCE(ve_shutting_down))
		r = -ESHUTDOWN;
	else if (!vc->online)
		r = -ENODEV;
	else if (uc->refs >= VE_MAX_REFS)
		r = -EOVERFLOW;
	if (r)
		goto out;

	uc->refs++;
	vc->nr_local++;
	r = ve_hw_on(vc);
	if (!r && ve_has_cpu_callbacks(user) && !uc->active)
		r = ve_user_start(user);
	if (r) {
		uc->refs--;
		vc->nr_local--;
		if (!ve_cpu_wanted(vc))
			ve_hw_off(vc);
		goto out;
	}
	__module_get(THIS_MODULE);
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
	vc->nr_local -= dropped;
	if (ve_user_active(user) && !ve_user_covers(user, vc))
		ve_user_stop(user);
	if (!ve_cpu_wanted(vc))
		ve_hw_off(vc);
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
	module_put(THIS_MODULE);
	return 0;
}

int ve_get(struct virt_enable_user *user, enum virt_enable_feature feature,
	   enum ve_ref_kind kind)
{
	int r;

	r = ve_check_feature(feature);
	if (r)
		return r;
	if (kind == VE_REF_CPU)
		return ve_get_cpu(user);

	cpus_read_lock();
	mutex_lock(&ve_lock);
	r = ve_get_system(user, kind == VE_REF_PERMANENT);
	mutex_unlock(&ve_lock);
	cpus_read_unlock();
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
	if (!r && kind == VE_REF_SYSTEM) {
		cpus_read_lock();
		mutex_lock(&ve_lock);
		r = ve_put_system(user);
		mutex_unlock(&ve_lock);
		cpus_read_unlock();
	}
	return r;
}

/*
 * Unmodified in-tree KVM turns VMX/SVM on by itself (6.12 at load, 6.1 per
 * VM) and claims the kernel's one emergency hook, which allows a single
 * owner.  It cannot share either with virt_enable, so each refuses the other
 * instead of fighting over the hardware.  A KVM that links against
 * virt_enable is a user like any other.
 */
static const char *const ve_kvm_modules[] = { "kvm_intel", "kvm_amd" };

static bool ve_module_uses_us(struct module *mod)
{
#if defined(MODULE) && defined(CONFIG_MODULE_UNLOAD)
	struct module_use *use;

	list_for_each_entry(use, &mod->target_list, target_list)
		if (use->target == THIS_MODULE)
			return true;
#endif
	return false;
}

static const char *ve_kvm_module_name(const char *name)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(ve_kvm_modules); i++)
		if (!strcmp(name, ve_kvm_modules[i]))
			return ve_kvm_modules[i];
	return NULL;
}

/* An in-tree KVM that was loaded (or built in) before virt_enable. */
static const char *ve_kvm_module_present(void)
{
	struct kset *modules;
	struct kobject *kobj;
	struct module *mod;
	bool foreign;
	int i;

#ifdef MODULE
	modules = THIS_MODULE->mkobj.kobj.kset;
#else
	modules = module_kset;
#endif
	/*
	 * Not in sysfs yet: 6.1 runs a KUnit module's cases while it is still
	 * MODULE_STATE_COMING.  Nothing to look in; the notifier covers later
	 * loads.
	 */
	if (!modules)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(ve_kvm_modules); i++) {
		kobj = kset_find_obj(modules, ve_kvm_modules[i]);
		if (!kobj)
			continue;
		mod = container_of(kobj, struct module_kobject, kobj)->mod;
		foreign = !mod || !ve_module_uses_us(mod);
		kobject_put(kobj);
		if (foreign)
			return ve_kvm_modules[i];
	}
	return NULL;
}

static int ve_module_notify(struct notifier_block *nb, unsigned long action,
			    void *data)
{
	struct module *mod = data;
	const char *name = ve_kvm_module_name(mod->name);
	int r = 0;

	if (!name || ve_module_uses_us(mod))
		return NOTIFY_DONE;

	mutex_lock(&ve_lock);
	if (action == MODULE_STATE_COMING) {
		if (ve_armed) {
			pr_err("refusing to load %s: virt_enable users own %s; drop them first, or use a KVM built on virt_enable\n",
			       name, ve_vendor->name);
			r = -EBUSY;
		} else {
			ve_foreign_module = name;
		}
	} else if (action == MODULE_STATE_GOING && ve_foreign_module == name) {
		ve_foreign_module = NULL;
	}
	mutex_unlock(&ve_lock);
	return notifier_from_errno(r);
}

static struct notifier_block ve_module_nb = {
	.notifier_call = ve_module_notify,
};

/*
 * Watching KVM modules come and go is for the module's lifetime, apart from
 * ve_core_init(): registering a module notifier from within the module
 * notifier chain (where KUnit runs a test module) would deadlock.
 */
int ve_watch_kvm_modules(void)
{
	return register_module_notifier(&ve_module_nb);
}

void ve_unwatch_kvm_modules(void)
{
	unregister_module_notifier(&ve_module_nb);
}

static void ve_emergency_disable_cpu(void)
{
	struct ve_cpu *vc = this_cpu_ptr(&ve_cpus);
	struct virt_enable_user *user;

	/* Users first: e.g. VMCLEAR needs VMX still on. */
	rcu_read_lock();
	list_for_each_entry_rcu(user, &ve_users, node)
		if (user->ops && user->ops->emergency)
			user->ops->emergency(user->data);
	rcu_read_unlock();

	WRITE_ONCE(ve_shutting_down, true);
	if (!READ_ONCE(vc->owned))
		return;
	ve_vendor->emergency_disable_cpu();
	WRITE_ONCE(vc->on, false);
	WRITE_ONCE(vc->owned, false);
	WRITE_ONCE(vc->nr_emergencies, vc->nr_emergencies + 1);
}

/* Called for the first user: claim the hardware and the emergency hook. */
static int ve_arm(void)
{
	const char *owner = ve_foreign_module;
	bool busy;

	lockdep_assert_held(&ve_lock);

	if (!owner)
		owner = ve_kvm_module_present();
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

	ve_emergency_hook_register(ve_emergency_disable_cpu);
	ve_armed = true;
	return 0;
}

static void ve_disarm(void)
{
	lockdep_assert_held(&ve_lock);

	ve_emergency_hook_unregister(ve_emergency_disable_cpu);
	ve_armed = false;
}

static bool ve_name_valid(const char *name)
{
	size_t len = strnlen(name, VIRT_ENABLE_NAME_LEN);
	size_t i;

	if (!len || len == VIRT_ENABLE_NAME_LEN)
		return false;
	for (i = 0; i < len; i++)
		if (!isprint(name[i]) || name[i] == '"' || name[i] == '\\')
			return false;
	return true;
}

/**
 * virt_enable_register() - register a user of hardware virtualization
 * @name: what the user is called in the state file and in messages, e.g.
 *	"kvm_intel"; 1 to VIRT_ENABLE_NAME_LEN - 1 printable characters,
 *	no quotes or backslashes.  Copied.
 * @ops: optional callbacks, or NULL; must stay valid until unregistered.
 * @data: passed to the callbacks.
 *
 * The first registration claims the kernel's emergency virtualization hook,
 * and fails with -EBUSY if another hypervisor (typically an unmodified
 * kvm_intel or kvm_amd) owns VMX/SVM or that hook.
 *
 * Context: process context, may sleep.
 * Return: the user, or an ERR_PTR(): -EINVAL for a bad name, -ENOMEM,
 * -EBUSY as above, -ESHUTDOWN if the system is going down.
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

	mutex_lock(&ve_lock);
	if (ve_shutting_down)
		r = -ESHUTDOWN;
	else if (list_empty(&ve_users))
		r = ve_arm();
	if (!r)
		list_add_tail_rcu(&user->node, &ve_users);
	mutex_unlock(&ve_lock);

	if (r) {
		free_percpu(user->cpu);
		kfree(user);
		return ERR_PTR(r);
	}
	return user;
}
EXPORT_SYMBOL_GPL(virt_enable_register);

static void ve_drop_cpu_refs_ipi(void *arg)
{
	struct virt_enable_user *user = arg;

	ve_put_cpu_refs(user, UINT_MAX);
}

static unsigned int ve_user_cpu_refs(struct virt_enable_user *user)
{
	unsigned int refs = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		refs += per_cpu_ptr(user->cpu, cpu)->refs;
	return refs;
}

/* Drop everything @user holds, permanent references included. */
static void ve_user_drop_all(struct virt_enable_user *user)
{
	unsigned int refs = user->nr_refs + user->nr_permanent;
	int cpu;

	lockdep_assert_held(&ve_lock);

	refs += ve_user_cpu_refs(user);
	on_each_cpu(ve_drop_cpu_refs_ipi, user, 1);
	/* Offline CPUs run nothing: their counts can be fixed from here. */
	for_each_possible_cpu(cpu) {
		struct ve_user_cpu *uc = per_cpu_ptr(user->cpu, cpu);

		if (cpu_online(cpu) || !uc->refs)
			continue;
		per_cpu_ptr(&ve_cpus, cpu)->nr_local -= uc->refs;
		uc->refs = 0;
	}

	user->nr_refs = 0;
	user->nr_permanent = 0;
	if (user->system) {
		ve_set_system(user, false);
		if (ve_needs_broadcast(user))
			ve_broadcast();
	}
	while (refs--)
		module_put(THIS_MODULE);
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

	/* The emergency path may still be looking at it. */
	synchronize_rcu();
	free_percpu(user->cpu);
	kfree(user);
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
 * On success the feature is enabled on every online CPU, and stays so, also on
 * CPUs that come online, until the reference is put.  The first system-wide
 * reference turns the hardware on with one broadcast; later ones do no
 * hardware work (only @user's own ->cpu_enabled callbacks run).  Enabling
 * is all or nothing: if any CPU fails, every CPU this call turned on is
 * turned off again and the error is returned.
 *
 * Context: process context, may sleep; not from a CPU hotplug callback.
 * Return: 0; -EOPNOTSUPP for the wrong feature; -EBUSY if another
 * hypervisor has the feature on; -ESHUTDOWN once the system is going down;
 * -EOVERFLOW past VE_MAX_REFS; or the error of the failing CPU or callback.
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
 * For callers that manage CPUs themselves: the feature is enabled on this CPU
 * until the matching virt_enable_put_cpu() on the same CPU.  The 0->1
 * transition completes with interrupts disabled, so no other reference on
 * this CPU can observe it half done.  The caller must stay on this CPU
 * (preemption or migration disabled, a bound kthread, a hotplug callback)
 * for as long as it relies on the result.  If the CPU goes offline the
 * hardware goes off with it; it comes back on if the CPU returns while the
 * reference is still held.
 *
 * Context: any context but NMI; does not sleep.
 * Return: 0; -EOPNOTSUPP, -EBUSY, -ESHUTDOWN, -EOVERFLOW as
 * virt_enable_get(); -ENODEV if this CPU is not (or no longer) online for
 * virt_enable; or the error of enabling or of @user's ->cpu_enabled.
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
 * Return: %VIRT_ENABLE_VMX or %VIRT_ENABLE_SVM.  virt_enable does not load
 * on a machine that offers neither.
 */
enum virt_enable_feature virt_enable_feature(void)
{
	return ve_vendor->feature;
}
EXPORT_SYMBOL_GPL(virt_enable_feature);

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

static int ve_cpu_online(unsigned int cpu)
{
	struct ve_cpu *vc = per_cpu_ptr(&ve_cpus, cpu);
	int r = 0;

	mutex_lock(&ve_lock);
	if (!ve_shutting_down) {
		local_irq_disable();
		vc->online = true;
		vc->system = ve_nr_system_users != 0;
		r = ve_cpu_reconcile(vc);
		if (r) {
			/* Fail the online rather than break the references' promise. */
			pr_err("CPU %u cannot come online: enabling %s failed: %pe\n",
			       cpu, ve_vendor->name, ERR_PTR(r));
			vc->online = false;
			ve_cpu_reconcile(vc);
		}
		local_irq_enable();
	}
	mutex_unlock(&ve_lock);
	return r;
}

static int ve_cpu_offline(unsigned int cpu)
{
	struct ve_cpu *vc = per_cpu_ptr(&ve_cpus, cpu);

	mutex_lock(&ve_lock);
	local_irq_disable();
	vc->online = false;
	ve_cpu_reconcile(vc);
	local_irq_enable();
	mutex_unlock(&ve_lock);
	return 0;
}

/*
 * Suspend and resume run on the last online CPU with interrupts disabled,
 * after the others went through ve_cpu_offline() and with tasks frozen, so
 * nothing else can run; ve_lock cannot be taken and need not be.
 */
static int ve_suspend(void)
{
	struct ve_cpu *vc = this_cpu_ptr(&ve_cpus);
	struct virt_enable_user *user;
	int r;

	lockdep_assert_irqs_disabled();

	list_for_each_entry(user, &ve_users, node) {
		if (!user->ops || !user->ops->suspend)
			continue;
		r = user->ops->suspend(user->data);
		if (r) {
			ve_stats.vetoed_suspends++;
			pr_err("suspend vetoed by user \"%s\": %pe\n",
			       user->name, ERR_PTR(r));
			return r;
		}
	}

	vc->online = false;
	ve_cpu_reconcile(vc);
	return 0;
}

static void ve_resume(void)
{
	struct ve_cpu *vc = this_cpu_ptr(&ve_cpus);
	int r;

	lockdep_assert_irqs_disabled();

	vc->online = true;
	r = ve_cpu_reconcile(vc);
	if (r)
		pr_err("re-enabling %s on CPU %u after resume failed: %pe\n",
		       ve_vendor->name, smp_processor_id(), ERR_PTR(r));
}

static void ve_shutdown_ipi(void *arg)
{
	struct ve_cpu *vc = this_cpu_ptr(&ve_cpus);
	atomic_t *turned_off = arg;

	if (vc->on)
		atomic_inc(turned_off);
	vc->online = false;
	ve_cpu_reconcile(vc);
}

/*
 * Reboot, halt, power-off and kexec all pass through syscore shutdown with
 * every CPU still running: turn the hardware off everywhere before firmware
 * or the next kernel needs INIT to work, and refuse to turn it on again.
 */
static void ve_shutdown(void)
{
	atomic_t turned_off = ATOMIC_INIT(0);

	mutex_lock(&ve_lock);
	ve_shutting_down = true;
	on_each_cpu(ve_shutdown_ipi, &turned_off, 1);
	mutex_unlock(&ve_lock);
	if (atomic_read(&turned_off))
		pr_info("%s turned off on %d CPUs for shutdown\n", ve_vendor->name,
			atomic_read(&turned_off));
}

VE_DEFINE_SYSCORE(ve_syscore, ve_suspend, ve_resume, ve_shutdown);

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
	ve_shutting_down = false;
	ve_foreign_module = NULL;
	ve_nr_system_users = 0;
	memset(&ve_stats, 0, sizeof(ve_stats));
	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(&ve_cpus, cpu), 0, sizeof(struct ve_cpu));

	r = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, KBUILD_MODNAME ":online",
			      ve_cpu_online, ve_cpu_offline);
	if (r < 0)
		return r;
	ve_cpuhp_state = r;
	ve_syscore_register(&ve_syscore);

	if (!VE_HAVE_EMERGENCY_HOOK)
		pr_warn("this kernel has no emergency virtualization hook (CONFIG_KVM_X86=n): a crash with %s on can leave CPUs unable to start in a kdump kernel\n",
			vendor->name);
	return 0;
}

/**
 * ve_core_exit() - stop the core
 *
 * Module references keep this from running while any reference is held;
 * the checks are for the core's own consistency.
 */
void ve_core_exit(void)
{
	int cpu;

	ve_syscore_unregister(&ve_syscore);
	cpuhp_remove_state(ve_cpuhp_state);

	WARN_ON(!list_empty(&ve_users));
	for_each_possible_cpu(cpu)
		WARN_ON(per_cpu_ptr(&ve_cpus, cpu)->on);
}

static void ve_show_user(struct seq_file *m, struct virt_enable_user *user)
{
	int cpu;

	seq_printf(m, "user \"%s\" system %u permanent %u percpu",
		   user->name, user->nr_refs, user->nr_permanent);
	for_each_possible_cpu(cpu) {
		unsigned int refs = READ_ONCE(per_cpu_ptr(user->cpu, cpu)->refs);

		if (refs)
			seq_printf(m, " %d:%u", cpu, refs);
	}
	seq_putc(m, '\n');
}

/* One user's line of the state, for the debugfs file that owns it. */
void ve_user_show(struct seq_file *m, struct virt_enable_user *user)
{
	mutex_lock(&ve_lock);
	ve_show_user(m, user);
	mutex_unlock(&ve_lock);
}

/* The state file: see README.md, "debugfs interface", for the format. */
void ve_state_show(struct seq_file *m)
{
	struct virt_enable_user *user;
	unsigned int nr_users = 0;
	int cpu;

	mutex_lock(&ve_lock);
	list_for_each_entry(user, &ve_users, node)
		nr_users++;

	seq_printf(m, "feature %s\n", ve_vendor->name);
	seq_printf(m, "users %u\n", nr_users);
	seq_printf(m, "system_users %u\n", ve_nr_system_users);
	seq_printf(m, "emergency_hook %s\n", !VE_HAVE_EMERGENCY_HOOK ?
		   "unavailable" : ve_armed ? "registered" : "unregistered");
	seq_printf(m, "shutting_down %d\n", READ_ONCE(ve_shutting_down));
	for_each_possible_cpu(cpu) {
		struct ve_cpu *vc = per_cpu_ptr(&ve_cpus, cpu);

		seq_printf(m, "cpu %d online %d hw %d system %d local %u enables %lu disables %lu emergencies %lu\n",
			   cpu, READ_ONCE(vc->online), READ_ONCE(vc->on),
			   READ_ONCE(vc->system), READ_ONCE(vc->nr_local),
			   READ_ONCE(vc->nr_enables), READ_ONCE(vc->nr_disables),
			   READ_ONCE(vc->nr_emergencies));
	}
	list_for_each_entry(user, &ve_users, node)
		ve_show_user(m, user);
	seq_printf(m, "counters broadcasts %lu rollbacks %lu refused_puts %ld busy %ld vetoed_suspends %lu\n",
		   ve_stats.broadcasts, ve_stats.rollbacks,
		   atomic_long_read(&ve_stats.refused_puts),
		   atomic_long_read(&ve_stats.busy),
		   ve_stats.vetoed_suspends);
	mutex_unlock(&ve_lock);
}
