// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test-only module: what virt_enable's references cost, each against an
 * anchor measured in the same run, on the same CPU, in interleaved rounds.
 *
 *   echo "ROUNDS" >/sys/kernel/debug/ve_bench/run; cat .../run
 *
 * Pairs, each "pair NAME ns MEDIAN p10 P p90 P anchor ANCHOR ns MEDIAN
 * p10 P p90 P ratio R" (R: median over the anchor's, in hundredths):
 *
 *   cpu_pair   per-CPU get+put where the caller already holds one, against
 *              upstream 7.1's x86_virt_get_ref()/put_ref() rebuilt out of
 *              line here (a per-CPU int under a preemption guard, the
 *              feature check, a WARN on underflow);
 *   hot_pair   system-wide get+put by a user that already holds one,
 *              against a mutex lock+unlock;
 *   cold_get   the first system-wide get (every online CPU enabled),
 *              against what any correct broadcast enable needs:
 *              cpus_read_lock(), a mutex, on_each_cpu() of the bare
 *              vendor enable (SVM only: EFER.SVME, after the VM_CR check
 *              virt_enable's backend makes);
 *   window     an empty window, open + close under a system-wide
 *              reference, against the interrupt save/restore pair it
 *              needs.
 *
 * Components, "component NAME ns MEDIAN p10 P p90 P", so that the pairs
 * explain themselves: irq_pair (local_irq_save/restore), locked_op (one
 * atomic_inc_return), module_pair (try_module_get/module_put),
 * hotplug_lock_pair (cpus_read_lock/unlock), preempt_pair.
 *
 * Scaling, "scaling NAME cpus N one_ns X all_ns Y ratio R": the per-CPU
 * and hot pairs timed on one CPU alone, then on every online CPU at once
 * (each CPU's own median, the slowest CPU reported).  For information: a
 * per-CPU pair that shares no written cache line stays near 100.
 *
 * Every timed sample is a batch of VE_BENCH_BATCH operations between two
 * clock reads, minus the median of an empty batch (the clock reads and
 * the loop), shown per operation; a few warm-up rounds are dropped.  It uses only the
 * exported API: it runs on any kernel virt_enable builds for.  virt_enable
 * must be idle (no user).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
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
#include <asm/msr.h>
#include <asm/svm.h>

#include "../../virt_enable.h"

#define VE_BENCH_BATCH	64	/* operations timed together */
#define VE_BENCH_WARMUP	5	/* rounds measured and dropped */

/* The kinds of measurement, in the order each round takes them. */
enum ve_bench_kind {
	VE_B_EMPTY,
	VE_B_CPU_PAIR, VE_B_UPSTREAM_PAIR,
	VE_B_HOT_PAIR, VE_B_MUTEX_PAIR,
	VE_B_WINDOW, VE_B_IRQ_PAIR,
	VE_B_LOCKED_OP, VE_B_MODULE_PAIR, VE_B_HOTPLUG_LOCK_PAIR, VE_B_PREEMPT_PAIR,
	VE_B_NR_BATCHED,
	VE_B_COLD_GET = VE_B_NR_BATCHED, VE_B_BARE_BROADCAST,
	VE_B_NR,
};

static const char *const ve_bench_names[VE_B_NR] = {
	"empty", "cpu_pair", "upstream_pair", "hot_pair", "mutex_pair",
	"window", "irq_pair", "locked_op", "module_pair", "hotplug_lock_pair",
	"preempt_pair", "cold_get", "bare_broadcast",
};

struct ve_bench_stat {
	u64 median, p10, p90;
};

static struct ve_bench_stat ve_stats[VE_B_NR];
static struct ve_bench_stat ve_scale_one, ve_scale_all;	/* cpu_pair */
static unsigned int ve_rounds, ve_cpus;
static bool ve_have_cold;
static DEFINE_MUTEX(ve_bench_lock);
static DEFINE_MUTEX(ve_anchor_lock);
static atomic_t ve_anchor_atomic;
static struct dentry *ve_bench_dir;
static struct virt_enable_user *ve_holder, *ve_cold;

/* Upstream 7.1's per-CPU reference, rebuilt: the per-CPU pair's anchor. */
static DEFINE_PER_CPU(int, ve_upstream_users);
static enum virt_enable_feature ve_upstream_feature;

static noinline int ve_upstream_get_ref(enum virt_enable_feature feature)
{
	int r = 0;

	preempt_disable();
	if (feature != ve_upstream_feature)
		r = -EOPNOTSUPP;
	else
		/* The holder keeps the count above zero: no enable is due. */
		this_cpu_inc(ve_upstream_users);
	preempt_enable();
	return r;
}

static noinline void ve_upstream_put_ref(enum virt_enable_feature feature)
{
	preempt_disable();
	if (!WARN_ON_ONCE(!this_cpu_read(ve_upstream_users)))
		this_cpu_dec(ve_upstream_users);
	preempt_enable();
}

static int ve_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static struct ve_bench_stat ve_stat(u64 *samples, unsigned int n, u64 minus)
{
	struct ve_bench_stat s;

	sort(samples, n, sizeof(*samples), ve_cmp_u64, NULL);
	s.median = samples[n / 2];
	s.p10 = samples[n / 10];
	s.p90 = samples[n - 1 - n / 10];
	s.median = s.median > minus ? s.median - minus : 0;
	s.p10 = s.p10 > minus ? s.p10 - minus : 0;
	s.p90 = s.p90 > minus ? s.p90 - minus : 0;
	return s;
}

/* One batch of @kind, on this CPU with preemption disabled; its ns. */
static u64 ve_batch(enum ve_bench_kind kind, enum virt_enable_feature f)
{
	struct virt_enable_window w;
	unsigned long flags;
	unsigned int i;
	u64 t = ktime_get_ns();

	for (i = 0; i < VE_BENCH_BATCH; i++) {
		switch (kind) {
		case VE_B_EMPTY:
			barrier();
			break;
		case VE_B_CPU_PAIR:
			virt_enable_get_cpu(ve_holder, f);
			virt_enable_put_cpu(ve_holder, f);
			break;
		case VE_B_UPSTREAM_PAIR:
			ve_upstream_get_ref(f);
			ve_upstream_put_ref(f);
			break;
		case VE_B_WINDOW:
			if (!virt_enable_window_open(ve_holder, &w))
				virt_enable_window_close(&w);
			break;
		case VE_B_IRQ_PAIR:
			local_irq_save(flags);
			barrier();
			local_irq_restore(flags);
			break;
		case VE_B_LOCKED_OP:
			atomic_inc_return(&ve_anchor_atomic);
			break;
		case VE_B_PREEMPT_PAIR:
			preempt_disable();
			barrier();
			preempt_enable();
			break;
		default:
			break;
		}
	}
	return ktime_get_ns() - t;
}

/* The same for what may sleep: preemption stays enabled. */
static u64 ve_batch_sleeping(enum ve_bench_kind kind, enum virt_enable_feature f)
{
	unsigned int i;
	u64 t = ktime_get_ns();

	for (i = 0; i < VE_BENCH_BATCH; i++) {
		switch (kind) {
		case VE_B_HOT_PAIR:
			virt_enable_get(ve_holder, f);
			virt_enable_put(ve_holder, f);
			break;
		case VE_B_MUTEX_PAIR:
			mutex_lock(&ve_anchor_lock);
			mutex_unlock(&ve_anchor_lock);
			break;
		case VE_B_MODULE_PAIR:
			if (try_module_get(THIS_MODULE))
				module_put(THIS_MODULE);
			break;
		case VE_B_HOTPLUG_LOCK_PAIR:
			cpus_read_lock();
			cpus_read_unlock();
			break;
		default:
			break;
		}
	}
	return ktime_get_ns() - t;
}

static bool ve_sleeping_kind(enum ve_bench_kind kind)
{
	return kind == VE_B_HOT_PAIR || kind == VE_B_MUTEX_PAIR ||
	       kind == VE_B_MODULE_PAIR || kind == VE_B_HOTPLUG_LOCK_PAIR;
}

static u64 ve_sample(enum ve_bench_kind kind, enum virt_enable_feature f)
{
	u64 ns;

	if (ve_sleeping_kind(kind))
		return ve_batch_sleeping(kind, f);
	preempt_disable();
	ns = ve_batch(kind, f);
	preempt_enable();
	return ns;
}

/* The bare vendor enable of the cold get's anchor: SVM's, as svm_on.c's. */
static void ve_bare_svm(void *enable)
{
	u64 vm_cr, efer;

	if (rdmsrl_safe(MSR_VM_CR, &vm_cr) || (vm_cr & SVM_VM_CR_SVM_DIS_MASK))
		return;
	rdmsrl(MSR_EFER, efer);
	wrmsrl(MSR_EFER, enable ? efer | EFER_SVME : efer & ~EFER_SVME);
}

static u64 ve_bare_broadcast(void)
{
	u64 t = ktime_get_ns();

	cpus_read_lock();
	mutex_lock(&ve_anchor_lock);
	on_each_cpu(ve_bare_svm, (void *)1, 1);
	mutex_unlock(&ve_anchor_lock);
	cpus_read_unlock();
	t = ktime_get_ns() - t;
	on_each_cpu(ve_bare_svm, NULL, 1);
	return t;
}

static int ve_cold_get(enum virt_enable_feature f, u64 *ns)
{
	u64 t = ktime_get_ns();
	int r = virt_enable_get(ve_cold, f);

	*ns = ktime_get_ns() - t;
	if (!r)
		virt_enable_put(ve_cold, f);
	return r;
}

/* Scaling: each CPU times its own batches, all at once. */
struct ve_scale_call {
	enum ve_bench_kind kind;
	enum virt_enable_feature f;
	unsigned int rounds;
	u64 *samples;		/* rounds per CPU, by CPU number */
	atomic_t waiting;
};

static void ve_scale_cpu(void *arg)
{
	struct ve_scale_call *call = arg;
	u64 *mine = call->samples + smp_processor_id() * call->rounds;
	unsigned int i;

	/* Start together: every CPU is in this function before any times. */
	atomic_dec(&call->waiting);
	while (atomic_read(&call->waiting))
		cpu_relax();
	for (i = 0; i < call->rounds; i++)
		mine[i] = ve_batch(call->kind, call->f);
}

static int ve_scale(enum ve_bench_kind kind, enum virt_enable_feature f,
		    unsigned int rounds, u64 empty, struct ve_bench_stat *one,
		    struct ve_bench_stat *all)
{
	struct ve_scale_call call = { .kind = kind, .f = f, .rounds = rounds };
	struct ve_bench_stat s;
	int cpu;

	call.samples = kcalloc(nr_cpu_ids * rounds, sizeof(u64), GFP_KERNEL);
	if (!call.samples)
		return -ENOMEM;
	cpus_read_lock();
	atomic_set(&call.waiting, 1);
	smp_call_function_single(cpumask_first(cpu_online_mask), ve_scale_cpu,
				 &call, 1);
	*one = ve_stat(call.samples + cpumask_first(cpu_online_mask) * rounds,
		       rounds, empty);
	atomic_set(&call.waiting, num_online_cpus());
	on_each_cpu(ve_scale_cpu, &call, 1);
	*all = (struct ve_bench_stat) { 0 };
	for_each_online_cpu(cpu) {
		s = ve_stat(call.samples + cpu * rounds, rounds, empty);
		if (s.median > all->median)
			*all = s;
	}
	cpus_read_unlock();
	kfree(call.samples);
	return 0;
}

static void ve_holder_put_cpu(void *f)
{
	virt_enable_put_cpu(ve_holder, (enum virt_enable_feature)(long)f);
	this_cpu_dec(ve_upstream_users);
}

static void ve_holder_get_cpu(void *arg)
{
	int *error = arg;
	int r = virt_enable_get_cpu(ve_holder, virt_enable_feature());

	if (r)
		*error = r;
	this_cpu_inc(ve_upstream_users);
}

static int ve_bench_run(unsigned int rounds)
{
	enum virt_enable_feature f = virt_enable_feature();
	unsigned int total = rounds + VE_BENCH_WARMUP, i, k;
	u64 *samples;
	int r, error = 0;

	ve_upstream_feature = f;
	ve_have_cold = f == VIRT_ENABLE_SVM;
	samples = kcalloc(VE_B_NR * total, sizeof(u64), GFP_KERNEL);
	if (!samples)
		return -ENOMEM;

	ve_holder = virt_enable_register("bench-holder", NULL, NULL);
	r = PTR_ERR_OR_ZERO(ve_holder);
	if (r)
		goto out_free;
	ve_cold = virt_enable_register("bench-cold", NULL, NULL);
	r = PTR_ERR_OR_ZERO(ve_cold);
	if (r)
		goto out_holder;

	/* Interleaved: each round takes every measurement once, cold first. */
	for (i = 0; i < total && !r; i++) {
		if (ve_have_cold) {
			r = ve_cold_get(f, &samples[VE_B_COLD_GET * total + i]);
			samples[VE_B_BARE_BROADCAST * total + i] = ve_bare_broadcast();
			if (r)
				break;
		}
		r = virt_enable_get(ve_holder, f);
		if (r)
			break;
		on_each_cpu(ve_holder_get_cpu, &error, 1);
		r = error;
		for (k = 0; k < VE_B_NR_BATCHED && !r; k++)
			samples[k * total + i] = ve_sample(k, f);
		on_each_cpu(ve_holder_put_cpu, (void *)(long)f, 1);
		virt_enable_put(ve_holder, f);
	}
	if (r)
		goto out_cold;

	/* The empty batch is what every other batch subtracts. */
	for (k = 0; k < VE_B_NR; k++) {
		u64 *mine = samples + k * total + VE_BENCH_WARMUP;

		if (k >= VE_B_NR_BATCHED && !ve_have_cold)
			continue;
		ve_stats[k] = ve_stat(mine, rounds, k == VE_B_EMPTY ||
				      k >= VE_B_NR_BATCHED ? 0 : ve_stats[VE_B_EMPTY].median);
	}

	r = virt_enable_get(ve_holder, f);
	if (r)
		goto out_cold;
	on_each_cpu(ve_holder_get_cpu, &error, 1);
	r = error ?: ve_scale(VE_B_CPU_PAIR, f, rounds, ve_stats[VE_B_EMPTY].median,
			      &ve_scale_one, &ve_scale_all);
	on_each_cpu(ve_holder_put_cpu, (void *)(long)f, 1);
	virt_enable_put(ve_holder, f);
	ve_rounds = r ? 0 : rounds;
	ve_cpus = num_online_cpus();
out_cold:
	virt_enable_unregister(ve_cold);
out_holder:
	virt_enable_unregister(ve_holder);
out_free:
	kfree(samples);
	return r;
}

static ssize_t ve_bench_write(struct file *file, const char __user *ubuf,
			      size_t len, loff_t *ppos)
{
	unsigned int rounds;
	int r;

	r = kstrtouint_from_user(ubuf, len, 10, &rounds);
	if (r || rounds < 10 || rounds > 10000)
		return -EINVAL;
	mutex_lock(&ve_bench_lock);
	r = ve_bench_run(rounds);
	mutex_unlock(&ve_bench_lock);
	return r ?: len;
}

/* Per operation: a batched measurement holds VE_BENCH_BATCH of them. */
static void ve_show_stat(struct seq_file *m, enum ve_bench_kind kind)
{
	const struct ve_bench_stat *s = &ve_stats[kind];
	unsigned int ops = kind < VE_B_NR_BATCHED ? VE_BENCH_BATCH : 1;

	seq_printf(m, " ns %llu p10 %llu p90 %llu", div_u64(s->median, ops),
		   div_u64(s->p10, ops), div_u64(s->p90, ops));
}

static void ve_show_pair(struct seq_file *m, enum ve_bench_kind what,
			 enum ve_bench_kind anchor)
{
	u64 a = ve_stats[anchor].median;

	seq_printf(m, "pair %s", ve_bench_names[what]);
	ve_show_stat(m, what);
	seq_printf(m, " anchor %s", ve_bench_names[anchor]);
	ve_show_stat(m, anchor);
	seq_printf(m, " ratio %llu\n", a ? div64_u64(ve_stats[what].median * 100, a) : 0);
}

static int ve_bench_show(struct seq_file *m, void *unused)
{
	static const enum ve_bench_kind components[] = {
		VE_B_IRQ_PAIR, VE_B_LOCKED_OP, VE_B_MODULE_PAIR,
		VE_B_HOTPLUG_LOCK_PAIR, VE_B_PREEMPT_PAIR, VE_B_EMPTY,
	};
	const struct ve_bench_stat *one = &ve_scale_one, *all = &ve_scale_all;
	int i;

	mutex_lock(&ve_bench_lock);
	seq_printf(m, "rounds %u cpus %u batch %u feature %s\n", ve_rounds, ve_cpus,
		   VE_BENCH_BATCH, virt_enable_feature() == VIRT_ENABLE_VMX ? "vmx" : "svm");
	if (!ve_rounds)
		goto out;
	ve_show_pair(m, VE_B_CPU_PAIR, VE_B_UPSTREAM_PAIR);
	ve_show_pair(m, VE_B_HOT_PAIR, VE_B_MUTEX_PAIR);
	if (ve_have_cold)
		ve_show_pair(m, VE_B_COLD_GET, VE_B_BARE_BROADCAST);
	ve_show_pair(m, VE_B_WINDOW, VE_B_IRQ_PAIR);
	for (i = 0; i < ARRAY_SIZE(components); i++) {
		seq_printf(m, "component %s", ve_bench_names[components[i]]);
		ve_show_stat(m, components[i]);
		seq_putc(m, '\n');
	}
	seq_printf(m, "scaling cpu_pair cpus %u one_ns %llu all_ns %llu ratio %llu\n",
		   ve_cpus, div_u64(one->median, VE_BENCH_BATCH),
		   div_u64(all->median, VE_BENCH_BATCH),
		   one->median ? div64_u64(all->median * 100, one->median) : 0);
out:
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
