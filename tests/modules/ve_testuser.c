// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test-only module: in-kernel virt_enable users with every callback, driven
 * from debugfs, for the in-guest suites that need what a debugfs holder
 * cannot do (veto a suspend, hear of an emergency).
 *
 *   /sys/kernel/debug/ve_testuser/control, one command per write:
 *     register NAME [veto] [emergency] [disabling]
 *                                        a user; "veto" vetoes suspends,
 *                                        "emergency" logs its emergencies,
 *                                        "disabling" its ->cpu_disabling
 *                                        (a kexec leaves only the serial
 *                                        log to tell)
 *     get NAME | put NAME                a system-wide reference
 *     hammer NAME MS                     per-CPU references from threads
 *                                        and interrupts, see ve_tu_hammer()
 *     hammer-stop                        wait for the hammer to end
 *     unregister NAME
 *   reading it lists the users with what their callbacks counted.
 *
 * The emergency callback records, in NMI context, what the hardware says on
 * its CPU at that moment, and logs what every CPU recorded so far:
 * "ve_testuser: emergency: user NAME cpu N vmx|svm on|off".
 * After a crash the capture kernel finds those lines in the first
 * kernel's log, read back from /proc/vmcore.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <asm/msr.h>
#include <asm/special_insns.h>

#include "../../virt_enable.h"

#define VE_TU_MAX	4

struct ve_tu {
	struct virt_enable_user *user;
	char name[VIRT_ENABLE_NAME_LEN];
	bool veto;
	bool log_emergency, log_disabling;
	u8 seen[NR_CPUS];	/* per CPU: 0 no emergency yet, 1 it saw off, 2 on */
	unsigned int refs;
	atomic_t enabled, disabling, suspends, resumes, emergencies;
	atomic_t enabled_hw_off, disabling_hw_off;	/* callbacks that saw it off */
	atomic_t hammer_gets, hammer_irq_gets, hammer_bad, hammer_errors;
};

static struct ve_tu ve_tus[VE_TU_MAX];
static DEFINE_MUTEX(ve_tu_lock);
static struct dentry *ve_tu_dir;

static bool ve_tu_hw_on(void)
{
	u64 efer;

	if (virt_enable_feature() == VIRT_ENABLE_VMX)
		return __read_cr4() & X86_CR4_VMXE;
	return !rdmsrl_safe(MSR_EFER, &efer) && (efer & EFER_SVME);
}

static int ve_tu_enabled(unsigned int cpu, void *data)
{
	struct ve_tu *tu = data;

	atomic_inc(&tu->enabled);
	if (!ve_tu_hw_on())
		atomic_inc(&tu->enabled_hw_off);
	return 0;
}

static void ve_tu_disabling(unsigned int cpu, void *data)
{
	struct ve_tu *tu = data;

	atomic_inc(&tu->disabling);
	if (!ve_tu_hw_on())
		atomic_inc(&tu->disabling_hw_off);
	if (tu->log_disabling)
		pr_info("disabling: user %s cpu %u %s %s\n", tu->name, cpu,
			virt_enable_feature() == VIRT_ENABLE_VMX ? "vmx" : "svm",
			ve_tu_hw_on() ? "on" : "off");
}

static int ve_tu_suspend(void *data)
{
	struct ve_tu *tu = data;

	atomic_inc(&tu->suspends);
	if (tu->veto) {
		pr_info("user %s vetoes the suspend\n", tu->name);
		return -EBUSY;
	}
	return 0;
}

static void ve_tu_resume(void *data)
{
	struct ve_tu *tu = data;

	atomic_inc(&tu->resumes);
}

static void ve_tu_emergency(void *data)
{
	const char *feature = virt_enable_feature() == VIRT_ENABLE_VMX ? "vmx" : "svm";
	struct ve_tu *tu = data;
	int cpu;

	atomic_inc(&tu->emergencies);
	if (!tu->log_emergency)
		return;
	WRITE_ONCE(tu->seen[raw_smp_processor_id()], ve_tu_hw_on() ? 2 : 1);
	/*
	 * Since 6.7 printk drops what other CPUs say once one has panicked;
	 * the panicking CPU's callback runs last, after the NMI shootdown of
	 * the others, so each CPU reports what every CPU saw so far.
	 */
	for_each_possible_cpu(cpu) {
		u8 seen = READ_ONCE(tu->seen[cpu]);

		if (seen)
			pr_emerg("emergency: user %s cpu %d %s %s\n", tu->name,
				 cpu, feature, seen == 2 ? "on" : "off");
	}
}

static const struct virt_enable_user_ops ve_tu_ops = {
	.cpu_enabled = ve_tu_enabled,
	.cpu_disabling = ve_tu_disabling,
	.suspend = ve_tu_suspend,
	.resume = ve_tu_resume,
	.emergency = ve_tu_emergency,
};

/*
 * "hammer NAME MS": for MS milliseconds, take and drop per-CPU references
 * as NAME from process context (a kthread per online CPU, unbound, each
 * holding its reference across a short delay) and from interrupt context
 * (a pinned hrtimer per online CPU, every 50 us, nesting a get and put
 * inside whatever the interrupted kthread holds), checking after every
 * successful get that the hardware is on where the caller runs.  It runs
 * in the background (a writer blocked here would hold up the freezer of a
 * suspend); "hammer-stop" waits for it to end and logs the counts, which
 * are also on the user's line.
 */
#define VE_TU_HAMMER_PERIOD_NS	(50 * NSEC_PER_USEC)
#define VE_TU_LINGER_US		20	/* a thread holds its reference */

struct ve_tu_hammer {
	struct ve_tu *tu;
	unsigned long until;	/* jiffies */
	struct hrtimer timer;
	struct task_struct *thread;
};

static DEFINE_PER_CPU(struct ve_tu_hammer, ve_tu_hammers);
static struct ve_tu *ve_tu_hammering;	/* under ve_tu_lock */

/* One get, the check, one put, on this CPU; preemption disabled. */
static void ve_tu_hammer_once(struct ve_tu *tu, bool irq, bool linger)
{
	enum virt_enable_feature f = virt_enable_feature();
	int r = virt_enable_get_cpu(tu->user, f);

	if (r) {
		atomic_inc(&tu->hammer_errors);
		return;
	}
	if (linger)
		udelay(VE_TU_LINGER_US);
	if (!ve_tu_hw_on())
		atomic_inc(&tu->hammer_bad);
	atomic_inc(irq ? &tu->hammer_irq_gets : &tu->hammer_gets);
	virt_enable_put_cpu(tu->user, f);
}

static enum hrtimer_restart ve_tu_hammer_tick(struct hrtimer *timer)
{
	struct ve_tu_hammer *h = container_of(timer, struct ve_tu_hammer, timer);

	ve_tu_hammer_once(h->tu, true, false);
	if (time_after(jiffies, h->until))
		return HRTIMER_NORESTART;
	hrtimer_forward_now(timer, ns_to_ktime(VE_TU_HAMMER_PERIOD_NS));
	return HRTIMER_RESTART;
}

static int ve_tu_hammer_thread(void *data)
{
	struct ve_tu_hammer *h = data;

	while (!kthread_should_stop()) {
		if (time_after(jiffies, h->until)) {
			msleep(20);
			continue;
		}
		preempt_disable();
		ve_tu_hammer_once(h->tu, false, true);
		preempt_enable();
		cond_resched();
	}
	return 0;
}

static void ve_tu_hammer_arm(void *unused)
{
	struct ve_tu_hammer *h = this_cpu_ptr(&ve_tu_hammers);

	hrtimer_start(&h->timer, ns_to_ktime(VE_TU_HAMMER_PERIOD_NS),
		      HRTIMER_MODE_REL_PINNED);
}

static void ve_tu_hammer_stop(void)
{
	struct ve_tu *tu = ve_tu_hammering;
	int cpu;

	if (!tu)
		return;
	for_each_possible_cpu(cpu) {
		struct ve_tu_hammer *h = per_cpu_ptr(&ve_tu_hammers, cpu);

		WRITE_ONCE(h->until, jiffies - 1);
		if (h->thread)
			kthread_stop(h->thread);
		h->thread = NULL;
		hrtimer_cancel(&h->timer);
	}
	ve_tu_hammering = NULL;
	pr_info("hammer %s: %d gets in threads, %d in interrupts, %d with the hardware off, %d refused\n",
		tu->name, atomic_read(&tu->hammer_gets), atomic_read(&tu->hammer_irq_gets),
		atomic_read(&tu->hammer_bad), atomic_read(&tu->hammer_errors));
}

static int ve_tu_hammer(struct ve_tu *tu, unsigned int ms)
{
	unsigned long until = jiffies + msecs_to_jiffies(ms);
	int cpu;

	if (ve_tu_hammering)
		return -EBUSY;
	ve_tu_hammering = tu;
	for_each_possible_cpu(cpu) {
		struct ve_tu_hammer *h = per_cpu_ptr(&ve_tu_hammers, cpu);

		h->tu = tu;
		h->until = until;
		h->thread = NULL;
		hrtimer_init(&h->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED);
		h->timer.function = ve_tu_hammer_tick;
	}
	for_each_online_cpu(cpu) {
		struct ve_tu_hammer *h = per_cpu_ptr(&ve_tu_hammers, cpu);
		struct task_struct *t;

		t = kthread_run(ve_tu_hammer_thread, h, "ve_hammer/%d", cpu);
		if (IS_ERR(t)) {
			ve_tu_hammer_stop();
			return PTR_ERR(t);
		}
		h->thread = t;
	}
	on_each_cpu(ve_tu_hammer_arm, NULL, 1);
	return 0;
}

static struct ve_tu *ve_tu_find(const char *name)
{
	int i;

	for (i = 0; i < VE_TU_MAX; i++)
		if (ve_tus[i].user && !strcmp(ve_tus[i].name, name))
			return &ve_tus[i];
	return NULL;
}

static int ve_tu_register(char *args)
{
	char *name = strsep(&args, " "), *flag;
	struct virt_enable_user *user;
	struct ve_tu *tu = NULL;
	int i;

	if (!name || !*name || ve_tu_find(name))
		return -EINVAL;
	for (i = 0; i < VE_TU_MAX && !tu; i++)
		if (!ve_tus[i].user)
			tu = &ve_tus[i];
	if (!tu)
		return -ENOSPC;
	memset(tu, 0, sizeof(*tu));
	strscpy(tu->name, name, sizeof(tu->name));
	while ((flag = strsep(&args, " "))) {
		if (!strcmp(flag, "veto"))
			tu->veto = true;
		else if (!strcmp(flag, "emergency"))
			tu->log_emergency = true;
		else if (!strcmp(flag, "disabling"))
			tu->log_disabling = true;
		else
			return -EINVAL;
	}
	user = virt_enable_register(name, &ve_tu_ops, tu);
	if (IS_ERR(user))
		return PTR_ERR(user);
	tu->user = user;
	return 0;
}

static void ve_tu_unregister(struct ve_tu *tu)
{
	if (ve_tu_hammering == tu)
		ve_tu_hammer_stop();
	while (tu->refs) {
		virt_enable_put(tu->user, virt_enable_feature());
		tu->refs--;
	}
	virt_enable_unregister(tu->user);
	tu->user = NULL;
}

static ssize_t ve_tu_write(struct file *file, const char __user *ubuf,
			   size_t len, loff_t *ppos)
{
	char buf[80], *args = buf, *verb;
	struct ve_tu *tu;
	int r;

	if (!len || len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	strim(buf);
	verb = strsep(&args, " ");

	mutex_lock(&ve_tu_lock);
	if (!strcmp(verb, "register")) {
		r = args ? ve_tu_register(args) : -EINVAL;
	} else if (!strcmp(verb, "hammer-stop")) {
		ve_tu_hammer_stop();
		r = 0;
	} else if (!strcmp(verb, "hammer")) {
		char *name = strsep(&args, " ");
		unsigned int ms;

		tu = name ? ve_tu_find(name) : NULL;
		r = tu && args && !kstrtouint(args, 10, &ms) && ms && ms <= 600000 ?
			ve_tu_hammer(tu, ms) : -EINVAL;
	} else {
		tu = args ? ve_tu_find(args) : NULL;
		r = tu ? 0 : -EINVAL;
		if (!r && !strcmp(verb, "get")) {
			r = virt_enable_get(tu->user, virt_enable_feature());
			tu->refs += !r;
		} else if (!r && !strcmp(verb, "put") && tu->refs) {
			virt_enable_put(tu->user, virt_enable_feature());
			tu->refs--;
		} else if (!r && !strcmp(verb, "unregister")) {
			ve_tu_unregister(tu);
		} else if (!r) {
			r = -EINVAL;
		}
	}
	mutex_unlock(&ve_tu_lock);
	return r ? r : len;
}

static int ve_tu_show(struct seq_file *m, void *unused)
{
	int i;

	mutex_lock(&ve_tu_lock);
	for (i = 0; i < VE_TU_MAX; i++) {
		struct ve_tu *tu = &ve_tus[i];

		if (!tu->user)
			continue;
		seq_printf(m, "%s refs %u enabled %d disabling %d suspends %d resumes %d emergencies %d hammer_gets %d hammer_irq_gets %d hammer_bad %d hammer_errors %d enabled_hw_off %d disabling_hw_off %d\n",
			   tu->name, tu->refs, atomic_read(&tu->enabled),
			   atomic_read(&tu->disabling), atomic_read(&tu->suspends),
			   atomic_read(&tu->resumes), atomic_read(&tu->emergencies),
			   atomic_read(&tu->hammer_gets), atomic_read(&tu->hammer_irq_gets),
			   atomic_read(&tu->hammer_bad), atomic_read(&tu->hammer_errors),
			   atomic_read(&tu->enabled_hw_off),
			   atomic_read(&tu->disabling_hw_off));
	}
	mutex_unlock(&ve_tu_lock);
	return 0;
}

static int ve_tu_open(struct inode *inode, struct file *file)
{
	return single_open(file, ve_tu_show, NULL);
}

static const struct file_operations ve_tu_fops = {
	.owner = THIS_MODULE,
	.open = ve_tu_open,
	.read = seq_read,
	.write = ve_tu_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static int __init ve_tu_init(void)
{
	ve_tu_dir = debugfs_create_dir("ve_testuser", NULL);
	debugfs_create_file("control", 0600, ve_tu_dir, NULL, &ve_tu_fops);
	return 0;
}

static void __exit ve_tu_exit(void)
{
	int i;

	debugfs_remove_recursive(ve_tu_dir);
	for (i = 0; i < VE_TU_MAX; i++)
		if (ve_tus[i].user)
			ve_tu_unregister(&ve_tus[i]);
}

module_init(ve_tu_init);
module_exit(ve_tu_exit);
MODULE_DESCRIPTION("virt_enable test users with every callback");
MODULE_LICENSE("GPL");
