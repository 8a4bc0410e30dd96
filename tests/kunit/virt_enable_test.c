// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the virt_enable core.
 *
 * The tests run a private copy of the core, compiled from its unchanged
 * sources into this module (tests/kunit/core/), started for each case with
 * a fake vendor backend behind the same ops table the VMX and SVM backends
 * fill, recording every transition per CPU.  The loaded virt_enable, its
 * users and its hooks are never touched.  Everything else is real: IPIs,
 * CPU hotplug (CPU 1 goes offline and online, driving the copy through
 * hotplug states of its own), NMIs; the cases call the syscore and
 * emergency entry points as the kernel would.
 */
#include <kunit/test.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/notifier.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <asm/apic.h>
#include <asm/asm.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include <asm/nmi.h>
#include <asm/tlbflush.h>

#include "../../compat/compat.h"
#include "private.h"

#define VE_FAKE_FEATURE		VIRT_ENABLE_VMX
#define VE_FAKE_OTHER		VIRT_ENABLE_SVM
#define VE_TEST_CPU		1	/* the CPU hotplug tests take offline */

/* The fake hardware, one per CPU; touched only by its CPU with IRQs off. */
struct ve_fake_cpu {
	bool on;
	bool foreign;		/* someone else's VMXON: cpu_is_on() says yes */
	bool allocated;		/* alloc_cpu() ran, free_cpu() did not */
	int fail_enable;	/* enable_cpu() returns this when non-zero */
	int fail_disable;	/* disable_cpu() returns this, leaving it on */
	int fail_emergency;	/* emergency_disable_cpu() too */
	int fail_alloc;		/* alloc_cpu() returns this when non-zero */
	bool nmi_in_disable;	/* an emergency interrupts disable_cpu() */
	u64 current_vmcs;	/* what windows save and restore */
	unsigned int enables;
	unsigned int disables;
	unsigned int emergencies;
	unsigned int allocs;
	unsigned int bad;	/* enabled twice or unallocated, disabled while off */
	int watched_refs;	/* 1 + ve_fake_watched's system count at enable */
};

/* A user whose system-wide count every enable records. */
static struct virt_enable_user *ve_fake_watched;

static DEFINE_PER_CPU(struct ve_fake_cpu, ve_fake);

static struct ve_fake_cpu *fake(unsigned int cpu)
{
	return per_cpu_ptr(&ve_fake, cpu);
}

static int ve_fake_init(void)
{
	return 0;
}

static int ve_fake_alloc_cpu(unsigned int cpu)
{
	struct ve_fake_cpu *f = fake(cpu);

	if (f->fail_alloc)
		return f->fail_alloc;
	if (!f->allocated)
		f->allocs++;
	f->allocated = true;
	return 0;
}

static void ve_fake_free_cpu(unsigned int cpu)
{
	fake(cpu)->allocated = false;
}

static bool ve_fake_cpu_is_on(void)
{
	struct ve_fake_cpu *f = this_cpu_ptr(&ve_fake);

	return f->on || f->foreign;
}

static int ve_fake_enable_cpu(void)
{
	struct ve_fake_cpu *f = this_cpu_ptr(&ve_fake);

	lockdep_assert_irqs_disabled();
	if (f->foreign)
		return -EBUSY;
	if (f->fail_enable)
		return f->fail_enable;
	if (f->on || !f->allocated)
		f->bad++;
	f->on = true;
	f->enables++;
	if (READ_ONCE(ve_fake_watched))
		f->watched_refs = 1 + atomic_read(&ve_fake_watched->nr_refs);
	return 0;
}

static int ve_fake_disable_cpu(void)
{
	struct ve_fake_cpu *f = this_cpu_ptr(&ve_fake);

	lockdep_assert_irqs_disabled();
	if (f->fail_disable)
		return f->fail_disable;
	if (!f->on)
		f->bad++;
	f->on = false;
	f->disables++;
	/* A crash's NMI between VMXOFF and clearing CR4.VMXE. */
	if (f->nmi_in_disable)
		ve_emergency_disable_cpu();
	return 0;
}

static int ve_fake_emergency_disable_cpu(void)
{
	struct ve_fake_cpu *f = this_cpu_ptr(&ve_fake);

	f->emergencies++;
	if (f->fail_emergency)
		return f->fail_emergency;
	f->on = false;
	return 0;
}

/* The fake's "current VMCS": what a window puts aside and gives back. */
static u64 ve_fake_window_save(void)
{
	return this_cpu_ptr(&ve_fake)->current_vmcs;
}

static int ve_fake_window_restore(u64 saved)
{
	this_cpu_ptr(&ve_fake)->current_vmcs = saved;
	return 0;
}

static const struct ve_vendor_ops ve_fake_ops = {
	.name = "fake",
	.feature = VE_FAKE_FEATURE,
	.init = ve_fake_init,
	.alloc_cpu = ve_fake_alloc_cpu,
	.free_cpu = ve_fake_free_cpu,
	.cpu_is_on = ve_fake_cpu_is_on,
	.enable_cpu = ve_fake_enable_cpu,
	.disable_cpu = ve_fake_disable_cpu,
	.emergency_disable_cpu = ve_fake_emergency_disable_cpu,
	.window_save = ve_fake_window_save,
	.window_restore = ve_fake_window_restore,
};

/* What users' callbacks saw, in order, from any CPU. */
enum ve_event_kind {
	VE_EV_ENABLED,
	VE_EV_DISABLING,
	VE_EV_EMERGENCY,
	VE_EV_SUSPEND,
	VE_EV_RESUME,
	VE_EV_EARLY_PUT,	/* the early hotplug state's teardown */
};

struct ve_event {
	enum ve_event_kind kind;
	char user;
	unsigned int cpu;	/* the argument */
	unsigned int ran_on;	/* smp_processor_id() */
	bool hw_on;		/* the fake hardware at that moment */
	bool in_nmi;
};

/* Appended to without locks: emergency callbacks record from NMIs. */
struct ve_log {
	atomic_t next;
	struct ve_event events[96];
};

/* One recording user: its name letter, its log, its failure injection. */
struct ve_recorder {
	char id;
	struct ve_log *log;
	int fail_cpu;		/* cpu_enabled() fails there when >= 0 */
	int suspend_result;
};

static void ve_record(struct ve_log *log, char id, enum ve_event_kind kind,
		      unsigned int cpu)
{
	int i = atomic_fetch_inc(&log->next);

	if (i < ARRAY_SIZE(log->events))
		log->events[i] = (struct ve_event) {
			.kind = kind,
			.user = id,
			.cpu = cpu,
			.ran_on = raw_smp_processor_id(),
			.hw_on = this_cpu_ptr(&ve_fake)->on,
			.in_nmi = in_nmi(),
		};
}

/* Events recorded so far; read once the callbacks that record have returned. */
static unsigned int ve_log_len(struct ve_log *log)
{
	return min_t(unsigned int, atomic_read(&log->next), ARRAY_SIZE(log->events));
}

static int ve_rec_enabled(unsigned int cpu, void *data)
{
	struct ve_recorder *rec = data;

	if (rec->fail_cpu == cpu)
		return -EIO;
	ve_record(rec->log, rec->id, VE_EV_ENABLED, cpu);
	return 0;
}

static void ve_rec_disabling(unsigned int cpu, void *data)
{
	struct ve_recorder *rec = data;

	ve_record(rec->log, rec->id, VE_EV_DISABLING, cpu);
}

static int ve_rec_suspend(void *data)
{
	struct ve_recorder *rec = data;

	ve_record(rec->log, rec->id, VE_EV_SUSPEND, raw_smp_processor_id());
	return rec->suspend_result;
}

static void ve_rec_resume(void *data)
{
	struct ve_recorder *rec = data;

	ve_record(rec->log, rec->id, VE_EV_RESUME, raw_smp_processor_id());
}

static void ve_rec_emergency(void *data)
{
	struct ve_recorder *rec = data;

	ve_record(rec->log, rec->id, VE_EV_EMERGENCY, raw_smp_processor_id());
}

static const struct virt_enable_user_ops ve_rec_ops = {
	.cpu_enabled = ve_rec_enabled,
	.cpu_disabling = ve_rec_disabling,
	.suspend = ve_rec_suspend,
	.resume = ve_rec_resume,
	.emergency = ve_rec_emergency,
};

/* Resources: the core lives for one test case, users die before it. */

static void ve_test_core_free(struct kunit_resource *res)
{
	ve_core_exit();
}

static void ve_test_user_free(struct kunit_resource *res)
{
	ve_unregister(res->data);
}

static int ve_test_user_init(struct kunit_resource *res, void *user)
{
	res->data = user;
	return 0;
}

static void ve_test_cpu_online_free(struct kunit_resource *res)
{
	add_cpu(VE_TEST_CPU);
}

static void ve_fake_reset(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		memset(fake(cpu), 0, sizeof(struct ve_fake_cpu));
}

static int ve_test_init(struct kunit *test)
{
	ve_fake_reset();
	KUNIT_ASSERT_EQ(test, ve_core_init(&ve_fake_ops), 0);
	kunit_alloc_resource(test, NULL, ve_test_core_free, GFP_KERNEL, NULL);
	return 0;
}

static struct ve_log *ve_test_log(struct kunit *test)
{
	struct ve_log *log = kunit_kzalloc(test, sizeof(*log), GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, log);
	return log;
}

static struct virt_enable_user *ve_test_user(struct kunit *test, const char *name,
					     const struct virt_enable_user_ops *ops,
					     void *data)
{
	struct virt_enable_user *user = virt_enable_register(name, ops, data);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, user);
	kunit_alloc_resource(test, ve_test_user_init, ve_test_user_free,
			     GFP_KERNEL, user);
	return user;
}

static struct virt_enable_user *ve_test_recorder(struct kunit *test, char id,
						 struct ve_log *log)
{
	struct ve_recorder *rec = kunit_kzalloc(test, sizeof(*rec), GFP_KERNEL);
	char name[] = { 'r', 'e', 'c', '-', id, '\0' };

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, rec);
	rec->id = id;
	rec->log = log;
	rec->fail_cpu = -1;
	return ve_test_user(test, name, &ve_rec_ops, rec);
}

static struct ve_recorder *ve_rec(struct virt_enable_user *user)
{
	return user->data;
}

static struct ve_cpu *ve_state(unsigned int cpu)
{
	return ve_cpu_state(cpu);
}

/* CPU 1 is needed by the per-CPU and hotplug cases; bring it back after. */
static void ve_test_need_cpu(struct kunit *test)
{
	if (!cpu_online(VE_TEST_CPU))
		kunit_skip(test, "needs CPU %d online", VE_TEST_CPU);
	kunit_alloc_resource(test, NULL, ve_test_cpu_online_free, GFP_KERNEL, NULL);
}

struct ve_on_cpu {
	struct virt_enable_user *user;
	bool get;
	int result;
};

static void ve_on_cpu_fn(void *arg)
{
	struct ve_on_cpu *call = arg;

	call->result = call->get ? virt_enable_get_cpu(call->user, VE_FAKE_FEATURE) :
				   ve_put(call->user, VE_FAKE_FEATURE, VE_REF_CPU);
}

/* A per-CPU get or (non-warning) put, on @cpu. */
static int ve_test_cpu_ref(struct virt_enable_user *user, unsigned int cpu, bool get)
{
	struct ve_on_cpu call = { .user = user, .get = get };

	smp_call_function_single(cpu, ve_on_cpu_fn, &call, 1);
	return call.result;
}

static void ve_expect_all(struct kunit *test, bool on, unsigned int enables,
			  unsigned int disables)
{
	int cpu;

	for_each_online_cpu(cpu) {
		KUNIT_EXPECT_EQ_MSG(test, fake(cpu)->on, on, "CPU %d", cpu);
		KUNIT_EXPECT_EQ_MSG(test, fake(cpu)->enables, enables, "CPU %d", cpu);
		KUNIT_EXPECT_EQ_MSG(test, fake(cpu)->disables, disables, "CPU %d", cpu);
		KUNIT_EXPECT_EQ_MSG(test, fake(cpu)->bad, 0, "CPU %d", cpu);
	}
}

/* Index of the first event of @kind by @id on @cpu at or after @from. */
static int ve_find(struct ve_log *log, int from, enum ve_event_kind kind,
		   char id, unsigned int cpu)
{
	int i;

	for (i = from; i < ve_log_len(log); i++)
		if (log->events[i].kind == kind && log->events[i].user == id &&
		    log->events[i].cpu == cpu)
			return i;
	return -1;
}

static unsigned int ve_count(struct ve_log *log, enum ve_event_kind kind, char id)
{
	unsigned int i, n = 0;

	for (i = 0; i < ve_log_len(log); i++)
		n += log->events[i].kind == kind && log->events[i].user == id;
	return n;
}

/* --- references ------------------------------------------------------------ */

static void ve_test_first_get_last_put(struct kunit *test)
{
	struct virt_enable_user *a = ve_test_user(test, "a", NULL, NULL);
	struct virt_enable_user *b = ve_test_user(test, "b", NULL, NULL);

	KUNIT_ASSERT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	ve_expect_all(test, true, 1, 0);
	KUNIT_EXPECT_EQ(test, ve_stats.broadcasts, 1);

	/* Later references: no hardware work, not even an IPI. */
	KUNIT_ASSERT_EQ(test, virt_enable_get(b, VE_FAKE_FEATURE), 0);
	KUNIT_ASSERT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	ve_expect_all(test, true, 1, 0);
	KUNIT_EXPECT_EQ(test, ve_stats.broadcasts, 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->nr_refs), 2);
	KUNIT_EXPECT_EQ(test, ve_nr_system_users, 2);

	virt_enable_put(a, VE_FAKE_FEATURE);
	virt_enable_put(b, VE_FAKE_FEATURE);
	ve_expect_all(test, true, 1, 0);

	virt_enable_put(a, VE_FAKE_FEATURE);
	ve_expect_all(test, false, 1, 1);
	KUNIT_EXPECT_EQ(test, ve_stats.broadcasts, 2);
	KUNIT_EXPECT_EQ(test, ve_nr_system_users, 0);
	KUNIT_EXPECT_FALSE(test, virt_enable_rebooting());
}

static void ve_test_percpu_and_system(struct kunit *test)
{
	struct virt_enable_user *a, *b;
	int cpu;

	ve_test_need_cpu(test);
	a = ve_test_user(test, "a", NULL, NULL);
	b = ve_test_user(test, "b", NULL, NULL);

	KUNIT_ASSERT_EQ(test, ve_test_cpu_ref(a, VE_TEST_CPU, true), 0);
	KUNIT_ASSERT_EQ(test, ve_test_cpu_ref(a, VE_TEST_CPU, true), 0);
	KUNIT_EXPECT_EQ(test, per_cpu_ptr(a->cpu, VE_TEST_CPU)->refs, 2);
	KUNIT_EXPECT_EQ(test, ve_state(VE_TEST_CPU)->nr_pinned, 1);
	for_each_online_cpu(cpu)
		KUNIT_EXPECT_EQ_MSG(test, fake(cpu)->on, cpu == VE_TEST_CPU, "CPU %d", cpu);
	KUNIT_EXPECT_EQ(test, fake(VE_TEST_CPU)->enables, 1);

	/* A system-wide holder joins: the per-CPU one's CPU is not touched. */
	KUNIT_ASSERT_EQ(test, virt_enable_get(b, VE_FAKE_FEATURE), 0);
	ve_expect_all(test, true, 1, 0);

	/* ...and leaves: only the per-CPU reference's CPU stays on. */
	virt_enable_put(b, VE_FAKE_FEATURE);
	for_each_online_cpu(cpu) {
		KUNIT_EXPECT_EQ_MSG(test, fake(cpu)->on, cpu == VE_TEST_CPU, "CPU %d", cpu);
		KUNIT_EXPECT_EQ_MSG(test, fake(cpu)->disables, cpu != VE_TEST_CPU, "CPU %d", cpu);
	}

	KUNIT_EXPECT_EQ(test, ve_test_cpu_ref(a, VE_TEST_CPU, false), 0);
	KUNIT_EXPECT_TRUE(test, fake(VE_TEST_CPU)->on);
	KUNIT_EXPECT_EQ(test, ve_test_cpu_ref(a, VE_TEST_CPU, false), 0);
	ve_expect_all(test, false, 1, 1);
	KUNIT_EXPECT_EQ(test, ve_test_cpu_ref(a, VE_TEST_CPU, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, ve_state(VE_TEST_CPU)->nr_pinned, 0);
}

/*
 * One case per online CPU, as the one whose enabling fails.  The parameter
 * is the CPU number plus one, as a pointer: KUnit only compares it to NULL.
 */
static const void *ve_failing_cpu_gen_params(const void *prev, char *desc)
{
	unsigned int cpu = prev ? cpumask_next((uintptr_t)prev - 1, cpu_online_mask) :
				  cpumask_first(cpu_online_mask);

	if (cpu >= nr_cpu_ids)
		return NULL;
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "enabling fails on CPU %u", cpu);
	return (const void *)(uintptr_t)(cpu + 1);
}

static void ve_test_rollback(struct kunit *test)
{
	unsigned int failing = (uintptr_t)test->param_value - 1;
	unsigned int other = cpumask_any_but(cpu_online_mask, failing);
	struct virt_enable_user *a, *b;
	int cpu;

	if (other >= nr_cpu_ids)
		kunit_skip(test, "needs a second online CPU");
	a = ve_test_user(test, "a", NULL, NULL);
	b = ve_test_user(test, "b", NULL, NULL);

	/* Another user's CPU, on before the request: it must stay on. */
	KUNIT_ASSERT_EQ(test, ve_test_cpu_ref(b, other, true), 0);
	fake(failing)->fail_enable = -EIO;

	KUNIT_EXPECT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), -EIO);
	for_each_online_cpu(cpu) {
		KUNIT_EXPECT_EQ_MSG(test, fake(cpu)->on, cpu == other, "CPU %d", cpu);
		/* Every CPU this request turned on was turned off again. */
		if (cpu != other)
			KUNIT_EXPECT_EQ_MSG(test, fake(cpu)->enables, fake(cpu)->disables,
					    "CPU %d", cpu);
		KUNIT_EXPECT_EQ_MSG(test, fake(cpu)->bad, 0, "CPU %d", cpu);
	}
	KUNIT_EXPECT_EQ(test, fake(failing)->enables, 0);
	KUNIT_EXPECT_EQ(test, fake(other)->disables, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->nr_refs), 0);
	KUNIT_EXPECT_FALSE(test, a->system);
	KUNIT_EXPECT_EQ(test, ve_nr_system_users, 0);
	KUNIT_EXPECT_EQ(test, ve_stats.rollbacks, 1);
	KUNIT_EXPECT_EQ(test, ve_refs_held(), 1);

	/* Nothing stale is left: the same request works once the CPU does. */
	fake(failing)->fail_enable = 0;
	KUNIT_EXPECT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	for_each_online_cpu(cpu)
		KUNIT_EXPECT_TRUE_MSG(test, fake(cpu)->on, "CPU %d", cpu);
}

struct ve_bad_put {
	const char *what;
	enum ve_ref_kind held;		/* what the user holds first */
	bool holds;
	enum ve_ref_kind put;
	enum virt_enable_feature feature;
	int error;
};

static const struct ve_bad_put ve_bad_puts[] = {
	{ "system put, nothing held", 0, false, VE_REF_SYSTEM, VE_FAKE_FEATURE, -EINVAL },
	{ "system put, only permanent held", VE_REF_PERMANENT, true, VE_REF_SYSTEM,
	  VE_FAKE_FEATURE, -EPERM },
	{ "permanent put", VE_REF_PERMANENT, true, VE_REF_PERMANENT, VE_FAKE_FEATURE, -EPERM },
	{ "per-CPU put, nothing held", 0, false, VE_REF_CPU, VE_FAKE_FEATURE, -EINVAL },
	{ "per-CPU put, system held", VE_REF_SYSTEM, true, VE_REF_CPU, VE_FAKE_FEATURE, -EINVAL },
	{ "system put, wrong feature", VE_REF_SYSTEM, true, VE_REF_SYSTEM, VE_FAKE_OTHER,
	  -EOPNOTSUPP },
};

static void ve_bad_put_desc(const struct ve_bad_put *put, char *desc)
{
	strscpy(desc, put->what, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(ve_bad_put, ve_bad_puts, ve_bad_put_desc);

static void ve_put_on_this_cpu(void *arg)
{
	struct ve_on_cpu *call = arg;

	call->result = ve_put(call->user, VE_FAKE_FEATURE, VE_REF_CPU);
}

static void ve_test_bad_put_refused(struct kunit *test)
{
	const struct ve_bad_put *put = test->param_value;
	struct virt_enable_user *a = ve_test_user(test, "a", NULL, NULL);
	unsigned int refs, permanent, held;
	int r;

	if (put->holds)
		KUNIT_ASSERT_EQ(test, ve_get(a, VE_FAKE_FEATURE, put->held), 0);
	refs = atomic_read(&a->nr_refs);
	permanent = a->nr_permanent;
	held = ve_refs_held();

	if (put->put == VE_REF_CPU && put->feature == VE_FAKE_FEATURE) {
		struct ve_on_cpu call = { .user = a };

		smp_call_function_single(0, ve_put_on_this_cpu, &call, 1);
		r = call.result;
	} else {
		r = ve_put(a, put->feature, put->put);
	}
	KUNIT_EXPECT_EQ(test, r, put->error);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->nr_refs), refs);
	KUNIT_EXPECT_EQ(test, a->nr_permanent, permanent);
	KUNIT_EXPECT_EQ(test, ve_refs_held(), held);
	KUNIT_EXPECT_EQ(test, per_cpu_ptr(a->cpu, 0)->refs, 0);
	KUNIT_EXPECT_EQ(test, ve_state(0)->nr_pinned, 0);
	ve_expect_all(test, put->holds, put->holds, 0);
}

/*
 * The exported put: refused and counted.  It also WARNs, once per boot:
 * the host checks the kernel log holds exactly that one warning, since
 * TAINT_WARN is sticky and may already be set.
 */
static void ve_test_unbalanced_put_warns(struct kunit *test)
{
	struct virt_enable_user *a = ve_test_user(test, "a", NULL, NULL);

	virt_enable_put(a, VE_FAKE_FEATURE);
	virt_enable_put(a, VE_FAKE_FEATURE);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ve_stats.refused_puts), 2);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->nr_refs), 0);
	KUNIT_EXPECT_EQ(test, ve_nr_system_users, 0);
	KUNIT_EXPECT_EQ(test, ve_refs_held(), 0);
	ve_expect_all(test, false, 0, 0);
}

static void ve_test_permanent(struct kunit *test)
{
	struct virt_enable_user *a = virt_enable_register("a", NULL, NULL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a);
	KUNIT_ASSERT_EQ(test, virt_enable_get_permanent(a, VE_FAKE_FEATURE), 0);
	KUNIT_EXPECT_EQ(test, ve_put(a, VE_FAKE_FEATURE, VE_REF_SYSTEM), -EPERM);
	ve_expect_all(test, true, 1, 0);
	KUNIT_EXPECT_EQ(test, a->nr_permanent, 1);

	/* Only the end of its user ends a permanent reference. */
	ve_unregister(a);
	ve_expect_all(test, false, 1, 1);
	KUNIT_EXPECT_EQ(test, ve_refs_held(), 0);
}

/*
 * Every count is bounded, on the fast paths too: VE_MAX_REFS references of
 * one kind per user, then -EOVERFLOW with nothing changed.
 */
static void ve_test_reference_bound(struct kunit *test)
{
	struct virt_enable_user *a = ve_test_user(test, "a", NULL, NULL);
	struct virt_enable_user *b = ve_test_user(test, "b", NULL, NULL);
	unsigned int cpu, got = 0;
	int r;

	while (!(r = virt_enable_get(a, VE_FAKE_FEATURE)) && got <= VE_MAX_REFS)
		got++;
	KUNIT_EXPECT_EQ(test, r, -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, got, VE_MAX_REFS);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->nr_refs), VE_MAX_REFS);
	KUNIT_EXPECT_EQ(test, ve_stats.broadcasts, 1);

	got = 0;
	preempt_disable();
	cpu = smp_processor_id();
	while (!(r = virt_enable_get_cpu(b, VE_FAKE_FEATURE)) && got <= VE_MAX_REFS)
		got++;
	preempt_enable();
	KUNIT_EXPECT_EQ(test, r, -EOVERFLOW);
	KUNIT_EXPECT_EQ(test, got, VE_MAX_REFS);
	KUNIT_EXPECT_EQ(test, per_cpu_ptr(b->cpu, cpu)->refs, VE_MAX_REFS);
	KUNIT_EXPECT_EQ(test, ve_state(cpu)->nr_pinned, 1);
}

/*
 * A user's second and later references on a CPU do no hardware work and
 * start nobody; the last put, which no fast path may do, stops the user and
 * turns the hardware off.
 */
static void ve_test_percpu_fast_paths(struct kunit *test)
{
	struct ve_log *log = ve_test_log(test);
	struct virt_enable_user *a;
	int i;

	ve_test_need_cpu(test);
	a = ve_test_recorder(test, 'a', log);
	for (i = 0; i < 3; i++)
		KUNIT_ASSERT_EQ(test, ve_test_cpu_ref(a, VE_TEST_CPU, true), 0);
	KUNIT_EXPECT_EQ(test, per_cpu_ptr(a->cpu, VE_TEST_CPU)->refs, 3);
	KUNIT_EXPECT_EQ(test, ve_state(VE_TEST_CPU)->nr_pinned, 1);
	KUNIT_EXPECT_EQ(test, fake(VE_TEST_CPU)->enables, 1);
	KUNIT_EXPECT_EQ(test, ve_count(log, VE_EV_ENABLED, 'a'), 1);

	for (i = 0; i < 2; i++) {
		KUNIT_ASSERT_EQ(test, ve_test_cpu_ref(a, VE_TEST_CPU, false), 0);
		KUNIT_EXPECT_TRUE(test, fake(VE_TEST_CPU)->on);
		KUNIT_EXPECT_EQ(test, ve_count(log, VE_EV_DISABLING, 'a'), 0);
	}
	KUNIT_ASSERT_EQ(test, ve_test_cpu_ref(a, VE_TEST_CPU, false), 0);
	KUNIT_EXPECT_FALSE(test, fake(VE_TEST_CPU)->on);
	KUNIT_EXPECT_FALSE(test, ve_state(VE_TEST_CPU)->on);
	KUNIT_EXPECT_EQ(test, ve_state(VE_TEST_CPU)->nr_pinned, 0);
	KUNIT_EXPECT_EQ(test, fake(VE_TEST_CPU)->disables, 1);
	KUNIT_EXPECT_EQ(test, ve_count(log, VE_EV_DISABLING, 'a'), 1);
	KUNIT_EXPECT_EQ(test, ve_test_cpu_ref(a, VE_TEST_CPU, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, fake(VE_TEST_CPU)->bad, 0);
}

/*
 * A per-CPU reference taken where another user's system-wide reference has
 * the hardware on already is still counted on its CPU, so that it outlives
 * the system-wide one; also when it is dropped and taken again there, the
 * hardware staying on in between.
 */
static void ve_test_percpu_under_system(struct kunit *test)
{
	struct virt_enable_user *a, *b;
	int cpu;

	ve_test_need_cpu(test);
	a = ve_test_user(test, "a", NULL, NULL);
	b = ve_test_user(test, "b", NULL, NULL);
	KUNIT_ASSERT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	KUNIT_ASSERT_EQ(test, ve_test_cpu_ref(b, VE_TEST_CPU, true), 0);
	KUNIT_EXPECT_EQ(test, ve_state(VE_TEST_CPU)->nr_pinned, 1);
	KUNIT_ASSERT_EQ(test, ve_test_cpu_ref(b, VE_TEST_CPU, false), 0);
	KUNIT_EXPECT_EQ(test, ve_state(VE_TEST_CPU)->nr_pinned, 0);
	KUNIT_ASSERT_EQ(test, ve_test_cpu_ref(b, VE_TEST_CPU, true), 0);
	KUNIT_EXPECT_EQ(test, ve_state(VE_TEST_CPU)->nr_pinned, 1);

	virt_enable_put(a, VE_FAKE_FEATURE);
	for_each_online_cpu(cpu)
		KUNIT_EXPECT_EQ_MSG(test, fake(cpu)->on, cpu == VE_TEST_CPU,
				    "CPU %d", cpu);
	KUNIT_ASSERT_EQ(test, ve_test_cpu_ref(b, VE_TEST_CPU, false), 0);
	ve_expect_all(test, false, 1, 1);
}

/*
 * A user that holds a system-wide reference takes and drops more with no
 * broadcast; its last put, never a fast one, turns the hardware off.
 */
static void ve_test_system_fast_paths(struct kunit *test)
{
	struct virt_enable_user *a = ve_test_user(test, "a", NULL, NULL);
	int i;

	for (i = 0; i < 4; i++)
		KUNIT_ASSERT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->nr_refs), 4);
	KUNIT_EXPECT_EQ(test, ve_stats.broadcasts, 1);
	for (i = 0; i < 3; i++)
		virt_enable_put(a, VE_FAKE_FEATURE);
	ve_expect_all(test, true, 1, 0);
	KUNIT_EXPECT_EQ(test, ve_nr_system_users, 1);

	virt_enable_put(a, VE_FAKE_FEATURE);
	ve_expect_all(test, false, 1, 1);
	KUNIT_EXPECT_EQ(test, ve_nr_system_users, 0);
	KUNIT_EXPECT_EQ(test, ve_stats.broadcasts, 2);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ve_stats.refused_puts), 0);
}

/*
 * The first system-wide get publishes its count only once every CPU is on:
 * a get that sees it non-zero skips the lock and the broadcast.  Each CPU's
 * enable records the count it could see then.
 */
static void ve_test_system_count_published_after(struct kunit *test)
{
	struct virt_enable_user *a = ve_test_user(test, "a", NULL, NULL);
	int cpu;

	WRITE_ONCE(ve_fake_watched, a);
	KUNIT_EXPECT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	WRITE_ONCE(ve_fake_watched, NULL);
	for_each_online_cpu(cpu)
		KUNIT_EXPECT_EQ_MSG(test, fake(cpu)->watched_refs, 1,
				    "CPU %d: the count an enable saw, plus one", cpu);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->nr_refs), 1);
	virt_enable_put(a, VE_FAKE_FEATURE);
}

/*
 * A resume that fails leaves the CPU off with per-CPU references still
 * counted: a further get on it must not take the fast path, which would
 * return with the hardware off, but bring the CPU back.
 */
static void ve_test_fast_get_after_failed_resume(struct kunit *test)
{
	struct ve_log *log = ve_test_log(test);
	struct virt_enable_user *b, *c;
	bool off_after_resume, on_after_get;
	int first, suspended, again;
	unsigned int cpu;

	b = ve_test_recorder(test, 'b', log);
	c = ve_test_user(test, "c", NULL, NULL);
	KUNIT_ASSERT_EQ(test, virt_enable_get(b, VE_FAKE_FEATURE), 0);

	local_irq_disable();
	cpu = smp_processor_id();
	first = ve_get(c, VE_FAKE_FEATURE, VE_REF_CPU);
	suspended = ve_suspend();
	ve_rec(b)->fail_cpu = cpu;
	if (!suspended)
		ve_resume();
	off_after_resume = !fake(cpu)->on;
	ve_rec(b)->fail_cpu = -1;
	again = ve_get(c, VE_FAKE_FEATURE, VE_REF_CPU);
	on_after_get = fake(cpu)->on;
	local_irq_enable();

	KUNIT_EXPECT_EQ(test, first, 0);
	KUNIT_ASSERT_EQ(test, suspended, 0);
	KUNIT_EXPECT_TRUE(test, off_after_resume);
	KUNIT_EXPECT_EQ(test, again, 0);
	KUNIT_EXPECT_TRUE(test, on_after_get);
	KUNIT_EXPECT_TRUE(test, per_cpu_ptr(b->cpu, cpu)->active);
	KUNIT_EXPECT_EQ(test, per_cpu_ptr(c->cpu, cpu)->refs, 2);
	KUNIT_EXPECT_EQ(test, fake(cpu)->bad, 0);
}

static void ve_crash(struct kunit *test);

/* Once the system is going down, held references do not let a get through. */
static void ve_test_fast_paths_going_down(struct kunit *test)
{
	struct virt_enable_user *a;

	ve_test_need_cpu(test);
	a = ve_test_user(test, "a", NULL, NULL);
	KUNIT_ASSERT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	KUNIT_ASSERT_EQ(test, ve_test_cpu_ref(a, VE_TEST_CPU, true), 0);

	ve_crash(test);
	KUNIT_EXPECT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), -ESHUTDOWN);
	KUNIT_EXPECT_EQ(test, ve_test_cpu_ref(a, VE_TEST_CPU, true), -ESHUTDOWN);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->nr_refs), 1);
	KUNIT_EXPECT_EQ(test, per_cpu_ptr(a->cpu, VE_TEST_CPU)->refs, 1);
}

static void ve_test_user_bound(struct kunit *test)
{
	struct virt_enable_user **users;
	char name[VIRT_ENABLE_NAME_LEN];
	int i, n = 0;

	users = kunit_kcalloc(test, 1025, sizeof(*users), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, users);
	for (i = 0; i < 1025; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		users[i] = virt_enable_register(name, NULL, NULL);
		if (IS_ERR(users[i]))
			break;
		n++;
	}
	KUNIT_EXPECT_EQ(test, n, 1024);
	KUNIT_EXPECT_EQ(test, PTR_ERR(users[n]), -EUSERS);
	for (i = 0; i < n; i++)
		ve_unregister(users[i]);
	KUNIT_EXPECT_FALSE(test, ve_armed);
}

static void ve_test_duplicate_name(struct kunit *test)
{
	ve_test_user(test, "kvm_intel", NULL, NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(virt_enable_register("kvm_intel", NULL, NULL)),
			-EEXIST);
}

/*
 * The core is not running (built in, its initialization failed, its
 * symbols stay): every export refuses, and nothing turns on.
 */
static void ve_test_not_running(struct kunit *test)
{
	struct virt_enable_user *user;
	struct virt_enable_user stale = { .name = "stale" };

	ve_core_exit();
	user = virt_enable_register("a", NULL, NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(user), -ENODEV);
	if (!IS_ERR(user))
		ve_unregister(user);
	KUNIT_EXPECT_EQ(test, virt_enable_feature(), VIRT_ENABLE_NONE);
	KUNIT_EXPECT_EQ(test, virt_enable_get(&stale, VE_FAKE_FEATURE), -ENODEV);
	KUNIT_EXPECT_EQ(test, virt_enable_get_permanent(&stale, VE_FAKE_FEATURE), -ENODEV);
	KUNIT_EXPECT_EQ(test, virt_enable_get_cpu(&stale, VE_FAKE_FEATURE), -ENODEV);
	KUNIT_EXPECT_EQ(test, ve_put(&stale, VE_FAKE_FEATURE, VE_REF_SYSTEM), -ENODEV);
	KUNIT_EXPECT_EQ(test, ve_put(&stale, VE_FAKE_FEATURE, VE_REF_CPU), -ENODEV);
	KUNIT_EXPECT_FALSE(test, ve_armed);
	KUNIT_EXPECT_EQ(test, ve_refs_held(), 0);
	ve_expect_all(test, false, 0, 0);
	/* For the case's end, which stops the core. */
	KUNIT_ASSERT_EQ(test, ve_core_init(&ve_fake_ops), 0);
}

/* --- user callbacks and hotplug ---------------------------------------------- */

/* Each CPU saw @id enabled, then disabled, with the hardware on both times. */
static void ve_expect_paired(struct kunit *test, struct ve_log *log, char id)
{
	int cpu;

	for_each_online_cpu(cpu) {
		int enabled = -1, disabling = -1, i;

		for (i = 0; i < ve_log_len(log); i++) {
			struct ve_event *ev = &log->events[i];

			if (ev->user != id || ev->cpu != cpu)
				continue;
			if (ev->kind != VE_EV_ENABLED && ev->kind != VE_EV_DISABLING)
				continue;
			KUNIT_EXPECT_EQ(test, ev->ran_on, ev->cpu);
			KUNIT_EXPECT_TRUE(test, ev->hw_on);
			if (ev->kind == VE_EV_ENABLED && enabled < 0)
				enabled = i;
			if (ev->kind == VE_EV_DISABLING && disabling < 0)
				disabling = i;
		}
		KUNIT_EXPECT_GE_MSG(test, enabled, 0, "user %c CPU %d", id, cpu);
		KUNIT_EXPECT_GT_MSG(test, disabling, enabled, "user %c CPU %d", id, cpu);
	}
}

static void ve_test_callbacks(struct kunit *test)
{
	struct ve_log *log = ve_test_log(test);
	struct virt_enable_user *a, *b;
	int mark;

	ve_test_need_cpu(test);
	a = ve_test_recorder(test, 'a', log);
	b = ve_test_recorder(test, 'b', log);

	KUNIT_ASSERT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	KUNIT_ASSERT_EQ(test, virt_enable_get(b, VE_FAKE_FEATURE), 0);

	/* CPU 1 leaves: users stop in reverse order, before the hardware. */
	mark = ve_log_len(log);
	KUNIT_ASSERT_EQ(test, remove_cpu(VE_TEST_CPU), 0);
	KUNIT_EXPECT_FALSE(test, fake(VE_TEST_CPU)->on);
	KUNIT_EXPECT_LT(test, ve_find(log, mark, VE_EV_DISABLING, 'b', VE_TEST_CPU),
			ve_find(log, mark, VE_EV_DISABLING, 'a', VE_TEST_CPU));
	KUNIT_EXPECT_GE(test, ve_find(log, mark, VE_EV_DISABLING, 'b', VE_TEST_CPU), 0);

	/* ...and comes back while held: hardware first, users in order. */
	mark = ve_log_len(log);
	KUNIT_ASSERT_EQ(test, add_cpu(VE_TEST_CPU), 0);
	KUNIT_EXPECT_TRUE(test, fake(VE_TEST_CPU)->on);
	KUNIT_EXPECT_EQ(test, fake(VE_TEST_CPU)->enables, 2);
	KUNIT_EXPECT_GE(test, ve_find(log, mark, VE_EV_ENABLED, 'a', VE_TEST_CPU), 0);
	KUNIT_EXPECT_LT(test, ve_find(log, mark, VE_EV_ENABLED, 'a', VE_TEST_CPU),
			ve_find(log, mark, VE_EV_ENABLED, 'b', VE_TEST_CPU));

	virt_enable_put(b, VE_FAKE_FEATURE);
	virt_enable_put(a, VE_FAKE_FEATURE);
	ve_expect_paired(test, log, 'a');
	ve_expect_paired(test, log, 'b');
	KUNIT_EXPECT_EQ(test, ve_log_len(log), 4 * num_online_cpus() + 4);
}

static void ve_test_failing_callback(struct kunit *test)
{
	struct ve_log *log = ve_test_log(test);
	struct virt_enable_user *a, *b;
	int cpu;

	ve_test_need_cpu(test);
	a = ve_test_recorder(test, 'a', log);
	b = ve_test_recorder(test, 'b', log);

	/* A first user whose callback fails: the whole request is undone. */
	ve_rec(a)->fail_cpu = VE_TEST_CPU;
	KUNIT_EXPECT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), -EIO);
	for_each_online_cpu(cpu) {
		KUNIT_EXPECT_FALSE_MSG(test, fake(cpu)->on, "CPU %d", cpu);
		/* Every successful start got its stop. */
		KUNIT_EXPECT_EQ(test, ve_find(log, 0, VE_EV_ENABLED, 'a', cpu) < 0,
				ve_find(log, 0, VE_EV_DISABLING, 'a', cpu) < 0);
	}
	KUNIT_EXPECT_EQ(test, ve_nr_system_users, 0);

	/* A CPU coming online whose callback fails does not come online. */
	ve_rec(a)->fail_cpu = -1;
	KUNIT_ASSERT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	KUNIT_ASSERT_EQ(test, virt_enable_get(b, VE_FAKE_FEATURE), 0);
	KUNIT_ASSERT_EQ(test, remove_cpu(VE_TEST_CPU), 0);
	ve_rec(b)->fail_cpu = VE_TEST_CPU;
	KUNIT_EXPECT_EQ(test, add_cpu(VE_TEST_CPU), -EIO);
	KUNIT_EXPECT_FALSE(test, cpu_online(VE_TEST_CPU));
	KUNIT_EXPECT_FALSE(test, fake(VE_TEST_CPU)->on);
	KUNIT_EXPECT_EQ(test, fake(VE_TEST_CPU)->enables, fake(VE_TEST_CPU)->disables);

	ve_rec(b)->fail_cpu = -1;
	KUNIT_EXPECT_EQ(test, add_cpu(VE_TEST_CPU), 0);
	KUNIT_EXPECT_TRUE(test, fake(VE_TEST_CPU)->on);
}

/*
 * A user that manages CPUs itself, as the KVM series make KVM do: a per-CPU
 * reference taken and put from KVM's own hotplug step, which comes before
 * virt_enable's on the way up and after it on the way down.  The test takes
 * that very step, so it runs with KVM unloaded: in 6.1 it is in the
 * STARTING section (on the incoming CPU, interrupts off, before the CPU is
 * marked online; on the way down in stop_machine), since 6.3 it is
 * CPUHP_AP_KVM_ONLINE, below CPUHP_AP_SCHED_WAIT_EMPTY.  The reference
 * works there, and keeps the hardware on past virt_enable's offline step
 * until the user's own teardown puts it.
 */
#ifdef VE_HAVE_CPUHP_KVM_STARTING
#define VE_KVM_CPUHP_STATE	CPUHP_AP_KVM_STARTING
#define VE_KVM_STEP_STARTING	true
#else
#define VE_KVM_CPUHP_STATE	CPUHP_AP_KVM_ONLINE
#define VE_KVM_STEP_STARTING	false
#endif

struct ve_early {
	struct virt_enable_user *user;
	struct ve_log *log;
	int get_result;
	bool get_online;	/* cpu_online() at the get */
	bool get_irqs_off;
};

static struct ve_early ve_early;

static int ve_early_online(unsigned int cpu)
{
	if (cpu != VE_TEST_CPU || !ve_early.user)
		return 0;
	ve_early.get_online = cpu_online(cpu);
	ve_early.get_irqs_off = irqs_disabled();
	ve_early.get_result = virt_enable_get_cpu(ve_early.user, VE_FAKE_FEATURE);
	return 0;
}

static int ve_early_offline(unsigned int cpu)
{
	if (cpu != VE_TEST_CPU || !ve_early.user ||
	    !per_cpu_ptr(ve_early.user->cpu, cpu)->refs)
		return 0;
	/* Where KVM would VMCLEAR: the hardware must still be on. */
	ve_record(ve_early.log, 'e', VE_EV_EARLY_PUT, cpu);
	virt_enable_put_cpu(ve_early.user, VE_FAKE_FEATURE);
	return 0;
}

static void ve_early_state_free(struct kunit_resource *res)
{
	cpuhp_remove_state_nocalls(VE_KVM_CPUHP_STATE);
}

static void ve_early_user_free(struct kunit_resource *res)
{
	ve_unregister(ve_early.user);
	ve_early.user = NULL;
}

static void ve_test_percpu_from_hotplug(struct kunit *test)
{
	struct virt_enable_user *user;
	int r;

	ve_test_need_cpu(test);
	memset(&ve_early, 0, sizeof(ve_early));
	ve_early.log = ve_test_log(test);
	r = cpuhp_setup_state_nocalls(VE_KVM_CPUHP_STATE, "ve_test:kvm_step",
				      ve_early_online, ve_early_offline);
	if (r == -EBUSY)
		kunit_skip(test, "KVM is loaded: its hotplug step is taken");
	KUNIT_ASSERT_EQ(test, r, 0);
	kunit_alloc_resource(test, NULL, ve_early_state_free, GFP_KERNEL, NULL);
	user = virt_enable_register("early", NULL, NULL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, user);
	ve_early.user = user;
	kunit_alloc_resource(test, NULL, ve_early_user_free, GFP_KERNEL, NULL);

	/* Taken on CPU 1, then CPU 1 leaves: on until the early teardown. */
	KUNIT_ASSERT_EQ(test, ve_test_cpu_ref(user, VE_TEST_CPU, true), 0);
	KUNIT_ASSERT_EQ(test, remove_cpu(VE_TEST_CPU), 0);
	KUNIT_ASSERT_EQ(test, ve_find(ve_early.log, 0, VE_EV_EARLY_PUT, 'e', VE_TEST_CPU), 0);
	KUNIT_EXPECT_TRUE(test, ve_early.log->events[0].hw_on);
	KUNIT_EXPECT_FALSE(test, fake(VE_TEST_CPU)->on);
	KUNIT_EXPECT_EQ(test, fake(VE_TEST_CPU)->disables, 1);

	/* CPU 1 returns: the early state's get runs before virt_enable's step. */
	ve_early.get_result = -1;
	KUNIT_ASSERT_EQ(test, add_cpu(VE_TEST_CPU), 0);
	KUNIT_EXPECT_EQ(test, ve_early.get_result, 0);
	/* Where the step is: the STARTING section only before 6.3. */
	KUNIT_EXPECT_EQ(test, ve_early.get_irqs_off, VE_KVM_STEP_STARTING);
	KUNIT_EXPECT_EQ(test, ve_early.get_online, !VE_KVM_STEP_STARTING);
	KUNIT_EXPECT_TRUE(test, fake(VE_TEST_CPU)->on);
	KUNIT_EXPECT_EQ(test, fake(VE_TEST_CPU)->enables, 2);
	KUNIT_EXPECT_EQ(test, fake(VE_TEST_CPU)->bad, 0);
	KUNIT_EXPECT_TRUE(test, ve_state(VE_TEST_CPU)->online);

	KUNIT_EXPECT_EQ(test, ve_test_cpu_ref(user, VE_TEST_CPU, false), 0);
	KUNIT_EXPECT_FALSE(test, fake(VE_TEST_CPU)->on);
}

/* A CPU that dies with a per-CPU reference held is reported and forgotten. */
static void ve_test_cpu_dies_holding(struct kunit *test)
{
	struct virt_enable_user *a;

	ve_test_need_cpu(test);
	a = ve_test_user(test, "a", NULL, NULL);
	KUNIT_ASSERT_EQ(test, ve_test_cpu_ref(a, VE_TEST_CPU, true), 0);
	KUNIT_ASSERT_EQ(test, remove_cpu(VE_TEST_CPU), 0);
	KUNIT_EXPECT_EQ(test, per_cpu_ptr(a->cpu, VE_TEST_CPU)->refs, 0);
	KUNIT_EXPECT_EQ(test, ve_state(VE_TEST_CPU)->nr_pinned, 0);
	KUNIT_EXPECT_FALSE(test, ve_state(VE_TEST_CPU)->owned);
	KUNIT_EXPECT_EQ(test, ve_refs_held(), 0);
	/* The fake CPU "died" with it on; a real INIT would reset it. */
	fake(VE_TEST_CPU)->on = false;
	KUNIT_EXPECT_EQ(test, add_cpu(VE_TEST_CPU), 0);
}

static void ve_test_wrong_feature(struct kunit *test)
{
	struct virt_enable_user *a = ve_test_user(test, "a", NULL, NULL);

	KUNIT_EXPECT_EQ(test, virt_enable_get(a, VE_FAKE_OTHER), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, virt_enable_get_permanent(a, VE_FAKE_OTHER), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, virt_enable_get_cpu(a, VE_FAKE_OTHER), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, ve_put(a, VE_FAKE_OTHER, VE_REF_SYSTEM), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, virt_enable_feature(), VE_FAKE_FEATURE);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->nr_refs) + a->nr_permanent, 0);
	ve_expect_all(test, false, 0, 0);
}

static void ve_test_foreign_owner(struct kunit *test)
{
	struct virt_enable_user *a;
	int cpu;

	ve_test_need_cpu(test);

	/* Someone else's VMXON everywhere: not even a user can register. */
	for_each_possible_cpu(cpu)
		fake(cpu)->foreign = true;
	KUNIT_EXPECT_EQ(test, PTR_ERR(virt_enable_register("a", NULL, NULL)), -EBUSY);
	KUNIT_EXPECT_FALSE(test, ve_armed);

	/*
	 * ...on one CPU only: that CPU is never touched, the rest rolled back.
	 * (Registered first: registration looks at the CPU it runs on.)
	 */
	for_each_possible_cpu(cpu)
		fake(cpu)->foreign = false;
	a = ve_test_user(test, "a", NULL, NULL);
	fake(VE_TEST_CPU)->foreign = true;
	KUNIT_EXPECT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), -EBUSY);
	KUNIT_EXPECT_EQ(test, fake(VE_TEST_CPU)->enables, 0);
	KUNIT_EXPECT_EQ(test, fake(VE_TEST_CPU)->disables, 0);
	for_each_online_cpu(cpu) {
		KUNIT_EXPECT_FALSE_MSG(test, fake(cpu)->on, "CPU %d", cpu);
		KUNIT_EXPECT_EQ_MSG(test, fake(cpu)->enables, fake(cpu)->disables, "CPU %d", cpu);
	}
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ve_stats.busy), 2);
	KUNIT_EXPECT_EQ(test, ve_test_cpu_ref(a, VE_TEST_CPU, true), -EBUSY);
	KUNIT_EXPECT_EQ(test, per_cpu_ptr(a->cpu, VE_TEST_CPU)->refs, 0);
}

/* --- unmodified KVM --------------------------------------------------------- */

/*
 * A module being loaded, with the module loader's record of what it links
 * against: this module, which carries the core's copy, when @user.
 */
struct ve_fake_module {
	struct module mod;
	struct module_use use;
};

static struct module *ve_fake_module(struct kunit *test, const char *name, bool user)
{
	struct ve_fake_module *fm = kunit_kzalloc(test, sizeof(*fm), GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, fm);
	strscpy(fm->mod.name, name, sizeof(fm->mod.name));
	INIT_LIST_HEAD(&fm->mod.target_list);
	if (user) {
		fm->use.source = &fm->mod;
		fm->use.target = THIS_MODULE;
		list_add(&fm->use.target_list, &fm->mod.target_list);
	}
	atomic_set(&fm->mod.refcnt, 1);	/* the loader's base reference */
	return &fm->mod;
}

static int ve_notify(struct module *mod, unsigned long state)
{
	return ve_kunit_module_notify(state, mod);
}

/* CPUs the core counts as on for its users. */
static unsigned int ve_test_cpus_on(void)
{
	unsigned int n = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		n += READ_ONCE(ve_cpu_state(cpu)->on);
	return n;
}

/* An unmodified KVM turned the hardware on, or off again, everywhere. */
static void ve_fake_kvm_hw(bool on)
{
	int cpu;

	for_each_possible_cpu(cpu)
		fake(cpu)->foreign = on;
}

/*
 * An unmodified KVM loaded while virt_enable is idle is ridden: the first
 * user registers, its references rely on KVM's hardware where KVM has it
 * on, each CPU on for it pins KVM, and virt_enable switches nothing and
 * leaves the emergency hook to KVM; once KVM is gone, virt_enable switches
 * the hardware itself and holds the hook again.
 */
static void ve_test_kvm_ride(struct kunit *test)
{
	struct module *stock = ve_fake_module(test, "kvm_intel", false);
	struct virt_enable_user *a;
	int base = module_refcount(stock);

	KUNIT_EXPECT_EQ(test, ve_notify(stock, MODULE_STATE_COMING), 0);
	a = ve_test_user(test, "a", NULL, NULL);
	KUNIT_EXPECT_PTR_EQ(test, ve_ride_kvm, stock);
	KUNIT_EXPECT_TRUE(test, ve_armed);
	KUNIT_EXPECT_TRUE(test, !ve_kunit_emergency_hook);

	/* KVM has it off, and a VM of its own needs a task with an mm. */
	KUNIT_EXPECT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, virt_enable_get_cpu(a, VE_FAKE_FEATURE), -ENODEV);
	KUNIT_EXPECT_EQ(test, module_refcount(stock), base);

	ve_fake_kvm_hw(true);
	KUNIT_EXPECT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	KUNIT_EXPECT_EQ(test, module_refcount(stock), base + num_online_cpus());
	KUNIT_EXPECT_EQ(test, cpumask_weight(cpu_online_mask), ve_test_cpus_on());
	ve_expect_all(test, false, 0, 0);
	/* Not while it pins KVM: the module loader would not let it go. */
	virt_enable_put(a, VE_FAKE_FEATURE);
	KUNIT_EXPECT_EQ(test, module_refcount(stock), base);
	KUNIT_EXPECT_EQ(test, ve_test_cpus_on(), 0);
	ve_expect_all(test, false, 0, 0);

	ve_fake_kvm_hw(false);
	KUNIT_EXPECT_EQ(test, ve_notify(stock, MODULE_STATE_GOING), 0);
	KUNIT_EXPECT_PTR_EQ(test, ve_ride_kvm, NULL);
	KUNIT_EXPECT_TRUE(test, ve_kunit_emergency_hook == ve_emergency_disable_cpu);
	KUNIT_EXPECT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	ve_expect_all(test, true, 1, 0);
	virt_enable_put(a, VE_FAKE_FEATURE);
	ve_expect_all(test, false, 1, 1);
}

static void ve_test_kvm_policy(struct kunit *test)
{
	struct module *patched, *stock;

	patched = ve_fake_module(test, "kvm_intel", true);
	stock = ve_fake_module(test, "kvm_intel", false);

	/* A patched one is not remembered, and loads while users exist. */
	KUNIT_EXPECT_EQ(test, ve_notify(patched, MODULE_STATE_COMING), 0);
	ve_test_user(test, "a", NULL, NULL);
	KUNIT_EXPECT_TRUE(test, ve_armed);
	KUNIT_EXPECT_PTR_EQ(test, ve_ride_kvm, NULL);
	KUNIT_EXPECT_EQ(test, ve_notify(patched, MODULE_STATE_COMING), 0);
	/* An unmodified one cannot load over the hardware virt_enable owns. */
	KUNIT_EXPECT_EQ(test, ve_notify(stock, MODULE_STATE_COMING), -EBUSY);
}

/* --- suspend and resume ------------------------------------------------------- */

static int ve_test_do_suspend(bool resume, unsigned int *cpu)
{
	int r;

	local_irq_disable();
	*cpu = smp_processor_id();
	r = ve_suspend();
	if (!r && resume)
		ve_resume();
	local_irq_enable();
	return r;
}

static void ve_test_suspend(struct kunit *test)
{
	struct ve_log *log = ve_test_log(test);
	struct virt_enable_user *a, *veto;
	unsigned int cpu;
	int r;

	a = ve_test_recorder(test, 'a', log);
	ve_test_recorder(test, 'o', log);
	veto = ve_test_recorder(test, 'v', log);
	KUNIT_ASSERT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);

	/* A later user vetoes: the earlier ones that agreed are told. */
	ve_rec(veto)->suspend_result = -EBUSY;
	r = ve_test_do_suspend(false, &cpu);
	KUNIT_EXPECT_EQ(test, r, -EBUSY);
	KUNIT_EXPECT_TRUE(test, fake(cpu)->on);
	KUNIT_EXPECT_EQ(test, ve_stats.vetoed_suspends, 1);
	KUNIT_EXPECT_EQ(test, ve_find(log, 0, VE_EV_DISABLING, 'a', cpu), -1);
	KUNIT_EXPECT_EQ(test, ve_count(log, VE_EV_SUSPEND, 'o'), 1);
	KUNIT_EXPECT_EQ(test, ve_count(log, VE_EV_RESUME, 'o'), 1);
	KUNIT_EXPECT_EQ(test, ve_count(log, VE_EV_RESUME, 'v'), 0);
	KUNIT_EXPECT_TRUE(test, mutex_trylock(&ve_lock));
	mutex_unlock(&ve_lock);

	ve_rec(veto)->suspend_result = 0;
	r = ve_test_do_suspend(true, &cpu);
	KUNIT_EXPECT_EQ(test, r, 0);
	KUNIT_EXPECT_TRUE(test, fake(cpu)->on);
	KUNIT_EXPECT_EQ(test, fake(cpu)->enables, 2);
	KUNIT_EXPECT_EQ(test, fake(cpu)->disables, 1);
	KUNIT_EXPECT_EQ(test, ve_count(log, VE_EV_RESUME, 'v'), 1);
	/* The user stopped before the hardware went off, and started again. */
	r = ve_find(log, 0, VE_EV_DISABLING, 'a', cpu);
	KUNIT_ASSERT_GE(test, r, 0);
	KUNIT_EXPECT_GT(test, ve_find(log, r, VE_EV_ENABLED, 'a', cpu), r);
}

/* A register, get or put in progress: the suspend is refused, not raced. */
static void ve_test_suspend_while_busy(struct kunit *test)
{
	struct virt_enable_user *a = ve_test_user(test, "a", NULL, NULL);
	unsigned int cpu;

	KUNIT_ASSERT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	mutex_lock(&ve_lock);
	KUNIT_EXPECT_EQ(test, ve_test_do_suspend(true, &cpu), -EBUSY);
	mutex_unlock(&ve_lock);
	KUNIT_EXPECT_TRUE(test, fake(cpu)->on);
	KUNIT_EXPECT_EQ(test, fake(cpu)->disables, 0);
}

/*
 * Suspend and resume on this CPU with @b's ->cpu_enabled failing there, so
 * that the resume fails; *@cpu is that CPU.  Return: what suspend returned.
 */
static int ve_test_failed_resume(struct virt_enable_user *b, unsigned int *cpu)
{
	int r;

	local_irq_disable();
	*cpu = smp_processor_id();
	r = ve_suspend();
	ve_rec(b)->fail_cpu = *cpu;
	if (!r)
		ve_resume();
	local_irq_enable();
	return r;
}

/* Resume cannot enable again: nothing is left half done. */
static void ve_test_resume_fails(struct kunit *test)
{
	struct ve_log *log = ve_test_log(test);
	struct virt_enable_user *a, *b;
	unsigned int cpu;
	int r;

	a = ve_test_recorder(test, 'a', log);
	b = ve_test_recorder(test, 'b', log);
	KUNIT_ASSERT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	KUNIT_ASSERT_EQ(test, virt_enable_get(b, VE_FAKE_FEATURE), 0);

	/* 'b' fails to start again on this CPU: 'a' must be stopped again. */
	r = ve_test_failed_resume(b, &cpu);
	KUNIT_ASSERT_EQ(test, r, 0);
	KUNIT_EXPECT_FALSE(test, fake(cpu)->on);
	KUNIT_EXPECT_FALSE(test, ve_state(cpu)->on);
	KUNIT_EXPECT_FALSE(test, per_cpu_ptr(a->cpu, cpu)->active);
	KUNIT_EXPECT_EQ(test, ve_count(log, VE_EV_ENABLED, 'a'),
			ve_count(log, VE_EV_DISABLING, 'a') + num_online_cpus() - 1);
	KUNIT_EXPECT_EQ(test, ve_stats.resume_failures, 1);
	KUNIT_EXPECT_EQ(test, ve_count(log, VE_EV_RESUME, 'a'), 1);
	KUNIT_EXPECT_TRUE(test, mutex_trylock(&ve_lock));
	mutex_unlock(&ve_lock);
}

static const char *const ve_recoveries[] = {
	"a system-wide get", "a per-CPU get on that CPU",
};

static void ve_recovery_desc(const char *const *what, char *desc)
{
	strscpy(desc, *what, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(ve_recovery, ve_recoveries, ve_recovery_desc);

/*
 * After a failed resume the CPU lags behind the references held: the next
 * change of references brings it back, with every user that they cover,
 * even one that would otherwise do no hardware work.
 */
static void ve_test_resume_failure_recovers(struct kunit *test)
{
	const char *const *what = test->param_value;
	struct ve_log *log = ve_test_log(test);
	struct virt_enable_user *a, *b, *c;
	unsigned int cpu;
	int r, mark;

	a = ve_test_recorder(test, 'a', log);
	b = ve_test_recorder(test, 'b', log);
	c = ve_test_user(test, "c", NULL, NULL);
	KUNIT_ASSERT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	KUNIT_ASSERT_EQ(test, virt_enable_get(b, VE_FAKE_FEATURE), 0);

	r = ve_test_failed_resume(b, &cpu);
	KUNIT_ASSERT_EQ(test, r, 0);
	KUNIT_ASSERT_FALSE(test, fake(cpu)->on);
	ve_rec(b)->fail_cpu = -1;

	mark = ve_log_len(log);
	if (what == &ve_recoveries[0])
		KUNIT_EXPECT_EQ(test, virt_enable_get(c, VE_FAKE_FEATURE), 0);
	else
		KUNIT_EXPECT_EQ(test, ve_test_cpu_ref(c, cpu, true), 0);
	KUNIT_EXPECT_TRUE(test, fake(cpu)->on);
	KUNIT_EXPECT_TRUE(test, ve_state(cpu)->on);
	KUNIT_EXPECT_TRUE(test, per_cpu_ptr(a->cpu, cpu)->active);
	KUNIT_EXPECT_TRUE(test, per_cpu_ptr(b->cpu, cpu)->active);
	KUNIT_EXPECT_LT(test, ve_find(log, mark, VE_EV_ENABLED, 'a', cpu),
			ve_find(log, mark, VE_EV_ENABLED, 'b', cpu));
	KUNIT_EXPECT_GE(test, ve_find(log, mark, VE_EV_ENABLED, 'a', cpu), 0);
	KUNIT_EXPECT_EQ(test, fake(cpu)->bad, 0);
}

/* --- emergency and failures to turn off -------------------------------------------- */

/*
 * Enter the emergency path as a crash does: nmi_shootdown_cpus() sends the
 * other CPUs an NMI whose handler runs the emergency callback, and the
 * crashing CPU runs it itself with interrupts disabled.  In NMI context a
 * path that takes a lock shows up (lockdep checks locks taken in NMIs), and
 * so does one that cannot run there at all.
 */
static DEFINE_PER_CPU(bool, ve_crash_nmi_wanted);
static atomic_t ve_crash_nmis;

static int ve_crash_nmi(unsigned int type, struct pt_regs *regs)
{
	if (!this_cpu_read(ve_crash_nmi_wanted))
		return NMI_DONE;
	this_cpu_write(ve_crash_nmi_wanted, false);
	ve_emergency_disable_cpu();
	atomic_inc(&ve_crash_nmis);
	return NMI_HANDLED;
}

static void ve_crash(struct kunit *test)
{
	unsigned int cpu, self, others = 0;
	int ms;

	KUNIT_ASSERT_EQ(test, register_nmi_handler(NMI_LOCAL, ve_crash_nmi, 0, "ve_test"), 0);
	atomic_set(&ve_crash_nmis, 0);
	cpus_read_lock();
	self = get_cpu();
	for_each_online_cpu(cpu) {
		if (cpu == self)
			continue;
		per_cpu(ve_crash_nmi_wanted, cpu) = true;
		others++;
	}
	/* Ordered before the NMIs by the APIC write's serialization. */
	smp_mb();
	for_each_online_cpu(cpu)
		if (cpu != self)
			apic->send_IPI_mask(cpumask_of(cpu), NMI_VECTOR);
	/* Up to 10 s: an emulated CPU may wait that long for a host core. */
	for (ms = 0; ms < 10000 && atomic_read(&ve_crash_nmis) < others; ms++)
		mdelay(1);

	local_irq_disable();
	ve_emergency_disable_cpu();
	local_irq_enable();
	put_cpu();
	cpus_read_unlock();
	unregister_nmi_handler(NMI_LOCAL, "ve_test");
	KUNIT_EXPECT_EQ(test, atomic_read(&ve_crash_nmis), others);
}

static void ve_test_emergency(struct kunit *test)
{
	struct ve_log *log = ve_test_log(test);
	struct virt_enable_user *a, *b;
	unsigned int in_nmi = 0;
	int cpu, i;

	ve_test_need_cpu(test);
	a = ve_test_recorder(test, 'a', log);
	b = ve_test_user(test, "b", NULL, NULL);
	KUNIT_ASSERT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	KUNIT_ASSERT_EQ(test, ve_test_cpu_ref(b, VE_TEST_CPU, true), 0);

	/* Twice: the second call must be harmless. */
	for (i = 0; i < 2; i++) {
		ve_crash(test);
		for_each_online_cpu(cpu) {
			int first = ve_find(log, 0, VE_EV_EMERGENCY, 'a', cpu);

			KUNIT_EXPECT_FALSE_MSG(test, fake(cpu)->on, "CPU %d", cpu);
			KUNIT_EXPECT_EQ_MSG(test, fake(cpu)->emergencies, 1, "CPU %d", cpu);
			KUNIT_EXPECT_EQ_MSG(test, fake(cpu)->disables, 0, "CPU %d", cpu);
			/* The user's callback ran first, with the hardware still on. */
			KUNIT_ASSERT_GE(test, first, 0);
			KUNIT_EXPECT_TRUE_MSG(test, log->events[first].hw_on, "CPU %d", cpu);
			KUNIT_EXPECT_EQ_MSG(test, log->events[first].ran_on, cpu, "CPU %d", cpu);
		}
	}
	/* Every CPU but the crashing one ran it in an NMI. */
	for (i = 0; i < ve_log_len(log); i++)
		if (log->events[i].kind == VE_EV_EMERGENCY)
			in_nmi += log->events[i].in_nmi;
	KUNIT_EXPECT_EQ(test, in_nmi, num_online_cpus() - 1);
	KUNIT_EXPECT_EQ(test, ve_count(log, VE_EV_EMERGENCY, 'a'), num_online_cpus());
	KUNIT_EXPECT_TRUE(test, virt_enable_rebooting());
	/* Regardless of counts: every reference is still held... */
	KUNIT_EXPECT_EQ(test, atomic_read(&a->nr_refs), 1);
	KUNIT_EXPECT_EQ(test, per_cpu_ptr(b->cpu, VE_TEST_CPU)->refs, 1);
	/* ...and nothing turns the hardware back on. */
	KUNIT_EXPECT_EQ(test, virt_enable_get(b, VE_FAKE_FEATURE), -ESHUTDOWN);
	KUNIT_EXPECT_EQ(test, ve_test_cpu_ref(b, VE_TEST_CPU, true), -ESHUTDOWN);
}

/* VMCLEAR with VMX off is #UD: users hear of an emergency only where it is on. */
static void ve_test_emergency_only_where_on(struct kunit *test)
{
	struct ve_log *log = ve_test_log(test);
	struct virt_enable_user *a;
	int cpu;

	ve_test_need_cpu(test);
	a = ve_test_recorder(test, 'a', log);
	KUNIT_ASSERT_EQ(test, ve_test_cpu_ref(a, VE_TEST_CPU, true), 0);
	ve_crash(test);
	for_each_online_cpu(cpu) {
		KUNIT_EXPECT_EQ_MSG(test, ve_find(log, 0, VE_EV_EMERGENCY, 'a', cpu) >= 0,
				    cpu == VE_TEST_CPU, "CPU %d", cpu);
		KUNIT_EXPECT_EQ_MSG(test, fake(cpu)->emergencies, cpu == VE_TEST_CPU,
				    "CPU %d", cpu);
	}
}

/*
 * A crash arrives while a CPU is turning the hardware off, between VMXOFF
 * and clearing CR4.VMXE: users' emergency callbacks (VMCLEAR would #UD)
 * no longer run there, and the hardware still ends up off.
 */
static void ve_test_emergency_during_disable(struct kunit *test)
{
	struct ve_log *log = ve_test_log(test);
	struct virt_enable_user *a;
	int i;

	ve_test_need_cpu(test);
	a = ve_test_recorder(test, 'a', log);
	KUNIT_ASSERT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	fake(VE_TEST_CPU)->nmi_in_disable = true;
	virt_enable_put(a, VE_FAKE_FEATURE);

	KUNIT_EXPECT_EQ(test, ve_find(log, 0, VE_EV_EMERGENCY, 'a', VE_TEST_CPU), -1);
	for (i = 0; i < ve_log_len(log); i++)
		if (log->events[i].kind == VE_EV_EMERGENCY)
			KUNIT_EXPECT_TRUE_MSG(test, log->events[i].hw_on,
					      "emergency callback on CPU %u with the hardware off",
					      log->events[i].ran_on);
	KUNIT_EXPECT_EQ(test, fake(VE_TEST_CPU)->emergencies, 1);
	KUNIT_EXPECT_FALSE(test, fake(VE_TEST_CPU)->on);
	KUNIT_EXPECT_EQ(test, fake(VE_TEST_CPU)->bad, 0);
	KUNIT_EXPECT_FALSE(test, ve_state(VE_TEST_CPU)->on);
	KUNIT_EXPECT_FALSE(test, ve_state(VE_TEST_CPU)->owned);
	KUNIT_EXPECT_TRUE(test, virt_enable_rebooting());
}

/*
 * VMXOFF VMfails (or the EFER write fails): the hardware stays on, and
 * ours, on the normal and the emergency path alike.  The last user leaving
 * keeps the emergency hook (and the module it calls), a new first user is
 * not told that another hypervisor owns the hardware, and a crash still
 * turns it off.
 */
static void ve_test_disable_failure_keeps_ownership(struct kunit *test)
{
	int before = ve_module_refs();
	struct virt_enable_user *a;
	unsigned long failures;
	int cpu;

	ve_test_need_cpu(test);
	a = virt_enable_register("a", NULL, NULL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a);
	KUNIT_ASSERT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	for_each_online_cpu(cpu)
		fake(cpu)->fail_disable = -EIO;
	virt_enable_put(a, VE_FAKE_FEATURE);
	for_each_online_cpu(cpu) {
		KUNIT_EXPECT_TRUE_MSG(test, fake(cpu)->on, "CPU %d", cpu);
		KUNIT_EXPECT_TRUE_MSG(test, ve_state(cpu)->on, "CPU %d", cpu);
		KUNIT_EXPECT_TRUE_MSG(test, ve_state(cpu)->owned, "CPU %d", cpu);
		KUNIT_EXPECT_EQ_MSG(test, ve_state(cpu)->nr_disable_failures, 1, "CPU %d", cpu);
	}

	ve_unregister(a);
	KUNIT_EXPECT_TRUE(test, ve_armed);
	if (before >= 0)
		KUNIT_EXPECT_EQ(test, ve_module_refs(), before + 1);

	/* Whichever CPU it registers on: no false "someone else owns it". */
	a = virt_enable_register("b", NULL, NULL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a);
	KUNIT_EXPECT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ve_stats.busy), 0);
	for_each_online_cpu(cpu)
		KUNIT_EXPECT_EQ_MSG(test, fake(cpu)->enables, 1, "CPU %d", cpu);

	/* A crash: a failed emergency disable means the same, and is retried. */
	failures = ve_state(VE_TEST_CPU)->nr_disable_failures;
	fake(VE_TEST_CPU)->fail_emergency = -EIO;
	ve_crash(test);
	KUNIT_EXPECT_TRUE(test, fake(VE_TEST_CPU)->on);
	KUNIT_EXPECT_TRUE(test, ve_state(VE_TEST_CPU)->owned);
	KUNIT_EXPECT_EQ(test, ve_state(VE_TEST_CPU)->nr_disable_failures, failures + 1);
	fake(VE_TEST_CPU)->fail_emergency = 0;
	ve_crash(test);
	for_each_online_cpu(cpu) {
		KUNIT_EXPECT_FALSE_MSG(test, fake(cpu)->on, "CPU %d", cpu);
		KUNIT_EXPECT_FALSE_MSG(test, ve_state(cpu)->owned, "CPU %d", cpu);
		KUNIT_EXPECT_EQ_MSG(test, fake(cpu)->emergencies, 1 + (cpu == VE_TEST_CPU),
				    "CPU %d", cpu);
	}

	/* Every CPU off: the last user leaving releases all. */
	ve_unregister(a);
	KUNIT_EXPECT_FALSE(test, ve_armed);
	if (before >= 0)
		KUNIT_EXPECT_EQ(test, ve_module_refs(), before);
}

/* --- windows ---------------------------------------------------------------------- */

/* The current VMCS of "KVM" on @cpu before each window, and the user's own. */
#define VE_KVM_VMCS(cpu)	(0x10000000ULL + (cpu) * 0x1000ULL)
#define VE_OWN_VMCS		0x20000000ULL

/* One window on one CPU, opened from process context, and what it saw. */
struct ve_window_call {
	struct virt_enable_user *user;
	struct virt_enable_user *nest;	/* opens a second window inside, if set */
	bool irqs_off;			/* the caller had interrupts disabled */
	int open;			/* virt_enable_window_open()'s result */
	int nested;			/* the second open's */
	bool irqs_off_inside;		/* after the open, whatever its result */
	bool irqs_off_nested;		/* after the second open */
	struct virt_enable_user *open_here;	/* the CPU's window, inside */
	bool irqs_off_after;		/* after the close, or the failed open */
	u64 vmcs_after;			/* the fake's current VMCS then */
};

static long ve_window_fn(void *arg)
{
	struct ve_window_call *call = arg;
	struct virt_enable_window window, inner;

	/* Only this CPU's worker touches its fake; it may be preempted here. */
	this_cpu_ptr(&ve_fake)->current_vmcs = VE_KVM_VMCS(raw_smp_processor_id());
	if (call->irqs_off)
		local_irq_disable();
	call->open = virt_enable_window_open(call->user, &window);
	call->irqs_off_inside = irqs_disabled();
	if (!call->open) {
		call->open_here = ve_state(smp_processor_id())->window;
		if (call->nest) {
			call->nested = virt_enable_window_open(call->nest, &inner);
			call->irqs_off_nested = irqs_disabled();
			/* A bug let it open: its user closes it. */
			if (!call->nested)
				virt_enable_window_close(&inner);
		}
		/* The user's VMPTRLD of its own VMCS. */
		this_cpu_ptr(&ve_fake)->current_vmcs = VE_OWN_VMCS;
		virt_enable_window_close(&window);
	}
	call->irqs_off_after = irqs_disabled();
	call->vmcs_after = this_cpu_ptr(&ve_fake)->current_vmcs;
	/* Whatever a bug left, the worker goes back with interrupts on. */
	local_irq_enable();
	return 0;
}

/*
 * A window of @user on @cpu, from a worker bound there (with interrupts
 * disabled before the open if @irqs_off); *@call says what it saw.
 */
static int ve_window(struct virt_enable_user *user, unsigned int cpu, bool irqs_off,
		     struct ve_window_call *call)
{
	*call = (struct ve_window_call) { .user = user, .irqs_off = irqs_off };
	work_on_cpu(cpu, ve_window_fn, call);
	return call->open;
}

static unsigned long ve_windows(struct virt_enable_user *user, unsigned int cpu)
{
	return per_cpu_ptr(user->cpu, cpu)->windows;
}

/*
 * A window that opened on @cpu: interrupts off inside, the CPU's window
 * its user's; after the close, the interrupts as the caller had them, the
 * VMCS current before current again, and no window open.
 */
static void ve_expect_window(struct kunit *test, const struct ve_window_call *call,
			     unsigned int cpu)
{
	KUNIT_EXPECT_EQ_MSG(test, call->open, 0, "CPU %u", cpu);
	KUNIT_EXPECT_TRUE_MSG(test, call->irqs_off_inside, "CPU %u", cpu);
	KUNIT_EXPECT_PTR_EQ_MSG(test, call->open_here, call->user, "CPU %u", cpu);
	KUNIT_EXPECT_EQ_MSG(test, call->irqs_off_after, call->irqs_off, "CPU %u", cpu);
	KUNIT_EXPECT_EQ_MSG(test, call->vmcs_after, VE_KVM_VMCS(cpu), "CPU %u", cpu);
	KUNIT_EXPECT_NULL_MSG(test, ve_state(cpu)->window, "CPU %u", cpu);
}

/* A window refused on @cpu with @error: interrupts as they were, nothing changed. */
static void ve_expect_refused(struct kunit *test, const struct ve_window_call *call,
			      unsigned int cpu, int error)
{
	KUNIT_EXPECT_EQ_MSG(test, call->open, error, "CPU %u", cpu);
	KUNIT_EXPECT_EQ_MSG(test, call->irqs_off_after, call->irqs_off, "CPU %u", cpu);
	KUNIT_EXPECT_EQ_MSG(test, call->vmcs_after, VE_KVM_VMCS(cpu), "CPU %u", cpu);
	KUNIT_EXPECT_NULL_MSG(test, ve_state(cpu)->window, "CPU %u", cpu);
	KUNIT_EXPECT_EQ_MSG(test, ve_state(cpu)->nr_window_failures, 0, "CPU %u", cpu);
}

/*
 * A system-wide reference covers every online CPU, a per-CPU reference its
 * CPU: a window opens there, with interrupts disabled, and its close puts
 * back the current VMCS the user replaced and the caller's interrupt
 * state, whichever it was.  Each opening is counted, for its user and on
 * its CPU.
 */
static void ve_test_window(struct kunit *test)
{
	struct virt_enable_user *a, *b;
	struct ve_window_call call;
	unsigned int cpu;

	ve_test_need_cpu(test);
	a = ve_test_user(test, "a", NULL, NULL);
	b = ve_test_user(test, "b", NULL, NULL);
	KUNIT_ASSERT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	KUNIT_ASSERT_EQ(test, ve_test_cpu_ref(b, VE_TEST_CPU, true), 0);

	for_each_online_cpu(cpu) {
		ve_window(a, cpu, false, &call);
		ve_expect_window(test, &call, cpu);
	}
	ve_window(a, VE_TEST_CPU, true, &call);
	ve_expect_window(test, &call, VE_TEST_CPU);
	ve_window(b, VE_TEST_CPU, false, &call);
	ve_expect_window(test, &call, VE_TEST_CPU);
	ve_window(b, VE_TEST_CPU, true, &call);
	ve_expect_window(test, &call, VE_TEST_CPU);

	for_each_online_cpu(cpu) {
		KUNIT_EXPECT_EQ_MSG(test, ve_windows(a, cpu), 1 + (cpu == VE_TEST_CPU),
				    "CPU %u", cpu);
		KUNIT_EXPECT_EQ_MSG(test, ve_windows(b, cpu), 2 * (cpu == VE_TEST_CPU),
				    "CPU %u", cpu);
		KUNIT_EXPECT_EQ_MSG(test, ve_state(cpu)->nr_window_failures, 0, "CPU %u", cpu);
		KUNIT_EXPECT_TRUE_MSG(test, fake(cpu)->on, "CPU %u", cpu);
		KUNIT_EXPECT_EQ_MSG(test, fake(cpu)->bad, 0, "CPU %u", cpu);
	}
}

/*
 * No reference of the user covers the CPU, though another user's keeps the
 * hardware on there: -EPERM, and nothing changes.  A per-CPU reference
 * covers its own CPU only, and a put ends the cover.
 */
static void ve_test_window_uncovered(struct kunit *test)
{
	struct virt_enable_user *a, *b;
	struct ve_window_call call;
	unsigned int cpu;

	ve_test_need_cpu(test);
	a = ve_test_user(test, "a", NULL, NULL);
	b = ve_test_user(test, "b", NULL, NULL);
	KUNIT_ASSERT_EQ(test, virt_enable_get(b, VE_FAKE_FEATURE), 0);

	for_each_online_cpu(cpu) {
		ve_window(a, cpu, false, &call);
		ve_expect_refused(test, &call, cpu, -EPERM);
	}
	ve_window(a, VE_TEST_CPU, true, &call);
	ve_expect_refused(test, &call, VE_TEST_CPU, -EPERM);

	/* A per-CPU reference on CPU 1: there only. */
	KUNIT_ASSERT_EQ(test, ve_test_cpu_ref(a, VE_TEST_CPU, true), 0);
	for_each_online_cpu(cpu) {
		if (cpu == VE_TEST_CPU)
			continue;
		ve_window(a, cpu, false, &call);
		ve_expect_refused(test, &call, cpu, -EPERM);
	}
	ve_window(a, VE_TEST_CPU, false, &call);
	ve_expect_window(test, &call, VE_TEST_CPU);

	/* Put, or a system-wide reference that came and went: none. */
	KUNIT_ASSERT_EQ(test, ve_test_cpu_ref(a, VE_TEST_CPU, false), 0);
	KUNIT_ASSERT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	virt_enable_put(a, VE_FAKE_FEATURE);
	ve_window(a, VE_TEST_CPU, false, &call);
	ve_expect_refused(test, &call, VE_TEST_CPU, -EPERM);

	for_each_online_cpu(cpu)
		KUNIT_EXPECT_EQ_MSG(test, ve_windows(a, cpu), cpu == VE_TEST_CPU,
				    "CPU %u", cpu);
}

/*
 * Windows do not nest, whoever opens the second one: -EBUSY, interrupts
 * still off, and the first window goes on untouched.
 */
static void ve_test_window_nested(struct kunit *test)
{
	struct virt_enable_user *a, *b, *nest[2];
	struct ve_window_call call;
	int i;

	a = ve_test_user(test, "a", NULL, NULL);
	b = ve_test_user(test, "b", NULL, NULL);
	KUNIT_ASSERT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	KUNIT_ASSERT_EQ(test, virt_enable_get(b, VE_FAKE_FEATURE), 0);
	nest[0] = a;
	nest[1] = b;

	for (i = 0; i < ARRAY_SIZE(nest); i++) {
		call = (struct ve_window_call) { .user = a, .nest = nest[i] };
		work_on_cpu(0, ve_window_fn, &call);
		ve_expect_window(test, &call, 0);
		KUNIT_EXPECT_EQ_MSG(test, call.nested, -EBUSY, "nested by %s", nest[i]->name);
		KUNIT_EXPECT_TRUE_MSG(test, call.irqs_off_nested, "nested by %s",
				      nest[i]->name);
	}
	KUNIT_EXPECT_EQ(test, ve_windows(a, 0), 2);
	KUNIT_EXPECT_EQ(test, ve_windows(b, 0), 0);
}

/* Once the emergency path ran, the machine is going down: -ESHUTDOWN. */
static void ve_test_window_going_down(struct kunit *test)
{
	struct virt_enable_user *a = ve_test_user(test, "a", NULL, NULL);
	struct ve_window_call call;
	unsigned int cpu;

	KUNIT_ASSERT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	ve_crash(test);
	for_each_online_cpu(cpu) {
		ve_window(a, cpu, false, &call);
		ve_expect_refused(test, &call, cpu, -ESHUTDOWN);
		ve_window(a, cpu, true, &call);
		ve_expect_refused(test, &call, cpu, -ESHUTDOWN);
		KUNIT_EXPECT_EQ_MSG(test, ve_windows(a, cpu), 0, "CPU %u", cpu);
	}
}

/*
 * Covered, but the hardware is not on: after a failed resume the CPU lags
 * behind the references held.  -ENODEV there until the next change of
 * references brings it back; the other CPUs are not concerned.
 */
static void ve_test_window_hw_off(struct kunit *test)
{
	struct ve_log *log = ve_test_log(test);
	struct virt_enable_user *a, *b, *c;
	struct ve_window_call call;
	unsigned int cpu, other;

	a = ve_test_recorder(test, 'a', log);
	b = ve_test_recorder(test, 'b', log);
	c = ve_test_user(test, "c", NULL, NULL);
	KUNIT_ASSERT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	KUNIT_ASSERT_EQ(test, virt_enable_get(b, VE_FAKE_FEATURE), 0);
	KUNIT_ASSERT_EQ(test, ve_test_failed_resume(b, &cpu), 0);
	ve_rec(b)->fail_cpu = -1;
	KUNIT_ASSERT_FALSE(test, ve_state(cpu)->on);

	ve_window(a, cpu, false, &call);
	ve_expect_refused(test, &call, cpu, -ENODEV);
	ve_window(a, cpu, true, &call);
	ve_expect_refused(test, &call, cpu, -ENODEV);
	KUNIT_EXPECT_EQ(test, ve_windows(a, cpu), 0);
	for_each_online_cpu(other) {
		if (other == cpu)
			continue;
		ve_window(a, other, false, &call);
		ve_expect_window(test, &call, other);
	}

	KUNIT_ASSERT_EQ(test, virt_enable_get(c, VE_FAKE_FEATURE), 0);
	KUNIT_ASSERT_TRUE(test, ve_state(cpu)->on);
	ve_window(a, cpu, false, &call);
	ve_expect_window(test, &call, cpu);
	KUNIT_EXPECT_EQ(test, ve_windows(a, cpu), 1);
}

/*
 * The state file shows each user's windows per CPU, on a line of its own
 * after the user's, and each CPU's failed closes; the user line is as it
 * was.
 */
static void ve_test_window_state(struct kunit *test)
{
	struct seq_file m = { .size = 8192 };
	struct virt_enable_user *a;
	struct ve_window_call call;
	char want[64];
	int i;

	ve_test_need_cpu(test);
	m.buf = kunit_kzalloc(test, m.size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m.buf);
	a = ve_test_user(test, "a", NULL, NULL);
	ve_test_user(test, "b", NULL, NULL);
	KUNIT_ASSERT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	KUNIT_ASSERT_EQ(test, ve_window(a, 0, false, &call), 0);
	for (i = 0; i < 3; i++)
		KUNIT_ASSERT_EQ(test, ve_window(a, VE_TEST_CPU, false, &call), 0);

	ve_state_show(&m);
	KUNIT_ASSERT_LT(test, m.count, m.size);
	m.buf[m.count] = '\0';
	snprintf(want, sizeof(want), "\nuser \"a\" system 1 permanent 0 percpu\n"
		 "windows \"a\" 0:1 %d:3\n", VE_TEST_CPU);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(m.buf, want), "%s", m.buf);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(m.buf, "\nuser \"b\" system 0 permanent 0 percpu\n"
					      "windows \"b\"\n"), "%s", m.buf);
	snprintf(want, sizeof(want), "\ncpu %d online 1 hw 1 ", VE_TEST_CPU);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(m.buf, want), "%s", m.buf);
	KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(m.buf, " disable_failures 0 window_failures 0\n"),
				  "%s", m.buf);
}

/* --- the real backend ---------------------------------------------------------- */

/* The backend the loaded virt_enable picked, picked the same way. */
static const struct ve_vendor_ops *ve_real_vendor;

struct ve_real_call {
	bool busy;		/* the hardware was on already: not ours to test */
	int enable;
	int disable;
	bool on_after;
};

/* Someone else turns the hardware off behind the backend's back. */
static void ve_real_foreign_off(void)
{
	u64 efer;

	if (ve_real_vendor->feature == VIRT_ENABLE_VMX) {
		/* VMXOFF leaves CR4.VMXE set. */
		asm volatile("1: vmxoff\n2:\n" _ASM_EXTABLE(1b, 2b) ::: "cc", "memory");
	} else if (!rdmsrl_safe(MSR_EFER, &efer)) {
		wrmsrl_safe(MSR_EFER, efer & ~EFER_SVME);
	}
}

static void ve_real_fn(void *arg)
{
	struct ve_real_call *call = arg;

	call->busy = ve_real_vendor->cpu_is_on();
	if (call->busy)
		return;
	call->enable = ve_real_vendor->enable_cpu();
	if (call->enable)
		return;
	ve_real_foreign_off();
	call->disable = ve_real_vendor->disable_cpu();
	call->on_after = ve_real_vendor->cpu_is_on();
	if (call->on_after && ve_real_vendor->feature == VIRT_ENABLE_VMX)
		cr4_clear_bits(X86_CR4_VMXE);
}

/*
 * The VMX or SVM backend itself, on CPU 0: a disable that finds the
 * hardware already off reports it off and leaves it off.  VMXOFF faults
 * there, meaning that the CPU is not in VMX operation, and CR4.VMXE, which
 * the other VMXOFF left set, must be cleared.
 */
static void ve_test_real_disable_after_foreign_off(struct kunit *test)
{
	struct ve_real_call call = {};

	ve_real_vendor = !ve_vmx_ops.init() ? &ve_vmx_ops :
			 !ve_svm_ops.init() ? &ve_svm_ops : NULL;
	KUNIT_ASSERT_NOT_NULL_MSG(test, ve_real_vendor, "neither VMX nor SVM is usable");
	if (ve_real_vendor->alloc_cpu)
		KUNIT_ASSERT_EQ(test, ve_real_vendor->alloc_cpu(0), 0);
	smp_call_function_single(0, ve_real_fn, &call, 1);
	if (ve_real_vendor->free_cpu)
		ve_real_vendor->free_cpu(0);
	if (call.busy)
		kunit_skip(test, "%s is on already on CPU 0", ve_real_vendor->name);
	KUNIT_ASSERT_EQ(test, call.enable, 0);
	KUNIT_EXPECT_EQ(test, call.disable, 0);
	KUNIT_EXPECT_FALSE(test, call.on_after);
}

/*
 * Unregistering drops every reference of every kind, and the one module
 * reference each user holds.
 */
static void ve_test_unregister_balance(struct kunit *test)
{
	struct virt_enable_user *a, *d;
	int before = ve_module_refs();
	int cpu;

	ve_test_need_cpu(test);
	a = virt_enable_register("a", NULL, NULL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a);
	d = virt_enable_register("d", NULL, NULL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, d);
	KUNIT_ASSERT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	KUNIT_ASSERT_EQ(test, virt_enable_get_permanent(a, VE_FAKE_FEATURE), 0);
	KUNIT_ASSERT_EQ(test, ve_test_cpu_ref(a, 0, true), 0);
	KUNIT_ASSERT_EQ(test, ve_test_cpu_ref(a, VE_TEST_CPU, true), 0);
	KUNIT_ASSERT_EQ(test, ve_test_cpu_ref(d, VE_TEST_CPU, true), 0);
	KUNIT_ASSERT_EQ(test, ve_test_cpu_ref(d, VE_TEST_CPU, true), 0);
	KUNIT_EXPECT_EQ(test, ve_refs_held(), 6);
	KUNIT_EXPECT_EQ(test, ve_state(VE_TEST_CPU)->nr_pinned, 2);
	if (before >= 0)
		KUNIT_EXPECT_EQ(test, ve_module_refs(), before + 2);

	ve_unregister(d);
	KUNIT_EXPECT_EQ(test, ve_state(VE_TEST_CPU)->nr_pinned, 1);
	ve_unregister(a);
	KUNIT_EXPECT_EQ(test, ve_refs_held(), 0);
	for_each_possible_cpu(cpu)
		KUNIT_EXPECT_EQ_MSG(test, ve_state(cpu)->nr_pinned, 0, "CPU %d", cpu);
	ve_expect_all(test, false, 1, 1);
	if (before >= 0)
		KUNIT_EXPECT_EQ(test, ve_module_refs(), before);
}

/* --- memory: VMXON regions ------------------------------------------------------------ */

static unsigned int ve_fake_allocated(void)
{
	unsigned int cpu, n = 0;

	for_each_possible_cpu(cpu)
		n += fake(cpu)->allocated;
	return n;
}

static void ve_test_lazy_memory(struct kunit *test)
{
	struct virt_enable_user *a, *b;

	ve_test_need_cpu(test);
	/* Nothing before the first user... */
	KUNIT_EXPECT_EQ(test, ve_fake_allocated(), 0);

	/* ...one per online CPU from then on, and for a CPU that comes online. */
	KUNIT_ASSERT_EQ(test, remove_cpu(VE_TEST_CPU), 0);
	a = virt_enable_register("a", NULL, NULL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a);
	KUNIT_EXPECT_EQ(test, ve_fake_allocated(), num_online_cpus());
	KUNIT_EXPECT_FALSE(test, fake(VE_TEST_CPU)->allocated);
	KUNIT_ASSERT_EQ(test, add_cpu(VE_TEST_CPU), 0);
	KUNIT_EXPECT_TRUE(test, fake(VE_TEST_CPU)->allocated);
	b = virt_enable_register("b", NULL, NULL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, b);
	KUNIT_EXPECT_EQ(test, fake(0)->allocs, 1);

	/* Freed with the last user, not before. */
	ve_unregister(a);
	KUNIT_EXPECT_EQ(test, ve_fake_allocated(), num_online_cpus());
	ve_unregister(b);
	KUNIT_EXPECT_EQ(test, ve_fake_allocated(), 0);

	/* No memory: -ENOMEM and nothing changed. */
	fake(VE_TEST_CPU)->fail_alloc = -ENOMEM;
	KUNIT_EXPECT_EQ(test, PTR_ERR(virt_enable_register("a", NULL, NULL)), -ENOMEM);
	KUNIT_EXPECT_FALSE(test, ve_armed);
	KUNIT_EXPECT_TRUE(test, list_empty(&ve_users));
	KUNIT_EXPECT_EQ(test, ve_fake_allocated(), 0);
	fake(VE_TEST_CPU)->fail_alloc = 0;
}

/* A CPU that cannot get its memory does not come online. */
static void ve_test_prepare_fails(struct kunit *test)
{
	ve_test_need_cpu(test);
	ve_test_user(test, "a", NULL, NULL);
	KUNIT_ASSERT_EQ(test, remove_cpu(VE_TEST_CPU), 0);
	fake(VE_TEST_CPU)->fail_alloc = -ENOMEM;
	KUNIT_EXPECT_EQ(test, add_cpu(VE_TEST_CPU), -ENOMEM);
	KUNIT_EXPECT_FALSE(test, cpu_online(VE_TEST_CPU));
	fake(VE_TEST_CPU)->fail_alloc = 0;
	KUNIT_EXPECT_EQ(test, add_cpu(VE_TEST_CPU), 0);
}

/* --- names ------------------------------------------------------------------------------ */

static const char *const ve_bad_names[] = {
	"", "with \"quote\"", "back\\slash", "new\nline",
	"0123456789012345678901234567890123456789",
};

static void ve_bad_name_desc(const char *const *name, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "name of %zu bytes", strlen(*name));
}

KUNIT_ARRAY_PARAM(ve_bad_name, ve_bad_names, ve_bad_name_desc);

static void ve_test_bad_name(struct kunit *test)
{
	const char *const *name = test->param_value;

	KUNIT_EXPECT_EQ(test, PTR_ERR(virt_enable_register(*name, NULL, NULL)), -EINVAL);
	KUNIT_EXPECT_TRUE(test, list_empty(&ve_users));
}

/* --- vendor checks: what no emulator here can show ---------------------------------------- */

struct ve_vmx_case {
	const char *what;
	struct ve_vmx_facts facts;
	int error;
	const char *says;	/* a part of the message, for errors */
};

#define VE_LOCKED	FEAT_CTL_LOCKED
#define VE_OUTSIDE	FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX
#define VE_INSIDE	FEAT_CTL_VMX_ENABLED_INSIDE_SMX

/*
 * The facts as the kernel leaves them: X86_FEATURE_VMX (kernel_vmx) is the
 * verdict of the kernel's own IA32_FEAT_CTL check at boot, tboot included.
 */
static const struct ve_vmx_case ve_vmx_cases[] = {
	{ "no VMX in CPUID", { false }, -ENODEV, NULL },
	{ "usable", { true, true, true, VE_LOCKED | VE_OUTSIDE, true }, 0, NULL },
	{ "firmware disabled VT-x",
	  { true, false, true, VE_LOCKED, true }, -EOPNOTSUPP, "firmware setup" },
	/* Under tboot the kernel checks the inside-SMX bit and keeps VMX. */
	{ "tboot: inside SMX allowed",
	  { true, true, true, VE_LOCKED | VE_INSIDE, true }, 0, NULL },
	{ "tboot: both allowed",
	  { true, true, true, VE_LOCKED | VE_INSIDE | VE_OUTSIDE, true }, 0, NULL },
	{ "tboot: only outside SMX allowed",
	  { true, false, true, VE_LOCKED | VE_OUTSIDE, true }, -EOPNOTSUPP, "TXT" },
	{ "no tboot: only inside SMX allowed",
	  { true, false, true, VE_LOCKED | VE_INSIDE, true }, -EOPNOTSUPP, "firmware setup" },
	{ "no CONFIG_KVM_INTEL, locked without VMX",
	  { true, false, true, VE_LOCKED, false }, -EOPNOTSUPP, "CONFIG_KVM_INTEL" },
	{ "unlocked",
	  { true, false, true, VE_OUTSIDE, true }, -EOPNOTSUPP, "not locked" },
	{ "unreadable", { true, false, false, 0, true }, -EOPNOTSUPP, "cannot be read" },
	{ "clearcpuid=vmx",
	  { true, false, true, VE_LOCKED | VE_OUTSIDE, true }, -EOPNOTSUPP, "clearcpuid" },
	{ "clearcpuid=vmx, both allowed",
	  { true, false, true, VE_LOCKED | VE_INSIDE | VE_OUTSIDE, true },
	  -EOPNOTSUPP, "kernel disabled" },
};

static void ve_vmx_case_desc(const struct ve_vmx_case *c, char *desc)
{
	strscpy(desc, c->what, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(ve_vmx_case, ve_vmx_cases, ve_vmx_case_desc);

static void ve_test_vmx_check(struct kunit *test)
{
	const struct ve_vmx_case *c = test->param_value;
	const char *why = NULL;

	KUNIT_EXPECT_EQ(test, ve_kunit_vmx_check(&c->facts, &why), c->error);
	if (c->says) {
		KUNIT_ASSERT_NOT_NULL(test, why);
		KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(why, c->says), "said: %s", why);
	}
}

struct ve_svm_case {
	const char *what;
	struct ve_svm_facts facts;
	int error;
	const char *says;
};

static const struct ve_svm_case ve_svm_cases[] = {
	{ "no SVM in CPUID", { false }, -ENODEV, NULL },
	{ "usable", { true, true, false, false }, 0, NULL },
	{ "firmware set SVMDIS", { true, false, true, false }, -EOPNOTSUPP, "SVMDIS" },
	{ "SEV guest", { true, true, false, true }, -EOPNOTSUPP, "SEV guest" },
	{ "clearcpuid=svm", { true, false, false, false }, -EOPNOTSUPP, "kernel disabled" },
};

static void ve_svm_case_desc(const struct ve_svm_case *c, char *desc)
{
	strscpy(desc, c->what, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(ve_svm_case, ve_svm_cases, ve_svm_case_desc);

static void ve_test_svm_check(struct kunit *test)
{
	const struct ve_svm_case *c = test->param_value;
	const char *why = NULL;

	KUNIT_EXPECT_EQ(test, ve_kunit_svm_check(&c->facts, &why), c->error);
	if (c->says) {
		KUNIT_ASSERT_NOT_NULL(test, why);
		KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(why, c->says), "said: %s", why);
	}
}

/* --- TDX ------------------------------------------------------------- */

/*
 * A fake TDX module that checks the real preconditions: the per-CPU init
 * runs with interrupts off and VMX on, the global init only once every
 * online CPU did its per-CPU init.
 */
struct ve_fake_tdx {
	bool platform;
	int fail_cpu;		/* the per-CPU init fails there when >= 0 */
	int fail_enable;
	/* Counted from every CPU at once, as a broadcast runs the inits. */
	atomic_t cpu_calls;
	atomic_t cpu_inits;
	unsigned int enables;
	atomic_t order_errors;
	struct ve_log *log;
};

static struct ve_fake_tdx ve_tdx;
static DEFINE_PER_CPU(bool, ve_tdx_cpu_done);

static bool ve_fake_tdx_platform(void)
{
	return ve_tdx.platform;
}

static int ve_fake_tdx_cpu_enable(void)
{
	unsigned int cpu = smp_processor_id();

	if (!irqs_disabled() || !fake(cpu)->on)
		atomic_inc(&ve_tdx.order_errors);
	atomic_inc(&ve_tdx.cpu_calls);
	/* As the real one: a CPU initialized once stays so until reboot. */
	if (this_cpu_read(ve_tdx_cpu_done))
		return 0;
	if (ve_tdx.fail_cpu == cpu)
		return -EIO;
	this_cpu_write(ve_tdx_cpu_done, true);
	atomic_inc(&ve_tdx.cpu_inits);
	ve_record(ve_tdx.log, 't', VE_EV_ENABLED, cpu);
	return 0;
}

static int ve_fake_tdx_enable(void)
{
	int cpu;

	for_each_online_cpu(cpu)
		if (!per_cpu(ve_tdx_cpu_done, cpu))
			atomic_inc(&ve_tdx.order_errors);
	ve_tdx.enables++;
	return ve_tdx.fail_enable;
}

static const struct ve_tdx_ops ve_fake_tdx_ops = {
	.platform = ve_fake_tdx_platform,
	.cpu_enable = ve_fake_tdx_cpu_enable,
	.enable = ve_fake_tdx_enable,
};

static void ve_test_tdx_stop(struct kunit_resource *res)
{
	ve_kunit_tdx_stop();
}

static struct virt_enable_user *ve_tdx_find_user(void)
{
	struct virt_enable_user *user;

	list_for_each_entry(user, &ve_users, node)
		if (!strcmp(user->name, "tdx"))
			return user;
	return NULL;
}

static void ve_test_tdx_setup(struct kunit *test, bool platform)
{
	int cpu;

	memset(&ve_tdx, 0, sizeof(ve_tdx));
	ve_tdx.platform = platform;
	ve_tdx.fail_cpu = -1;
	ve_tdx.log = ve_test_log(test);
	for_each_possible_cpu(cpu)
		per_cpu(ve_tdx_cpu_done, cpu) = false;
	kunit_alloc_resource(test, NULL, ve_test_tdx_stop, GFP_KERNEL, NULL);
}

static void ve_test_tdx_bringup(struct kunit *test)
{
	struct virt_enable_user *tdx;

	ve_test_tdx_setup(test, true);
	KUNIT_ASSERT_EQ(test, ve_kunit_tdx_start(&ve_fake_tdx_ops, VE_TDX_AUTO), 0);
	KUNIT_EXPECT_TRUE(test, ve_tdx_active());
	KUNIT_EXPECT_EQ(test, atomic_read(&ve_tdx.order_errors), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ve_tdx.cpu_inits), num_online_cpus());
	KUNIT_EXPECT_EQ(test, ve_tdx.enables, 1);
	ve_expect_all(test, true, 1, 0);
	tdx = ve_tdx_find_user();
	KUNIT_ASSERT_NOT_NULL(test, tdx);
	KUNIT_EXPECT_EQ(test, tdx->nr_permanent, 1);
	/* As the default does at load: the permanent reference pins the module. */
	KUNIT_EXPECT_EQ(test, ve_refs_held(), 1);
}

static void ve_test_tdx_permanent(struct kunit *test)
{
	struct virt_enable_user *tdx, *a;

	ve_test_tdx_setup(test, true);
	KUNIT_ASSERT_EQ(test, ve_kunit_tdx_start(&ve_fake_tdx_ops, VE_TDX_ON), 0);
	tdx = ve_tdx_find_user();
	KUNIT_ASSERT_NOT_NULL(test, tdx);
	KUNIT_EXPECT_EQ(test, ve_put(tdx, VIRT_ENABLE_VMX, VE_REF_SYSTEM), -EPERM);

	/* Other users come and go: VMX stays on, LP_INIT is not repeated. */
	a = virt_enable_register("a", NULL, NULL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, a);
	KUNIT_EXPECT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	virt_enable_put(a, VE_FAKE_FEATURE);
	ve_unregister(a);
	ve_expect_all(test, true, 1, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ve_tdx.cpu_inits), num_online_cpus());
	KUNIT_EXPECT_TRUE(test, ve_tdx_active());
}

/*
 * A CPU that was offline at bringup gets its per-CPU init when it first
 * comes online, with VMX on; one that returns is asked again, which the
 * real tdx_cpu_enable() answers from its per-CPU flag.
 */
static void ve_test_tdx_cpu_online_later(struct kunit *test)
{
	unsigned int calls;

	ve_test_need_cpu(test);
	ve_test_tdx_setup(test, true);
	KUNIT_ASSERT_EQ(test, remove_cpu(VE_TEST_CPU), 0);
	KUNIT_ASSERT_EQ(test, ve_kunit_tdx_start(&ve_fake_tdx_ops, VE_TDX_AUTO), 0);
	KUNIT_EXPECT_FALSE(test, per_cpu(ve_tdx_cpu_done, VE_TEST_CPU));
	KUNIT_EXPECT_EQ(test, ve_find(ve_tdx.log, 0, VE_EV_ENABLED, 't', VE_TEST_CPU), -1);

	KUNIT_ASSERT_EQ(test, add_cpu(VE_TEST_CPU), 0);
	KUNIT_EXPECT_GE(test, ve_find(ve_tdx.log, 0, VE_EV_ENABLED, 't', VE_TEST_CPU), 0);
	KUNIT_EXPECT_TRUE(test, per_cpu(ve_tdx_cpu_done, VE_TEST_CPU));
	KUNIT_EXPECT_EQ(test, atomic_read(&ve_tdx.cpu_inits), num_online_cpus());
	KUNIT_EXPECT_EQ(test, atomic_read(&ve_tdx.order_errors), 0);
	KUNIT_EXPECT_TRUE(test, fake(VE_TEST_CPU)->on);

	KUNIT_ASSERT_EQ(test, remove_cpu(VE_TEST_CPU), 0);
	calls = atomic_read(&ve_tdx.cpu_calls);
	KUNIT_ASSERT_EQ(test, add_cpu(VE_TEST_CPU), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ve_tdx.cpu_calls), calls + 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&ve_tdx.cpu_inits), num_online_cpus());
	KUNIT_EXPECT_EQ(test, atomic_read(&ve_tdx.order_errors), 0);
	KUNIT_EXPECT_TRUE(test, fake(VE_TEST_CPU)->on);
}

static void ve_test_tdx_cpu_init_fails(struct kunit *test)
{
	ve_test_need_cpu(test);
	ve_test_tdx_setup(test, true);
	KUNIT_ASSERT_EQ(test, remove_cpu(VE_TEST_CPU), 0);
	KUNIT_ASSERT_EQ(test, ve_kunit_tdx_start(&ve_fake_tdx_ops, VE_TDX_AUTO), 0);

	/* LP_INIT fails on a CPU coming online: its online fails, VMX off again. */
	ve_tdx.fail_cpu = VE_TEST_CPU;
	KUNIT_EXPECT_EQ(test, add_cpu(VE_TEST_CPU), -EIO);
	KUNIT_EXPECT_FALSE(test, cpu_online(VE_TEST_CPU));
	KUNIT_EXPECT_FALSE(test, fake(VE_TEST_CPU)->on);
	KUNIT_EXPECT_EQ(test, fake(VE_TEST_CPU)->enables, fake(VE_TEST_CPU)->disables);
	ve_tdx.fail_cpu = -1;
}

static void ve_test_tdx_bringup_cpu_fails(struct kunit *test)
{
	ve_test_need_cpu(test);
	ve_test_tdx_setup(test, true);
	ve_tdx.fail_cpu = VE_TEST_CPU;
	KUNIT_EXPECT_EQ(test, ve_kunit_tdx_start(&ve_fake_tdx_ops, VE_TDX_ON), -EIO);
	KUNIT_EXPECT_FALSE(test, ve_tdx_active());
	KUNIT_EXPECT_EQ(test, ve_tdx.enables, 0);
	KUNIT_EXPECT_TRUE(test, list_empty(&ve_users));
	ve_expect_all(test, false, 1, 1);
}

static void ve_test_tdx_global_fails(struct kunit *test)
{
	ve_test_tdx_setup(test, true);
	ve_tdx.fail_enable = -EIO;
	/* auto: the load goes on, TDX stays down, nothing is left behind. */
	KUNIT_EXPECT_EQ(test, ve_kunit_tdx_start(&ve_fake_tdx_ops, VE_TDX_AUTO), 0);
	KUNIT_EXPECT_FALSE(test, ve_tdx_active());
	KUNIT_EXPECT_TRUE(test, list_empty(&ve_users));
	KUNIT_EXPECT_FALSE(test, ve_armed);
	KUNIT_EXPECT_EQ(test, ve_refs_held(), 0);
	ve_expect_all(test, false, 1, 1);
	/* on: the same, and the error fails the load. */
	KUNIT_EXPECT_EQ(test, ve_kunit_tdx_start(&ve_fake_tdx_ops, VE_TDX_ON), -EIO);
	KUNIT_EXPECT_TRUE(test, list_empty(&ve_users));
}

static void ve_test_tdx_suspend_vetoed(struct kunit *test)
{
	unsigned int cpu;

	ve_test_tdx_setup(test, true);
	KUNIT_ASSERT_EQ(test, ve_kunit_tdx_start(&ve_fake_tdx_ops, VE_TDX_AUTO), 0);
	KUNIT_EXPECT_EQ(test, ve_test_do_suspend(true, &cpu), -EBUSY);
	KUNIT_EXPECT_TRUE(test, fake(cpu)->on);
	KUNIT_EXPECT_EQ(test, ve_stats.vetoed_suspends, 1);
}

static void ve_test_tdx_off(struct kunit *test)
{
	ve_test_tdx_setup(test, true);
	KUNIT_EXPECT_EQ(test, ve_kunit_tdx_start(&ve_fake_tdx_ops, VE_TDX_OFF), 0);
	KUNIT_EXPECT_FALSE(test, ve_tdx_active());
	KUNIT_EXPECT_TRUE(test, list_empty(&ve_users));
	KUNIT_EXPECT_EQ(test, atomic_read(&ve_tdx.cpu_inits), 0);
	ve_expect_all(test, false, 0, 0);
}

static void ve_test_tdx_no_platform(struct kunit *test)
{
	ve_test_tdx_setup(test, false);
	KUNIT_EXPECT_EQ(test, ve_kunit_tdx_start(&ve_fake_tdx_ops, VE_TDX_AUTO), 0);
	KUNIT_EXPECT_TRUE(test, list_empty(&ve_users));
	KUNIT_EXPECT_EQ(test, ve_kunit_tdx_start(&ve_fake_tdx_ops, VE_TDX_ON), -ENODEV);
	KUNIT_EXPECT_TRUE(test, list_empty(&ve_users));
	KUNIT_EXPECT_EQ(test, atomic_read(&ve_tdx.cpu_inits), 0);
	ve_expect_all(test, false, 0, 0);
}

static struct kunit_case ve_test_cases[] = {
	KUNIT_CASE(ve_test_first_get_last_put),
	KUNIT_CASE(ve_test_percpu_and_system),
	KUNIT_CASE_PARAM(ve_test_rollback, ve_failing_cpu_gen_params),
	KUNIT_CASE_PARAM(ve_test_bad_put_refused, ve_bad_put_gen_params),
	KUNIT_CASE(ve_test_unbalanced_put_warns),
	KUNIT_CASE(ve_test_permanent),
	KUNIT_CASE(ve_test_reference_bound),
	KUNIT_CASE(ve_test_percpu_fast_paths),
	KUNIT_CASE(ve_test_percpu_under_system),
	KUNIT_CASE(ve_test_system_fast_paths),
	KUNIT_CASE(ve_test_system_count_published_after),
	KUNIT_CASE(ve_test_fast_get_after_failed_resume),
	KUNIT_CASE(ve_test_fast_paths_going_down),
	KUNIT_CASE(ve_test_user_bound),
	KUNIT_CASE(ve_test_duplicate_name),
	KUNIT_CASE(ve_test_not_running),
	KUNIT_CASE(ve_test_callbacks),
	KUNIT_CASE(ve_test_failing_callback),
	KUNIT_CASE(ve_test_percpu_from_hotplug),
	KUNIT_CASE(ve_test_cpu_dies_holding),
	KUNIT_CASE(ve_test_wrong_feature),
	KUNIT_CASE(ve_test_foreign_owner),
	KUNIT_CASE(ve_test_kvm_ride),
	KUNIT_CASE(ve_test_kvm_policy),
	KUNIT_CASE(ve_test_suspend),
	KUNIT_CASE(ve_test_suspend_while_busy),
	KUNIT_CASE(ve_test_resume_fails),
	KUNIT_CASE_PARAM(ve_test_resume_failure_recovers, ve_recovery_gen_params),
	KUNIT_CASE(ve_test_emergency),
	KUNIT_CASE(ve_test_emergency_only_where_on),
	KUNIT_CASE(ve_test_emergency_during_disable),
	KUNIT_CASE(ve_test_disable_failure_keeps_ownership),
	KUNIT_CASE(ve_test_window),
	KUNIT_CASE(ve_test_window_uncovered),
	KUNIT_CASE(ve_test_window_nested),
	KUNIT_CASE(ve_test_window_going_down),
	KUNIT_CASE(ve_test_window_hw_off),
	KUNIT_CASE(ve_test_window_state),
	KUNIT_CASE(ve_test_real_disable_after_foreign_off),
	KUNIT_CASE(ve_test_unregister_balance),
	KUNIT_CASE(ve_test_lazy_memory),
	KUNIT_CASE(ve_test_prepare_fails),
	KUNIT_CASE_PARAM(ve_test_bad_name, ve_bad_name_gen_params),
	KUNIT_CASE_PARAM(ve_test_vmx_check, ve_vmx_case_gen_params),
	KUNIT_CASE_PARAM(ve_test_svm_check, ve_svm_case_gen_params),
	KUNIT_CASE(ve_test_tdx_bringup),
	KUNIT_CASE(ve_test_tdx_permanent),
	KUNIT_CASE(ve_test_tdx_cpu_online_later),
	KUNIT_CASE(ve_test_tdx_cpu_init_fails),
	KUNIT_CASE(ve_test_tdx_bringup_cpu_fails),
	KUNIT_CASE(ve_test_tdx_global_fails),
	KUNIT_CASE(ve_test_tdx_suspend_vetoed),
	KUNIT_CASE(ve_test_tdx_off),
	KUNIT_CASE(ve_test_tdx_no_platform),
	{}
};

static struct kunit_suite ve_test_suite = {
	.name = "virt_enable",
	.init = ve_test_init,
	.test_cases = ve_test_cases,
};

kunit_test_suite(ve_test_suite);

MODULE_DESCRIPTION("KUnit tests of the virt_enable core");
MODULE_LICENSE("GPL");
