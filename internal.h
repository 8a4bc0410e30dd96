/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Interfaces between the virt_enable core, its vendor backends and its
 * debugfs front end.  Nothing here is exported.
 */
#ifndef _VIRT_ENABLE_INTERNAL_H
#define _VIRT_ENABLE_INTERNAL_H

#include <linux/seq_file.h>

#include "virt_enable.h"

/**
 * struct ve_vendor_ops - one vendor's way of switching virtualization
 * @name: feature name as shown to users ("vmx", "svm").
 * @feature: the feature these ops switch.
 * @init: load-time check that this CPU model offers the feature and the
 *	firmware left it usable, plus any allocation; -ENODEV means "not this
 *	vendor", anything else is reported as is.
 * @exit: undo @init.
 * @cpu_is_on: whether the hardware reports the feature as on, on this CPU,
 *	whoever turned it on.
 * @enable_cpu: turn the feature on, on this CPU, with interrupts disabled.
 *	Either succeeds or leaves the CPU as it found it.
 * @disable_cpu: turn the feature off, on this CPU, with interrupts disabled.
 * @emergency_disable_cpu: force the feature off from NMI or crash context.
 *	Idempotent, and safe on a CPU left half way through @enable_cpu.
 *
 * The core picks one table at load time and calls only through it.
 */
struct ve_vendor_ops {
	const char *name;
	enum virt_enable_feature feature;
	int (*init)(void);
	void (*exit)(void);
	bool (*cpu_is_on)(void);
	int (*enable_cpu)(void);
	void (*disable_cpu)(void);
	void (*emergency_disable_cpu)(void);
};

extern const struct ve_vendor_ops ve_vmx_ops;
extern const struct ve_vendor_ops ve_svm_ops;

/* Kinds of reference, as the debugfs controls name them. */
enum ve_ref_kind {
	VE_REF_SYSTEM,
	VE_REF_PERMANENT,
	VE_REF_CPU,
};

int ve_core_init(const struct ve_vendor_ops *vendor);
void ve_core_exit(void);
int ve_watch_kvm_modules(void);
void ve_unwatch_kvm_modules(void);

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
void ve_unregister(struct virt_enable_user *user);
void ve_user_show(struct seq_file *m, struct virt_enable_user *user);
void ve_state_show(struct seq_file *m);
int ve_feature_parse(const char *name, enum virt_enable_feature *feature);

void ve_debugfs_init(void);
void ve_debugfs_exit(void);

#endif /* _VIRT_ENABLE_INTERNAL_H */
