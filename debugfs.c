// SPDX-License-Identifier: GPL-2.0-only
/*
 * debugfs interface of virt_enable, for tests and inspection, root only:
 *
 *   /sys/kernel/debug/virt_enable/state    read: the whole state
 *   /sys/kernel/debug/virt_enable/control  write: take and drop references
 *
 * Each open control file is its own user, "debugfs:pid N #K" after the
 * process that opened it and the K-th opening of the file since load,
 * registered by its first successful command; closing the file (or the
 * death of its last holder) drops everything it took, so a crashed test
 * never leaks a reference.  Its per-CPU references follow the CPU going
 * offline and online, since a shell does not manage CPU hotplug: this
 * file's own hotplug state, which runs after the core's when a CPU comes
 * online and before it when one goes, puts them on the outgoing CPU and
 * takes them again when it is back.  The command grammar is in
 * Documentation/admin-guide/virt_enable.rst; anything else is -EINVAL and
 * changes nothing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/cpumask.h>
#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "internal.h"

/* Longest command, without the optional trailing newline. */
#define VE_CMD_MAX	64

/*
 * @refs: per CPU, the per-CPU references the holder has asked for there
 * and not put; held in the core while the CPU is online.  Written only
 * with the CPU hotplug lock held (by commands, for reading) or taken (by
 * the hotplug callbacks), so the two never race.
 */
struct ve_control {
	struct mutex lock;		/* one command at a time per file */
	struct virt_enable_user *user;	/* registered on first command */
	pid_t opener;			/* names the user, */
	unsigned int serial;		/* with this opening's number */
	struct list_head node;		/* in ve_controls once it has a user */
	unsigned int *refs;		/* nr_cpu_ids entries */
};

struct ve_command {
	bool get;
	enum ve_ref_kind kind;
	enum virt_enable_feature feature;
	unsigned int cpu;
};

static const struct {
	const char *verb;
	bool get;
	enum ve_ref_kind kind;
} ve_verbs[] = {
	{ "get",		true,	VE_REF_SYSTEM },
	{ "put",		false,	VE_REF_SYSTEM },
	{ "get-permanent",	true,	VE_REF_PERMANENT },
	{ "get-cpu",		true,	VE_REF_CPU },
	{ "put-cpu",		false,	VE_REF_CPU },
};

static struct dentry *ve_debugfs_dir;
static atomic_t ve_control_opened = ATOMIC_INIT(0);
static int ve_debugfs_hotplug_state;

/* Controls with a user; nests inside the CPU hotplug lock. */
static DEFINE_MUTEX(ve_controls_lock);
static LIST_HEAD(ve_controls);

static int ve_parse_cpu(const char *word, unsigned int *cpu)
{
	const char *c;

	for (c = word; *c; c++)
		if (!isdigit(*c))
			return -EINVAL;
	if (kstrtouint(word, 10, cpu) || *cpu >= nr_cpu_ids ||
	    !cpu_possible(*cpu))
		return -EINVAL;
	return 0;
}

/* "VERB FEATURE [CPU]": single spaces, optional final newline, nothing else. */
static int ve_parse_command(char *line, struct ve_command *cmd)
{
	char *words[4];
	int nr_words = 0, i;
	char *word;

	while ((word = strsep(&line, " ")) != NULL) {
		if (!*word || nr_words == ARRAY_SIZE(words))
			return -EINVAL;
		words[nr_words++] = word;
	}
	if (nr_words < 2)
		return -EINVAL;

	for (i = 0; i < ARRAY_SIZE(ve_verbs); i++)
		if (!strcmp(words[0], ve_verbs[i].verb))
			break;
	if (i == ARRAY_SIZE(ve_verbs))
		return -EINVAL;
	cmd->get = ve_verbs[i].get;
	cmd->kind = ve_verbs[i].kind;

	if (ve_feature_parse(words[1], &cmd->feature))
		return -EINVAL;

	if (cmd->kind != VE_REF_CPU)
		return nr_words == 2 ? 0 : -EINVAL;
	if (nr_words != 3)
		return -EINVAL;
	return ve_parse_cpu(words[2], &cmd->cpu);
}

struct ve_cpu_call {
	struct virt_enable_user *user;
	const struct ve_command *cmd;
	int result;
};

static void ve_cpu_call(void *arg)
{
	struct ve_cpu_call *call = arg;
	const struct ve_command *cmd = call->cmd;

	if (cmd->get)
		call->result = ve_get(call->user, cmd->feature, cmd->kind);
	else
		call->result = ve_put(call->user, cmd->feature, cmd->kind);
}

static int ve_run_command(struct ve_control *ctl, const struct ve_command *cmd)
{
	struct ve_cpu_call call = { .user = ctl->user, .cmd = cmd };

	if (cmd->kind != VE_REF_CPU) {
		ve_cpu_call(&call);
		return call.result;
	}

	/* Per-CPU references are taken on their CPU, which must stay online. */
	cpus_read_lock();
	if (cpu_online(cmd->cpu))
		smp_call_function_single(cmd->cpu, ve_cpu_call, &call, 1);
	else
		call.result = -ENODEV;
	if (!call.result)
		ctl->refs[cmd->cpu] += cmd->get ? 1 : -1;
	cpus_read_unlock();
	return call.result;
}

/* Put (@get false) or take again the holders' references on this CPU. */
static void ve_controls_follow(unsigned int cpu, bool get)
{
	enum virt_enable_feature feature = virt_enable_feature();
	struct ve_control *ctl;
	unsigned int i;
	int r;

	mutex_lock(&ve_controls_lock);
	list_for_each_entry(ctl, &ve_controls, node) {
		for (i = 0; i < ctl->refs[cpu]; i++) {
			if (!get) {
				ve_put(ctl->user, feature, VE_REF_CPU);
				continue;
			}
			r = ve_get(ctl->user, feature, VE_REF_CPU);
			if (r) {
				pr_warn("CPU %u back online: \"%s\" loses its %u per-CPU references there: %pe\n",
					cpu, ctl->user->name, ctl->refs[cpu] - i, ERR_PTR(r));
				ctl->refs[cpu] = i;
			}
		}
	}
	mutex_unlock(&ve_controls_lock);
}

static int ve_debugfs_cpu_online(unsigned int cpu)
{
	ve_controls_follow(cpu, true);
	return 0;
}

static int ve_debugfs_cpu_offline(unsigned int cpu)
{
	ve_controls_follow(cpu, false);
	return 0;
}

static void ve_put_cpu_refs_ipi(void *arg)
{
	struct ve_control *ctl = arg;
	unsigned int cpu = smp_processor_id();

	for (; ctl->refs[cpu]; ctl->refs[cpu]--)
		ve_put(ctl->user, virt_enable_feature(), VE_REF_CPU);
}

/* Put every per-CPU reference of @ctl's user and forget it. */
static void ve_control_end(struct ve_control *ctl)
{
	cpus_read_lock();
	mutex_lock(&ve_controls_lock);
	list_del(&ctl->node);
	mutex_unlock(&ve_controls_lock);
	on_each_cpu(ve_put_cpu_refs_ipi, ctl, 1);
	cpus_read_unlock();
	ve_unregister(ctl->user);
	ctl->user = NULL;
}

static int ve_control_show(struct seq_file *m, void *unused)
{
	struct ve_control *ctl = m->private;

	mutex_lock(&ctl->lock);
	if (ctl->user)
		ve_user_show(m, ctl->user);
	else
		seq_puts(m, "user none\n");
	mutex_unlock(&ctl->lock);
	return 0;
}

static int ve_control_open(struct inode *inode, struct file *file)
{
	struct ve_control *ctl;
	int r;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;

	ctl = kzalloc(sizeof(*ctl), GFP_KERNEL);
	if (!ctl)
		return -ENOMEM;
	ctl->refs = kcalloc(nr_cpu_ids, sizeof(*ctl->refs), GFP_KERNEL);
	if (!ctl->refs) {
		kfree(ctl);
		return -ENOMEM;
	}
	mutex_init(&ctl->lock);
	ctl->opener = task_tgid_vnr(current);
	ctl->serial = atomic_inc_return(&ve_control_opened);

	r = single_open(file, ve_control_show, ctl);
	if (r) {
		kfree(ctl->refs);
		kfree(ctl);
	}
	return r;
}

static ssize_t ve_control_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *ppos)
{
	struct ve_control *ctl = ((struct seq_file *)file->private_data)->private;
	char line[VE_CMD_MAX + 2];
	struct ve_command cmd;
	size_t n = len;
	int r;

	if (!len || len > VE_CMD_MAX + 1)
		return -EINVAL;
	if (copy_from_user(line, ubuf, len))
		return -EFAULT;
	line[len] = '\0';
	if (line[n - 1] == '\n')
		line[--n] = '\0';
	if (!n || n > VE_CMD_MAX || strlen(line) != n)
		return -EINVAL;

	r = ve_parse_command(line, &cmd);
	if (r)
		return r;

	mutex_lock(&ctl->lock);
	if (ctl->user) {
		r = ve_run_command(ctl, &cmd);
	} else {
		char name[VIRT_ENABLE_NAME_LEN];

		snprintf(name, sizeof(name), "debugfs:pid %d #%u", ctl->opener,
			 ctl->serial);
		ctl->user = virt_enable_register(name, NULL, NULL);
		r = PTR_ERR_OR_ZERO(ctl->user);
		if (r) {
			ctl->user = NULL;
		} else {
			mutex_lock(&ve_controls_lock);
			list_add_tail(&ctl->node, &ve_controls);
			mutex_unlock(&ve_controls_lock);
			r = ve_run_command(ctl, &cmd);
			/* A failed command leaves no trace, not even its user. */
			if (r)
				ve_control_end(ctl);
		}
	}
	mutex_unlock(&ctl->lock);
	return r ? r : len;
}

static int ve_control_release(struct inode *inode, struct file *file)
{
	struct ve_control *ctl = ((struct seq_file *)file->private_data)->private;

	if (ctl->user)
		ve_control_end(ctl);
	mutex_destroy(&ctl->lock);
	kfree(ctl->refs);
	kfree(ctl);
	return single_release(inode, file);
}

static const struct file_operations ve_control_fops = {
	.owner = THIS_MODULE,
	.open = ve_control_open,
	.read = seq_read,
	.write = ve_control_write,
	.llseek = seq_lseek,
	.release = ve_control_release,
};

static int ve_state_file_show(struct seq_file *m, void *unused)
{
	ve_state_show(m);
	return 0;
}

static int ve_state_open(struct inode *inode, struct file *file)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return single_open(file, ve_state_file_show, NULL);
}

static const struct file_operations ve_state_fops = {
	.owner = THIS_MODULE,
	.open = ve_state_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
};

void ve_debugfs_init(void)
{
	int r;

	/* After the core's own online state, so running after it on the way up. */
	r = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, KBUILD_MODNAME ":debugfs",
				      ve_debugfs_cpu_online, ve_debugfs_cpu_offline);
	if (r < 0) {
		pr_warn("no debugfs controls: no CPU hotplug state for them: %pe\n",
			ERR_PTR(r));
		return;
	}
	ve_debugfs_hotplug_state = r;
	ve_debugfs_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("state", 0400, ve_debugfs_dir, NULL, &ve_state_fops);
	debugfs_create_file("control", 0600, ve_debugfs_dir, NULL,
			    &ve_control_fops);
}

void ve_debugfs_exit(void)
{
	debugfs_remove_recursive(ve_debugfs_dir);
	if (ve_debugfs_hotplug_state > 0)
		cpuhp_remove_state_nocalls(ve_debugfs_hotplug_state);
}
