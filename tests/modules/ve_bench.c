// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test-only module: what virt_enable's references cost, each against an
 * anchor measured in the same run on the same machine.
 *
 *   echo "ROUNDS" >/sys/kernel/debug/ve_bench/run; cat .../run
 *
 * prints one line per measurement, "NAME median_ns N anchor_ns N ratio R"
 * (ratio in hundredths, as an integer):
 *
 *   cold_get   the first system-wide get (hardware on every online CPU)
 *              vs a bare on_each_cpu() of the vendor's enable;
 *   hot_pair   get+put with the hardware already on vs a mutex lock+unlock;
 *   cpu_pair   per-CPU get+put on an already-on CPU vs a preemption-off
 *              per-CPU increment and decrement, the cost of upstream's
 *              x86_virt_get_ref() design;
 *   window     an empty window, virt_enable_window_open() + close(), under
 *              a system-wide reference vs the interrupt save/restore pair
 *              every window needs (VMPTRST + VMPTRLD, or reading and
 *              writing MSR_VM_HSAVE_PA, is the rest).
 *
 * Medians of ROUNDS repetitions.  It needs the KUnit-only exports (the
 * vendor ops) of a test kernel, and an idle virt_enable.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/debugfs.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>

#include "../../internal.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define VE_BENCH_PAIRS	64	/* pairs timed together, per round */

struct ve_bench_result {
	const char *name;
	u64 median;
	u64 anchor;
};

static struct ve_bench_result ve_results[4];
static unsigned int ve_rounds;
static int ve_error;
static DEFINE_MUTEX(ve_bench_lock);
static DEFINE_MUTEX(ve_anchor_lock);
static DEFINE_PER_CPU(unsigned long, ve_bench_counter);
static struct dentry *ve_bench_dir;

static int ve_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static u64 ve_median(u64 *samples, unsigned int n)
{
	sort(samples, n, sizeof(*samples), ve_cmp_u64, NULL);
	return samples[n / 2];
}

static void ve_bare_enable(void *error)
{
	int r = ve_vendor->enable_cpu();

	if (r)
		*(int *)error = r;
}

static void ve_bare_disable(void *unused)
{
	ve_vendor->disable_cpu();
}

/* The anchor of cold_get: the vendor's enable broadcast, nothing else. */
static int ve_bench_bare(u64 *ns)
{
	int cpu, error = 0;
	u64 t;

	cpus_read_lock();
	for_each_online_cpu(cpu) {
		error = ve_vendor->alloc_cpu ? ve_vendor->alloc_cpu(cpu) : 0;
		if (error)
			goto out;
	}
	t = ktime_get_ns();
	on_each_cpu(ve_bare_enable, &error, 1);
	*ns = ktime_get_ns() - t;
	on_each_cpu(ve_bare_disable, NULL, 1);
	if (ve_vendor->free_cpu)
		for_each_online_cpu(cpu)
			ve_vendor->free_cpu(cpu);
out:
	cpus_read_unlock();
	return error;
}

static void ve_per_cpu_pairs(void *arg)
{
	struct virt_enable_user *user = arg;
	int i;

	for (i = 0; i < VE_BENCH_PAIRS; i++) {
		virt_enable_get_cpu(user, ve_vendor->feature);
		virt_enable_put_cpu(user, ve_vendor->feature);
	}
}

static int ve_bench_run(unsigned int rounds)
{
	enum virt_enable_feature f = ve_vendor->feature;
	struct virt_enable_user *a, *b;
	u64 *cold, *bare, *hot, *mtx, *cpu_ref, *cpu_inc, *window, *irqs, t;
	struct virt_enable_window w;
	unsigned long flags;
	unsigned int i, j;
	int r = -ENOMEM;

	cold = kcalloc(8 * rounds, sizeof(u64), GFP_KERNEL);
	if (!cold)
		return r;
	bare = cold + rounds;
	hot = bare + rounds;
	mtx = hot + rounds;
	cpu_ref = mtx + rounds;
	cpu_inc = cpu_ref + rounds;
	window = cpu_inc + rounds;
	irqs = window + rounds;

	a = virt_enable_register("bench-a", NULL, NULL);
	b = virt_enable_register("bench-b", NULL, NULL);
	r = PTR_ERR_OR_ZERO(a) ?: PTR_ERR_OR_ZERO(b);
	if (r)
		goto out;

	for (i = 0; i < rounds && !r; i++) {
		t = ktime_get_ns();
		r = virt_enable_get(a, f);
		cold[i] = ktime_get_ns() - t;
		if (r)
			break;
		virt_enable_put(a, f);
	}
	/* virt_enable idle again (b holds nothing): the bare broadcast. */
	for (i = 0; i < rounds && !r; i++)
		r = ve_bench_bare(&bare[i]);

	/* Already on: a holds, b comes and goes. */
	if (!r)
		r = virt_enable_get(a, f);
	for (i = 0; i < rounds && !r; i++) {
		t = ktime_get_ns();
		for (j = 0; j < VE_BENCH_PAIRS; j++) {
			virt_enable_get(b, f);
			virt_enable_put(b, f);
		}
		hot[i] = ktime_get_ns() - t;
		t = ktime_get_ns();
		for (j = 0; j < VE_BENCH_PAIRS; j++) {
			mutex_lock(&ve_anchor_lock);
			mutex_unlock(&ve_anchor_lock);
		}
		mtx[i] = ktime_get_ns() - t;
		t = ktime_get_ns();
		preempt_disable();
		ve_per_cpu_pairs(b);
		preempt_enable();
		cpu_ref[i] = ktime_get_ns() - t;
		t = ktime_get_ns();
		preempt_disable();
		for (j = 0; j < VE_BENCH_PAIRS; j++) {
			this_cpu_inc(ve_bench_counter);
			barrier();
			this_cpu_dec(ve_bench_counter);
		}
		preempt_enable();
		cpu_inc[i] = ktime_get_ns() - t;
		/* a's system-wide reference covers every CPU. */
		t = ktime_get_ns();
		for (j = 0; j < VE_BENCH_PAIRS && !r; j++) {
			r = virt_enable_window_open(a, &w);
			if (!r)
				virt_enable_window_close(&w);
		}
		window[i] = ktime_get_ns() - t;
		t = ktime_get_ns();
		for (j = 0; j < VE_BENCH_PAIRS; j++) {
			local_irq_save(flags);
			barrier();
			local_irq_restore(flags);
		}
		irqs[i] = ktime_get_ns() - t;
	}
	if (!IS_ERR(a) && a->nr_refs)
		virt_enable_put(a, f);
	if (!r) {
		ve_results[0] = (struct ve_bench_result) { "cold_get",
			ve_median(cold, rounds), ve_median(bare, rounds) };
		ve_results[1] = (struct ve_bench_result) { "hot_pair",
			ve_median(hot, rounds) / VE_BENCH_PAIRS,
			ve_median(mtx, rounds) / VE_BENCH_PAIRS };
		ve_results[2] = (struct ve_bench_result) { "cpu_pair",
			ve_median(cpu_ref, rounds) / VE_BENCH_PAIRS,
			ve_median(cpu_inc, rounds) / VE_BENCH_PAIRS };
		ve_results[3] = (struct ve_bench_result) { "window",
			ve_median(window, rounds) / VE_BENCH_PAIRS,
			ve_median(irqs, rounds) / VE_BENCH_PAIRS };
		ve_rounds = rounds;
	}
out:
	if (!IS_ERR_OR_NULL(b))
		virt_enable_unregister(b);
	if (!IS_ERR_OR_NULL(a))
		virt_enable_unregister(a);
	kfree(cold);
	return r;
}

static ssize_t ve_bench_write(struct file *file, const char __user *ubuf,
			      size_t len, loff_t *ppos)
{
	unsigned int rounds;
	int r;

	r = kstrtouint_from_user(ubuf, len, 10, &rounds);
	if (r || !rounds || rounds > 10000)
		return -EINVAL;
	mutex_lock(&ve_bench_lock);
	ve_error = ve_bench_run(rounds);
	mutex_unlock(&ve_bench_lock);
	return ve_error ?: len;
}

static int ve_bench_show(struct seq_file *m, void *unused)
{
	int i;

	mutex_lock(&ve_bench_lock);
	seq_printf(m, "rounds %u cpus %u feature %s\n", ve_rounds, num_online_cpus(),
		   ve_vendor->name);
	for (i = 0; i < ARRAY_SIZE(ve_results) && ve_rounds; i++)
		seq_printf(m, "%s median_ns %llu anchor_ns %llu ratio %llu\n",
			   ve_results[i].name, ve_results[i].median, ve_results[i].anchor,
			   ve_results[i].anchor ?
			   div64_u64(ve_results[i].median * 100, ve_results[i].anchor) : 0);
	mutex_unlock(&ve_bench_lock);
	return 0;
}

static int ve_bench_open(struct inode *inode, struct file *file)
{
	return single_open(file, ve_bench_show, NULL);
}

static const struct file_operations ve_bench_fops = {
	.owner = THIS_MODULE,
	.open = ve_bench_open,
	.read = seq_read,
	.write = ve_bench_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static int __init ve_bench_init(void)
{
	ve_bench_dir = debugfs_create_dir("ve_bench", NULL);
	debugfs_create_file("run", 0600, ve_bench_dir, NULL, &ve_bench_fops);
	return 0;
}

static void __exit ve_bench_exit(void)
{
	debugfs_remove_recursive(ve_bench_dir);
}

module_init(ve_bench_init);
module_exit(ve_bench_exit);
MODULE_DESCRIPTION("virt_enable test: what references cost, against anchors");
MODULE_LICENSE("GPL");
