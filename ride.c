// SPDX-License-Identifier: GPL-2.0-only
/*
 * Riding an unmodified KVM: where kvm_intel or kvm_amd as the distribution
 * ships it owns VMX/SVM, virt_enable's users share the hardware KVM turned
 * on instead of being refused.  KVM does every switch; virt_enable keeps
 * the hardware on for as long as references need it, and tells its users
 * when it comes and goes (lifecycle.c, as for its own hardware).
 *
 * - Each CPU on for virt_enable's users pins the KVM module, so KVM cannot
 *   unload under them (ve_ride_cpu_on()/ve_ride_cpu_off()).
 * - KVM turns the hardware on while its usage count is non-zero: from load
 *   to unload on 6.12 with kvm.enable_virt_at_load=1 (the default), and
 *   otherwise (enable_virt_at_load=0, 6.1) only while a VM exists.  There,
 *   virt_enable holds a VM of KVM's own, created through KVM's device file
 *   as a process would, for as long as system-wide references exist or a
 *   CPU is on for its users: a held VM keeps the hardware on, which is
 *   what distributions' enable_virt_at_load=0 is there to avoid.
 * - KVM holds the kernel's emergency hook while its hardware is on (6.12;
 *   6.1's kvm_intel from load, and 6.1 turns SVM off itself): virt_enable
 *   does not claim it, and its users' ->emergency callbacks do not run.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/fdtable.h>
#include <linux/fs.h>
#include <linux/kvm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/workqueue.h>

#include "compat/compat.h"
#include "internal.h"

/* The KVM vendor module ridden, or NULL: virt_enable switches itself. */
struct module *ve_ride_kvm __read_mostly;

/* The VM held, see above; under ve_lock. */
static struct file *ve_ride_vm;
/* CPUs on for virt_enable's users while riding. */
static atomic_t ve_ride_cpus = ATOMIC_INIT(0);

static void ve_ride_release_fn(struct work_struct *work);
static DECLARE_WORK(ve_ride_release_work, ve_ride_release_fn);

/*
 * Our syscore ops and reboot notifier move (ve_syscore_reorder()) from a
 * work item: syscore shutdown and the reboot notifiers run with their
 * lists locked and call into virt_enable, which takes ve_lock, so they
 * must never be moved with ve_lock held.
 */
static void ve_ride_reorder_fn(struct work_struct *work)
{
	ve_syscore_reorder();
}

static DECLARE_WORK(ve_ride_reorder_work, ve_ride_reorder_fn);

/* KVM's device file, opened without the caller's /dev. */
static struct file *ve_ride_open_kvm(void)
{
	struct file_system_type *devtmpfs;
	struct vfsmount *mnt;
	struct file *kvm;

	devtmpfs = get_fs_type("devtmpfs");
	if (!devtmpfs)
		return ERR_PTR(-ENODEV);
	mnt = kern_mount(devtmpfs);
	/* put_filesystem(), which modules cannot call. */
	module_put(devtmpfs->owner);
	if (IS_ERR(mnt))
		return ERR_CAST(mnt);
	kvm = file_open_root_mnt(mnt, "kvm", O_RDWR, 0);
	kern_unmount(mnt);
	return kvm;
}

/*
 * KVM_CREATE_VM, as a process would.  KVM binds the VM to the caller's mm
 * (it needs one) and installs its file in the caller's file table, where
 * it is taken back at once.
 */
static struct file *ve_ride_create_vm(void)
{
	struct file *kvm, *vm;
	long fd;

	if (!current->mm)
		return ERR_PTR(-EOPNOTSUPP);
	kvm = ve_ride_open_kvm();
	if (IS_ERR(kvm))
		return kvm;
	fd = vfs_ioctl(kvm, KVM_CREATE_VM, 0);
	fput(kvm);
	if (fd < 0)
		return ERR_PTR(fd);
	vm = ve_close_fd_get_file(fd);
	return vm ?: ERR_PTR(-EBADF);
}

/* Whether KVM has the hardware on, as seen from this CPU. */
static bool ve_ride_kvm_on(void)
{
	bool on;

	preempt_disable();
	on = ve_vendor->cpu_is_on();
	preempt_enable();
	return on;
}

/**
 * ve_ride_prepare() - hold a VM of KVM's if a first system-wide reference needs one
 *
 * Called without locks before a system-wide get takes the hotplug lock and
 * ve_lock: creating a VM turns KVM's hardware on, which takes the hotplug
 * lock itself.
 *
 * Return: 0, or why KVM's hardware cannot be held on.
 */
int ve_ride_prepare(void)
{
	struct file *vm;

	/* The ride's start moved our hooks after KVM's: done before we rely on it. */
	flush_work(&ve_ride_reorder_work);
	if (!READ_ONCE(ve_ride_kvm) || READ_ONCE(ve_ride_vm) || ve_ride_kvm_on())
		return 0;

	vm = ve_ride_create_vm();
	if (IS_ERR(vm)) {
		pr_err("%s has %s off and no VM of %s's could keep it on: %pe%s\n",
		       module_name(READ_ONCE(ve_ride_kvm)), ve_vendor->name,
		       KBUILD_MODNAME, vm, PTR_ERR(vm) == -EOPNOTSUPP ?
		       " (the first system-wide reference needs a task with an mm)" : "");
		return PTR_ERR(vm);
	}
	mutex_lock(&ve_lock);
	if (!ve_ride_vm) {
		ve_ride_vm = vm;
		vm = NULL;
	}
	mutex_unlock(&ve_lock);
	if (vm)
		fput(vm);
	/* KVM registered its syscore ops just now: ours go after them. */
	ve_syscore_reorder();
	return 0;
}

/**
 * ve_ride_ready() - whether the first system-wide reference can rely on KVM
 *
 * Called with ve_lock held.  The held VM that ve_ride_prepare() made may
 * have been released again before the lock was taken: then the caller
 * drops its locks and prepares again.
 */
bool ve_ride_ready(void)
{
	lockdep_assert_held(&ve_lock);

	return !ve_ride_kvm || ve_ride_vm || ve_ride_kvm_on();
}

/*
 * Drop the held VM once nothing needs KVM's hardware on: no system-wide
 * reference and no CPU on for a user.  From a kernel thread, so that the
 * VM is gone (and the hardware off) when this returns, not when the task
 * that put the last reference returns to user space.
 */
static void ve_ride_release_fn(struct work_struct *work)
{
	struct file *vm = NULL;

	mutex_lock(&ve_lock);
	if (ve_ride_vm && !ve_nr_system_users && !atomic_read(&ve_ride_cpus)) {
		vm = ve_ride_vm;
		ve_ride_vm = NULL;
	}
	mutex_unlock(&ve_lock);
	if (!vm)
		return;
	fput(vm);
	flush_delayed_fput();
}

/* After the last system-wide reference went: see ve_ride_release_fn(). */
void ve_ride_unhold(void)
{
	if (READ_ONCE(ve_ride_vm))
		schedule_work(&ve_ride_release_work);
}

/*
 * Called without ve_lock after a put that may have released the held VM:
 * the hardware is where KVM alone wants it when the put returns, as it
 * would be off when virt_enable switches itself.
 */
void ve_ride_flush(void)
{
	flush_work(&ve_ride_release_work);
}

/**
 * ve_ride_cpu_on() - rely on KVM's hardware on this CPU
 *
 * Called with interrupts disabled where the core would enable the
 * hardware.  KVM must have it on here: it turns it on for CPUs coming
 * online before virt_enable's hotplug step, and for resume before
 * virt_enable's syscore resume (ve_syscore_reorder()).
 *
 * Return: 0 with the KVM module pinned; -ENODEV where KVM has the hardware
 * off (enable_virt_at_load=0 or 6.1, without a system-wide reference) or
 * is going away.
 */
int ve_ride_cpu_on(void)
{
	struct module *kvm = READ_ONCE(ve_ride_kvm);

	if (!kvm || !try_module_get(kvm))
		return -ENODEV;
	if (!ve_vendor->cpu_is_on()) {
		module_put(kvm);
		return -ENODEV;
	}
	atomic_inc(&ve_ride_cpus);
	return 0;
}

/* Undo ve_ride_cpu_on(); KVM turns the hardware off when it is done with it. */
void ve_ride_cpu_off(void)
{
	struct module *kvm = READ_ONCE(ve_ride_kvm);

	if (atomic_dec_and_test(&ve_ride_cpus))
		ve_ride_unhold();
	module_put(kvm);
}

/**
 * ve_ride_start() - ride @kvm from now on
 * @kvm: an unmodified KVM vendor module, loaded or being loaded.
 *
 * Called with ve_lock held while no CPU is on for virt_enable's users.
 */
void ve_ride_start(struct module *kvm)
{
	lockdep_assert_held(&ve_lock);

	WRITE_ONCE(ve_ride_kvm, kvm);
	schedule_work(&ve_ride_reorder_work);
	pr_info("riding %s: it switches %s, virt_enable's users share it\n",
		module_name(kvm), ve_vendor->name);
}

/* The KVM ridden is going: virt_enable switches the hardware itself again. */
void ve_ride_stop(void)
{
	struct module *kvm = ve_ride_kvm;

	lockdep_assert_held(&ve_lock);

	WARN_ON(ve_ride_vm || atomic_read(&ve_ride_cpus));
	/* Armed, virt_enable owns what it turns on from now on, and the hook. */
	if (ve_armed)
		ve_emergency_hook_claim();
	WRITE_ONCE(ve_ride_kvm, NULL);
	schedule_work(&ve_ride_reorder_work);
	pr_info("%s is gone: virt_enable switches %s itself again\n",
		module_name(kvm), ve_vendor->name);
}

/* Before the hooks go: nothing may move them any more. */
void ve_ride_exit(void)
{
	cancel_work_sync(&ve_ride_reorder_work);
	flush_work(&ve_ride_release_work);
}

bool ve_ride_holds_vm(void)
{
	return READ_ONCE(ve_ride_vm);
}
