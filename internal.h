/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Interfaces between the files of virt_enable: the core (virt_enable.c),
 * its lifecycle (lifecycle.c) and where the kernel calls it (hooks.c), the
 * policy towards unmodified KVM (kvm_policy.c), the state view (state.c),
 * the debugfs controls (debugfs.c), TDX (tdx_hooks.c) and the vendor
 * backends.  Nothing here is exported.
 */
#ifndef _VIRT_ENABLE_INTERNAL_H
#define _VIRT_ENABLE_INTERNAL_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>

#include "virt_enable.h"

/**
 * struct ve_vendor_ops - one vendor's way of switching virtualization
 * @name: feature name as shown to users ("vmx", "svm").
 * @feature: the feature these ops switch.
 * @init: load-time check that this CPU model offers the feature and the
 *	firmware and kernel left it usable; -ENODEV means "not this vendor",
 *	anything else is reported as is.
 * @alloc_cpu: optional; memory a CPU needs before its first enable (the
 *	VMXON region), allocated in process context before that CPU can be
 *	enabled with interrupts off.  Idempotent.
 * @free_cpu: optional; undo @alloc_cpu once nobody can enable that CPU.
 * @cpu_is_on: whether the hardware reports the feature as on, on this CPU,
 *	whoever turned it on.
 * @enable_cpu: turn the feature on, on this CPU, with interrupts disabled.
 *	Either succeeds or leaves the CPU as it found it; -EBUSY where the
 *	feature is on already (someone else's: the core enables only CPUs it
 *	has not).
 * @disable_cpu: turn the feature off, on this CPU, with interrupts
 *	disabled.  0 once it is off, whatever turned it off first (VMXOFF
 *	faulting means the CPU was not in VMX operation); an error only
 *	where the feature is still on (VMXOFF VMfail).
 * @emergency_disable_cpu: the same from NMI or crash context, with the
 *	same meaning of its result.  Idempotent, and safe on a CPU left half
 *	way through @enable_cpu or @disable_cpu.
 * @window_save: on this CPU, with the feature on and interrupts disabled,
 *	return the state a window's user may change and must get back: the
 *	current-VMCS pointer (VMPTRST), MSR_VM_HSAVE_PA.
 * @window_restore: put back what @window_save returned; 0, or an error
 *	where it cannot (VMPTRLD VMfail).
 *
 * The core picks one table at load time and calls only through it.
 */
struct ve_vendor_ops {
	const char *name;
	enum virt_enable_feature feature;
	int (*init)(void);
	int (*alloc_cpu)(unsigned int cpu);
	void (*free_cpu)(unsigned int cpu);
	bool (*cpu_is_on)(void);
	int (*enable_cpu)(void);
	int (*disable_cpu)(void);
	int (*emergency_disable_cpu)(void);
	u64 (*window_save)(void);
	int (*window_restore)(u64 saved);
};

extern const struct ve_vendor_ops ve_vmx_ops;
extern const struct ve_vendor_ops ve_svm_ops;

/* Kinds of reference, as the debugfs controls and the trace events name them. */
enum ve_ref_kind {
	VE_REF_SYSTEM,
	VE_REF_PERMANENT,
	VE_REF_CPU,
};

/* Why a CPU's hardware changed state, for the trace events. */
enum ve_reason {
	VE_WHY_REFERENCE,
	VE_WHY_ROLLBACK,
	VE_WHY_HOTPLUG,
	VE_WHY_SUSPEND,
	VE_WHY_RESUME,
	VE_WHY_SHUTDOWN,
	VE_WHY_EMERGENCY,
};

/*
 * References of one kind a user may hold (system-wide, permanent, or on
 * one CPU): far more than any real use needs, and small enough that no
 * counter overflows.  A CPU's counts below count users, at most
 * VE_MAX_USERS.
 */
#define VE_MAX_REFS	BIT(20)

/*
 * One CPU's state.  @owned and @on bracket each switch of the hardware, so
 * that the emergency path, which can interrupt it anywhere, does the right
 * thing:
 *
 *   on:  owned = 1; vendor enable; on = 1
 *   off: users' ->cpu_disabling; on = 0; vendor disable; owned = 0
 *
 * @on means the hardware is on, ours, and usable by users: users'
 * ->emergency callbacks (VMCLEAR) run only while it is set.  @owned means
 * the hardware may be on because of us: the emergency path forces it off
 * while it is set.  A failed disable (VMXOFF VMfail) sets @on again, the
 * hardware being still on and ours.
 */
struct ve_cpu {
	bool online;		/* between virt_enable's online and offline steps */
	bool suspended;		/* the last CPU, between suspend and resume */
	bool system;		/* system-wide references cover this CPU */
	bool owned;		/* enabling started, no disable succeeded since */
	bool on;		/* enabled by us, not being disabled */
	unsigned int nr_pinned;	/* users with per-CPU references here */
	unsigned long nr_enables;
	unsigned long nr_disables;
	unsigned long nr_emergencies;
	unsigned long nr_disable_failures;
	struct virt_enable_user *window;	/* whose window is open here */
	unsigned long nr_window_failures;	/* restores that failed */
};

/*
 * @refs is written only on its own CPU (or, while that CPU is offline,
 * under ve_lock): the per-CPU fast paths change it with this_cpu_cmpxchg()
 * and nothing else.
 */
struct ve_user_cpu {
	unsigned int refs;	/* this user's per-CPU references */
	bool active;		/* ->cpu_enabled ran, ->cpu_disabling did not */
	bool ready;		/* more references may take the fast path */
	unsigned long windows;	/* windows this user opened on this CPU */
};

struct virt_enable_user {
	struct list_head node;
	char name[VIRT_ENABLE_NAME_LEN];
	const struct virt_enable_user_ops *ops;
	void *data;
	atomic_t nr_refs;	/* system-wide; see ve_get_system_fast() */
	unsigned int nr_permanent;
	bool system;		/* holds system-wide or permanent references */
	bool suspended;		/* ->suspend returned 0, ->resume is due */
	struct ve_user_cpu __percpu *cpu;
};

struct ve_stats {
	unsigned long broadcasts;
	unsigned long rollbacks;
	unsigned long vetoed_suspends;
	unsigned long resume_failures;
	atomic_long_t refused_puts;	/* kernel callers only: debugfs gets errors */
	atomic_long_t busy;
};

/* The core's state, shared by its files; see virt_enable.c for the locking. */
extern const struct ve_vendor_ops *ve_vendor;
extern struct mutex ve_lock;
extern struct list_head ve_users;
extern unsigned int ve_nr_system_users;
extern bool ve_lagging;
extern bool ve_going_down;
extern bool ve_armed;
extern struct ve_stats ve_stats;
DECLARE_PER_CPU(struct ve_cpu, ve_cpus);

/* virt_enable.c: users, references and the per-CPU reconcile. */
void ve_cpu_unready(void);
int ve_core_init(const struct ve_vendor_ops *vendor);
void ve_core_exit(void);
bool ve_cpu_wanted(const struct ve_cpu *vc);
int ve_cpu_reconcile(struct ve_cpu *vc, enum ve_reason why);
int ve_broadcast(enum ve_reason why);
void ve_cpu_forget_pinned(unsigned int cpu);
bool ve_user_covers(struct virt_enable_user *user, const struct ve_cpu *vc);
const char *ve_feature_name(enum virt_enable_feature feature);
int ve_feature_parse(const char *name, enum virt_enable_feature *feature);

void ve_unregister(struct virt_enable_user *user);

/*
 * Reference operations without the WARN that the exported API gives kernel
 * callers on misuse: debugfs passes user input through them and reports
 * the error instead.  VE_REF_CPU acts on the current CPU; call it with
 * interrupts disabled or from a cross-CPU function call.
 */
int ve_get(struct virt_enable_user *user, enum virt_enable_feature feature,
	   enum ve_ref_kind kind);
int ve_put(struct virt_enable_user *user, enum virt_enable_feature feature,
	   enum ve_ref_kind kind);

/* lifecycle.c: what hotplug, suspend, shutdown and a crash do. */
int ve_cpus_alloc(void);
void ve_cpus_free(void);
int ve_cpu_prepare(unsigned int cpu);
int ve_cpu_dead(unsigned int cpu);
int ve_cpu_online(unsigned int cpu);
int ve_cpu_offline(unsigned int cpu);
int ve_suspend(void);
void ve_resume(void);
void ve_shutdown(void);
void ve_emergency_disable_cpu(void);

/* hooks.c: where the kernel calls them. */
int ve_lifecycle_init(void);
void ve_lifecycle_exit(void);
void ve_syscore_reorder(void);
int ve_emergency_hook_claim(void);
void ve_emergency_hook_release(void);
bool ve_emergency_hook_available(void);

/* ride.c: riding an unmodified KVM, which switches the hardware itself. */
extern struct module *ve_ride_kvm;
int ve_ride_prepare(void);
bool ve_ride_ready(void);
void ve_ride_unhold(void);
void ve_ride_flush(void);
int ve_ride_cpu_on(void);
void ve_ride_cpu_off(void);
void ve_ride_start(struct module *kvm);
void ve_ride_stop(void);
bool ve_ride_holds_vm(void);
void ve_ride_exit(void);

/* kvm_policy.c: an unmodified KVM owns the hardware by itself. */
struct module *ve_foreign_kvm(void);
int ve_watch_kvm_modules(void);
void ve_unwatch_kvm_modules(void);

/* state.c: what the debugfs state file and sysfs show. */
void ve_state_show(struct seq_file *m);
void ve_user_show(struct seq_file *m, struct virt_enable_user *user);
int ve_sysfs_init(void);
void ve_sysfs_exit(void);

/* debugfs.c */
void ve_debugfs_init(void);
void ve_debugfs_exit(void);

/* tdx_hooks.c */

/**
 * struct ve_tdx_ops - the TDX host operations tdx_hooks.c needs
 * @platform: whether this machine has TDX (the kernel found a TDX module).
 * @cpu_enable: TDH.SYS.LP_INIT on this CPU; interrupts off, VMX on.
 * @enable: initialize the TDX module; cpus_read_lock() held and
 *	@cpu_enable done on every online CPU.
 *
 * Real by default; the KUnit tests substitute fakes.
 */
struct ve_tdx_ops {
	bool (*platform)(void);
	int (*cpu_enable)(void);
	int (*enable)(void);
};

enum ve_tdx_policy {
	VE_TDX_AUTO,
	VE_TDX_ON,
	VE_TDX_OFF,
};

int ve_tdx_init(void);
bool ve_tdx_active(void);

#endif /* _VIRT_ENABLE_INTERNAL_H */
