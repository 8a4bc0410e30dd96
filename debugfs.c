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
 * offline and online, since a shell does not manage CPU hotplug.  The
 * command grammar is in Documentation/admin-guide/virt_enable.rst;
 * anything else is -EINVAL and changes nothing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cpu.h>
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

struct ve_control {
	struct mutex lock;		/* one command at a time per file */
	struct virt_enable_user *user;	/* registered on first command */
	pid_t opener;			/* names the user, */
	unsigned int serial;		/* with this opening's number */
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

static int ve_run_command(struct virt_enable_user *user,
			  const struct ve_command *cmd)
{
	struct ve_cpu_call call = { .user = user, .cmd = cmd };

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
	cpus_read_unlock();
	return call.result;
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
	mutex_init(&ctl->lock);
	ctl->opener = task_tgid_vnr(current);
	ctl->serial = atomic_inc_return(&ve_control_opened);

	r = single_open(file, ve_control_show, ctl);
	if (r)
		kfree(ctl);
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
		r = ve_run_command(ctl->user, &cmd);
	} else {
		char name[VIRT_ENABLE_NAME_LEN];
		struct virt_enable_user *user;

		snprintf(name, sizeof(name), "debugfs:pid %d #%u", ctl->opener,
			 ctl->serial);
		user = ve_register(name, NULL, NULL, VE_USER_FOLLOW_ONLINE);
		r = PTR_ERR_OR_ZERO(user);
		if (!r)
			r = ve_run_command(user, &cmd);
		/* A failed command leaves no trace, not even its user. */
		if (!r)
			ctl->user = user;
		else if (!IS_ERR(user))
			ve_unregister(user);
	}
	mutex_unlock(&ctl->lock);
	return r ? r : len;
}

static int ve_control_release(struct inode *inode, struct file *file)
{
	struct ve_control *ctl = ((struct seq_file *)file->private_data)->private;

	if (ctl->user)
		ve_unregister(ctl->user);
	mutex_destroy(&ctl->lock);
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
	ve_debugfs_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("state", 0400, ve_debugfs_dir, NULL, &ve_state_fops);
	debugfs_create_file("control", 0600, ve_debugfs_dir, NULL,
			    &ve_control_fops);
}

void ve_debugfs_exit(void)
{
	debugfs_remove_recursive(ve_debugfs_dir);
}
