// SPDX-License-Identifier: GPL-2.0-only
/*
 * virt_enable's state view: the full state for the debugfs state file, and
 * a small read-only sysfs view that needs no debugfs (debugfs is not an ABI
 * and is often unavailable on production machines):
 *
 *   /sys/kernel/virt_enable/feature          "vmx" or "svm"
 *   /sys/kernel/virt_enable/cpus_on          CPUs where virt_enable has it on (cpulist)
 *   /sys/kernel/virt_enable/users            registered users
 *   /sys/kernel/virt_enable/system_users     users holding system-wide references
 *   /sys/kernel/virt_enable/window_failures  windows whose close failed
 *
 * Formats: Documentation/ABI/testing/sysfs-kernel-virt_enable and
 * Documentation/admin-guide/virt_enable.rst.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/sysfs.h>

#include "internal.h"
#include "vendor_checks.h"

static void ve_show_user(struct seq_file *m, struct virt_enable_user *user)
{
	int cpu;

	seq_printf(m, "user \"%s\" system %u permanent %u percpu",
		   user->name, atomic_read(&user->nr_refs), user->nr_permanent);
	for_each_possible_cpu(cpu) {
		unsigned int refs = READ_ONCE(per_cpu_ptr(user->cpu, cpu)->refs);

		if (refs)
			seq_printf(m, " %d:%u", cpu, refs);
	}
	seq_putc(m, '\n');
}

/*
 * The windows @user opened on each CPU where it did.  Each count is its
 * CPU's, written there with interrupts off: read as it is.
 */
static void ve_show_windows(struct seq_file *m, struct virt_enable_user *user)
{
	int cpu;

	seq_printf(m, "windows \"%s\"", user->name);
	for_each_possible_cpu(cpu) {
		unsigned long n = READ_ONCE(per_cpu_ptr(user->cpu, cpu)->windows);

		if (n)
			seq_printf(m, " %d:%lu", cpu, n);
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

/*
 * Who switches the hardware: virt_enable, or the unmodified KVM module it
 * rides (ride.c); ve_lock held.
 */
static const char *ve_switcher(void)
{
	return ve_ride_kvm ? module_name(ve_ride_kvm) : KBUILD_MODNAME;
}

/* Registered users; ve_lock held. */
static unsigned int ve_nr_users(void)
{
	struct virt_enable_user *user;
	unsigned int n = 0;

	list_for_each_entry(user, &ve_users, node)
		n++;
	return n;
}

/* The debugfs state file. */
void ve_state_show(struct seq_file *m)
{
	struct virt_enable_user *user;
	int cpu;

	mutex_lock(&ve_lock);
	seq_printf(m, "feature %s\n", ve_vendor->name);
	seq_printf(m, "switcher %s\n", ve_switcher());
	seq_printf(m, "held_vm %d\n", ve_ride_holds_vm());
	seq_printf(m, "users %u\n", ve_nr_users());
	seq_printf(m, "system_users %u\n", ve_nr_system_users);
	seq_printf(m, "emergency_hook %s\n", !ve_emergency_hook_available() ?
		   "unavailable" : ve_armed && !ve_ride_kvm ? "registered" :
		   "unregistered");
	seq_printf(m, "shutting_down %d\n", READ_ONCE(ve_going_down));
	if (ve_vendor->feature == VIRT_ENABLE_VMX)
		seq_printf(m, "vmxon_regions %u\n", ve_vmx_nr_regions());
	seq_printf(m, "tdx %s\n", ve_tdx_active() ? "active" : "inactive");
	for_each_possible_cpu(cpu) {
		struct ve_cpu *vc = per_cpu_ptr(&ve_cpus, cpu);
		unsigned int local = 0;

		list_for_each_entry(user, &ve_users, node)
			local += READ_ONCE(per_cpu_ptr(user->cpu, cpu)->refs);
		seq_printf(m, "cpu %d online %d hw %d system %d local %u enables %lu disables %lu emergencies %lu disable_failures %lu window_failures %lu\n",
			   cpu, READ_ONCE(vc->online), READ_ONCE(vc->on),
			   READ_ONCE(vc->system),
			   local,
			   READ_ONCE(vc->nr_enables), READ_ONCE(vc->nr_disables),
			   READ_ONCE(vc->nr_emergencies),
			   READ_ONCE(vc->nr_disable_failures),
			   READ_ONCE(vc->nr_window_failures));
	}
	list_for_each_entry(user, &ve_users, node) {
		ve_show_user(m, user);
		ve_show_windows(m, user);
	}
	seq_printf(m, "counters broadcasts %lu rollbacks %lu refused_puts %ld busy %ld vetoed_suspends %lu resume_failures %lu\n",
		   ve_stats.broadcasts, ve_stats.rollbacks,
		   atomic_long_read(&ve_stats.refused_puts),
		   atomic_long_read(&ve_stats.busy),
		   ve_stats.vetoed_suspends, ve_stats.resume_failures);
	mutex_unlock(&ve_lock);
}

static struct kobject *ve_kobj;

static ssize_t feature_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", ve_vendor->name);
}

static ssize_t cpus_on_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	cpumask_var_t on;
	ssize_t len;
	int cpu;

	if (!zalloc_cpumask_var(&on, GFP_KERNEL))
		return -ENOMEM;
	for_each_possible_cpu(cpu)
		if (READ_ONCE(per_cpu_ptr(&ve_cpus, cpu)->on))
			cpumask_set_cpu(cpu, on);
	len = sysfs_emit(buf, "%*pbl\n", cpumask_pr_args(on));
	free_cpumask_var(on);
	return len;
}

/*
 * One value per file: what a production machine needs to see at a glance.
 * Who holds what, per user and per CPU, is in the debugfs state file.
 */
static ssize_t users_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	unsigned int n;

	mutex_lock(&ve_lock);
	n = ve_nr_users();
	mutex_unlock(&ve_lock);
	return sysfs_emit(buf, "%u\n", n);
}

static ssize_t system_users_show(struct kobject *kobj,
				 struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(ve_nr_system_users));
}

static ssize_t switcher_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	ssize_t len;

	mutex_lock(&ve_lock);
	len = sysfs_emit(buf, "%s\n", ve_switcher());
	mutex_unlock(&ve_lock);
	return len;
}

static ssize_t window_failures_show(struct kobject *kobj,
				    struct kobj_attribute *attr, char *buf)
{
	unsigned long n = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		n += READ_ONCE(per_cpu_ptr(&ve_cpus, cpu)->nr_window_failures);
	return sysfs_emit(buf, "%lu\n", n);
}

static struct kobj_attribute ve_feature_attr = __ATTR_RO(feature);
static struct kobj_attribute ve_cpus_on_attr = __ATTR_RO(cpus_on);
static struct kobj_attribute ve_users_attr = __ATTR_RO(users);
static struct kobj_attribute ve_system_users_attr = __ATTR_RO(system_users);
static struct kobj_attribute ve_switcher_attr = __ATTR_RO(switcher);
static struct kobj_attribute ve_window_failures_attr = __ATTR_RO(window_failures);

static struct attribute *ve_attrs[] = {
	&ve_feature_attr.attr,
	&ve_cpus_on_attr.attr,
	&ve_users_attr.attr,
	&ve_system_users_attr.attr,
	&ve_switcher_attr.attr,
	&ve_window_failures_attr.attr,
	NULL,
};

static const struct attribute_group ve_attr_group = {
	.attrs = ve_attrs,
};

int ve_sysfs_init(void)
{
	int r;

	ve_kobj = kobject_create_and_add("virt_enable", kernel_kobj);
	if (!ve_kobj)
		return -ENOMEM;
	r = sysfs_create_group(ve_kobj, &ve_attr_group);
	if (r)
		kobject_put(ve_kobj);
	return r;
}

void ve_sysfs_exit(void)
{
	sysfs_remove_group(ve_kobj, &ve_attr_group);
	kobject_put(ve_kobj);
}
