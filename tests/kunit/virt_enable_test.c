// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the virt_enable core.
 *
 * The core is compiled into this module as it is (its statics become
 * visible here) and driven through the same vendor ops table the VMX and
 * SVM backends fill, with a fake backend that records every transition per
 * CPU.  Everything else is real: IPIs, CPU hotplug (CPU 1 goes offline and
 * online), the syscore and emergency entry points.  The core's exports
 * become plain functions here, so this module never clashes with
 * virt_enable itself; do not load both at once anyway, since both claim the
 * kernel's emergency hook while users exist.
 */
#include <linux/export.h>
#undef EXPORT_SYMBOL_GPL
#define EXPORT_SYMBOL_GPL(sym) __ADDRESSABLE(sym)

#include "../../virt_enable.c"

#include <kunit/test.h>
#include <linux/spinlock.h>

#define VE_FAKE_FEATURE		VIRT_ENABLE_VMX
#define VE_FAKE_OTHER		VIRT_ENABLE_SVM
#define VE_TEST_CPU		1	/* the CPU hotplug tests take offline */

/* The fake hardware, one per CPU; touched only by its CPU with IRQs off. */
struct ve_fake_cpu {
	bool on;
	bool foreign;		/* someone else's VMXON: cpu_is_on() says yes */
	int fail_enable;	/* enable_cpu() returns this when non-zero */
	unsigned int enables;
	unsigned int disables;
	unsigned int emergencies;
	unsigned int bad;	/* enabled twice, or disabled while off */
};

static DEFINE_PER_CPU(struct ve_fake_cpu, ve_fake);

static struct ve_fake_cpu *fake(unsigned int cpu)
{
	return per_cpu_ptr(&ve_fake, cpu);
}

static int ve_fake_init(void)
{
	return 0;
}

static void ve_fake_exit(void)
{
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
	if (f->fail_enable)
		return f->fail_enable;
	if (f->on)
		f->bad++;
	f->on = true;
	f->enables++;
	return 0;
}

static void ve_fake_disable_cpu(void)
{
	struct ve_fake_cpu *f = this_cpu_ptr(&ve_fake);

	lockdep_assert_irqs_disabled();
	if (!f->on)
		f->bad++;
	f->on = false;
	f->disables++;
}

static void ve_fake_emergency_disable_cpu(void)
{
	struct ve_fake_cpu *f = this_cpu_ptr(&ve_fake);

	f->on = false;
	f->emergencies++;
}

static const struct ve_vendor_ops ve_fake_ops = {
	.name = "fake",
	.feature = VE_FAKE_FEATURE,
	.init = ve_fake_init,
	.exit = ve_fake_exit,
	.cpu_is_on = ve_fake_cpu_is_on,
	.enable_cpu = ve_fake_enable_cpu,
	.disable_cpu = ve_fake_disable_cpu,
	.emergency_disable_cpu = ve_fake_emergency_disable_cpu,
};

/* What users' callbacks saw, in order, from any CPU. */
enum ve_event_kind { VE_EV_ENABLED, VE_EV_DISABLING, VE_EV_EMERGENCY };

struct ve_event {
	enum ve_event_kind kind;
	char user;
	unsigned int cpu;	/* the argument */
	unsigned int ran_on;	/* smp_processor_id() */
	bool hw_on;		/* the fake hardware at that moment */
};

struct ve_log {
	raw_spinlock_t lock;
	unsigned int len;
	struct ve_event events[64];
};

/* One recording user: its name letter, its log, its failure injection. */
struct ve_recorder {
	char id;
	struct ve_log *log;
	int fail_cpu;		/* cpu_enabled() fails there when >= 0 */
	int suspend_result;
};

static void ve_record(struct ve_recorder *rec, enum ve_event_kind kind,
		      unsigned int cpu)
{
	struct ve_log *log = rec->log;
	unsigned long flags;

	raw_spin_lock_irqsave(&log->lock, flags);
	if (log->len < ARRAY_SIZE(log->events))
		log->events[log->len++] = (struct ve_event) {
			.kind = kind,
			.user = rec->id,
			.cpu = cpu,
			.ran_on = raw_smp_processor_id(),
			.hw_on = this_cpu_ptr(&ve_fake)->on,
		};
	raw_spin_unlock_irqrestore(&log->lock, flags);
}

static int ve_rec_enabled(unsigned int cpu, void *data)
{
	struct ve_recorder *rec = data;

	if (rec->fail_cpu == cpu)
		return -EIO;
	ve_record(rec, VE_EV_ENABLED, cpu);
	return 0;
}

static void ve_rec_disabling(unsigned int cpu, void *data)
{
	ve_record(data, VE_EV_DISABLING, cpu);
}

static int ve_rec_suspend(void *data)
{
	struct ve_recorder *rec = data;

	return rec->suspend_result;
}

static void ve_rec_emergency(void *data)
{
	ve_record(data, VE_EV_EMERGENCY, raw_smp_processor_id());
}

static const struct virt_enable_user_ops ve_rec_ops = {
	.cpu_enabled = ve_rec_enabled,
	.cpu_disabling = ve_rec_disabling,
	.suspend = ve_rec_suspend,
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

static int ve_test_init(struct kunit *test)
{
	int cpu;

	for_each_possible_cpu(cpu)
		memset(fake(cpu), 0, sizeof(struct ve_fake_cpu));
	KUNIT_ASSERT_EQ(test, ve_core_init(&ve_fake_ops), 0);
	kunit_alloc_resource(test, NULL, ve_test_core_free, GFP_KERNEL, NULL);
	return 0;
}

static struct ve_log *ve_test_log(struct kunit *test)
{
	struct ve_log *log = kunit_kzalloc(test, sizeof(*log), GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, log);
	raw_spin_lock_init(&log->lock);
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
	KUNIT_EXPECT_EQ(test, a->nr_refs, 2);
	KUNIT_EXPECT_EQ(test, ve_nr_system_users, 2);

	virt_enable_put(a, VE_FAKE_FEATURE);
	virt_enable_put(b, VE_FAKE_FEATURE);
	ve_expect_all(test, true, 1, 0);

	virt_enable_put(a, VE_FAKE_FEATURE);
	ve_expect_all(test, false, 1, 1);
	KUNIT_EXPECT_EQ(test, ve_stats.broadcasts, 2);
	KUNIT_EXPECT_EQ(test, ve_nr_system_users, 0);
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
	KUNIT_EXPECT_EQ(test, per_cpu_ptr(&ve_cpus, VE_TEST_CPU)->nr_local, 2);
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
	KUNIT_EXPECT_EQ(test, per_cpu_ptr(&ve_cpus, VE_TEST_CPU)->nr_local, 0);
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
	KUNIT_EXPECT_EQ(test, a->nr_refs, 0);
	KUNIT_EXPECT_FALSE(test, a->system);
	KUNIT_EXPECT_EQ(test, ve_nr_system_users, 0);
	KUNIT_EXPECT_EQ(test, ve_stats.rollbacks, 1);

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
	unsigned int refs, permanent;
	int r;

	if (put->holds)
		KUNIT_ASSERT_EQ(test, ve_get(a, VE_FAKE_FEATURE, put->held), 0);
	refs = a->nr_refs;
	permanent = a->nr_permanent;

	if (put->put == VE_REF_CPU && put->feature == VE_FAKE_FEATURE) {
		struct ve_on_cpu call = { .user = a };

		smp_call_function_single(0, ve_put_on_this_cpu, &call, 1);
		r = call.result;
	} else {
		r = ve_put(a, put->feature, put->put);
	}
	KUNIT_EXPECT_EQ(test, r, put->error);
	KUNIT_EXPECT_EQ(test, a->nr_refs, refs);
	KUNIT_EXPECT_EQ(test, a->nr_permanent, permanent);
	KUNIT_EXPECT_EQ(test, per_cpu_ptr(a->cpu, 0)->refs, 0);
	KUNIT_EXPECT_EQ(test, per_cpu_ptr(&ve_cpus, 0)->nr_local, 0);
	ve_expect_all(test, put->holds, put->holds, 0);
}

/* The exported put: refused, counted, one WARN for the whole run. */
static void ve_test_unbalanced_put_warns(struct kunit *test)
{
	struct virt_enable_user *a = ve_test_user(test, "a", NULL, NULL);

	virt_enable_put(a, VE_FAKE_FEATURE);
	virt_enable_put(a, VE_FAKE_FEATURE);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&ve_stats.refused_puts), 2);
	KUNIT_EXPECT_EQ(test, a->nr_refs, 0);
	KUNIT_EXPECT_EQ(test, ve_nr_system_users, 0);
	KUNIT_EXPECT_TRUE(test, test_taint(TAINT_WARN));
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
}

/* Each CPU saw @id enabled, then disabled, with the hardware on both times. */
static void ve_expect_paired(struct kunit *test, struct ve_log *log, char id)
{
	int cpu;

	for_each_online_cpu(cpu) {
		int enabled = -1, disabling = -1, i;

		for (i = 0; i < log->len; i++) {
			struct ve_event *ev = &log->events[i];

			if (ev->user != id || ev->cpu != cpu)
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

/* Index of the first event of @kind by @id on @cpu at or after @from. */
static int ve_find(struct ve_log *log, int from, enum ve_event_kind kind,
		   char id, unsigned int cpu)
{
	int i;

	for (i = from; i < log->len; i++)
		if (log->events[i].kind == kind && log->events[i].user == id &&
		    log->events[i].cpu == cpu)
			return i;
	return -1;
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
	mark = log->len;
	KUNIT_ASSERT_EQ(test, remove_cpu(VE_TEST_CPU), 0);
	KUNIT_EXPECT_FALSE(test, fake(VE_TEST_CPU)->on);
	KUNIT_EXPECT_LT(test, ve_find(log, mark, VE_EV_DISABLING, 'b', VE_TEST_CPU),
			ve_find(log, mark, VE_EV_DISABLING, 'a', VE_TEST_CPU));
	KUNIT_EXPECT_GE(test, ve_find(log, mark, VE_EV_DISABLING, 'b', VE_TEST_CPU), 0);

	/* ...and comes back while held: hardware first, users in order. */
	mark = log->len;
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
	KUNIT_EXPECT_EQ(test, log->len, 4 * num_online_cpus() + 4);
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

static void ve_test_wrong_feature(struct kunit *test)
{
	struct virt_enable_user *a = ve_test_user(test, "a", NULL, NULL);

	KUNIT_EXPECT_EQ(test, virt_enable_get(a, VE_FAKE_OTHER), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, virt_enable_get_permanent(a, VE_FAKE_OTHER), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, virt_enable_get_cpu(a, VE_FAKE_OTHER), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, ve_put(a, VE_FAKE_OTHER, VE_REF_SYSTEM), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, virt_enable_feature(), VE_FAKE_FEATURE);
	KUNIT_EXPECT_EQ(test, a->nr_refs + a->nr_permanent, 0);
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

static void ve_test_suspend(struct kunit *test)
{
	struct ve_log *log = ve_test_log(test);
	struct virt_enable_user *a, *veto;
	unsigned int cpu;
	int r;

	a = ve_test_recorder(test, 'a', log);
	veto = ve_test_recorder(test, 'v', log);
	KUNIT_ASSERT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);

	/* syscore runs these on the last CPU with IRQs off; so do we. */
	ve_rec(veto)->suspend_result = -EBUSY;
	local_irq_disable();
	cpu = smp_processor_id();
	r = ve_suspend();
	local_irq_enable();
	KUNIT_EXPECT_EQ(test, r, -EBUSY);
	KUNIT_EXPECT_TRUE(test, fake(cpu)->on);
	KUNIT_EXPECT_EQ(test, ve_stats.vetoed_suspends, 1);
	KUNIT_EXPECT_EQ(test, ve_find(log, 0, VE_EV_DISABLING, 'a', cpu), -1);

	ve_rec(veto)->suspend_result = 0;
	local_irq_disable();
	cpu = smp_processor_id();
	r = ve_suspend();
	KUNIT_EXPECT_FALSE(test, fake(cpu)->on);
	if (!r)
		ve_resume();
	local_irq_enable();
	KUNIT_EXPECT_EQ(test, r, 0);
	KUNIT_EXPECT_TRUE(test, fake(cpu)->on);
	KUNIT_EXPECT_EQ(test, fake(cpu)->enables, 2);
	KUNIT_EXPECT_EQ(test, fake(cpu)->disables, 1);
	/* The user stopped before the hardware went off, and started again. */
	r = ve_find(log, 0, VE_EV_DISABLING, 'a', cpu);
	KUNIT_ASSERT_GE(test, r, 0);
	KUNIT_EXPECT_GT(test, ve_find(log, r, VE_EV_ENABLED, 'a', cpu), r);
}

static void ve_emergency_ipi(void *unused)
{
	ve_emergency_disable_cpu();
}

static void ve_test_emergency(struct kunit *test)
{
	struct ve_log *log = ve_test_log(test);
	struct virt_enable_user *a, *b;
	int cpu, i;

	ve_test_need_cpu(test);
	a = ve_test_recorder(test, 'a', log);
	b = ve_test_user(test, "b", NULL, NULL);
	KUNIT_ASSERT_EQ(test, virt_enable_get(a, VE_FAKE_FEATURE), 0);
	KUNIT_ASSERT_EQ(test, ve_test_cpu_ref(b, VE_TEST_CPU, true), 0);

	/* Twice: the second call must be harmless. */
	for (i = 0; i < 2; i++) {
		on_each_cpu(ve_emergency_ipi, NULL, 1);
		for_each_online_cpu(cpu) {
			int first = ve_find(log, 0, VE_EV_EMERGENCY, 'a', cpu);

			KUNIT_EXPECT_FALSE_MSG(test, fake(cpu)->on, "CPU %d", cpu);
			KUNIT_EXPECT_EQ_MSG(test, fake(cpu)->emergencies, 1, "CPU %d", cpu);
			KUNIT_EXPECT_EQ_MSG(test, fake(cpu)->disables, 0, "CPU %d", cpu);
			/* The user's callback ran first, with the hardware still on. */
			KUNIT_ASSERT_GE(test, first, 0);
			KUNIT_EXPECT_TRUE_MSG(test, log->events[first].hw_on, "CPU %d", cpu);
		}
	}
	/* Regardless of counts: every reference is still held... */
	KUNIT_EXPECT_EQ(test, a->nr_refs, 1);
	KUNIT_EXPECT_EQ(test, per_cpu_ptr(b->cpu, VE_TEST_CPU)->refs, 1);
	/* ...and nothing turns the hardware back on. */
	KUNIT_EXPECT_EQ(test, virt_enable_get(b, VE_FAKE_FEATURE), -ESHUTDOWN);
	KUNIT_EXPECT_EQ(test, ve_test_cpu_ref(b, VE_TEST_CPU, true), -ESHUTDOWN);
}

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

static struct kunit_case ve_test_cases[] = {
	KUNIT_CASE(ve_test_first_get_last_put),
	KUNIT_CASE(ve_test_percpu_and_system),
	KUNIT_CASE_PARAM(ve_test_rollback, ve_failing_cpu_gen_params),
	KUNIT_CASE_PARAM(ve_test_bad_put_refused, ve_bad_put_gen_params),
	KUNIT_CASE(ve_test_unbalanced_put_warns),
	KUNIT_CASE(ve_test_permanent),
	KUNIT_CASE(ve_test_callbacks),
	KUNIT_CASE(ve_test_failing_callback),
	KUNIT_CASE(ve_test_wrong_feature),
	KUNIT_CASE(ve_test_foreign_owner),
	KUNIT_CASE(ve_test_suspend),
	KUNIT_CASE(ve_test_emergency),
	KUNIT_CASE_PARAM(ve_test_bad_name, ve_bad_name_gen_params),
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
