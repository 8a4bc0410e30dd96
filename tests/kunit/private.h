/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the KUnit cases reach in their private copy of the core
 * (tests/kunit/core/) beyond internal.h: its static functions and state,
 * exposed by the files that compile it.
 */
#ifndef _VE_KUNIT_PRIVATE_H
#define _VE_KUNIT_PRIVATE_H

#include "../../internal.h"
#include "../../vendor_checks.h"

/* core/virt_enable.c */
struct ve_cpu *ve_cpu_state(unsigned int cpu);
unsigned int ve_refs_held(void);
int ve_module_refs(void);

/* core/hooks.c: the emergency callback the copy registered, or NULL. */
extern void (*ve_kunit_emergency_hook)(void);

/* core/kvm_policy.c, core/vmx_on.c, core/svm_on.c, core/tdx_hooks.c */
int ve_kunit_module_notify(unsigned long action, struct module *mod);
int ve_kunit_vmx_check(const struct ve_vmx_facts *f, const char **why);
int ve_kunit_svm_check(const struct ve_svm_facts *f, const char **why);
int ve_kunit_tdx_start(const struct ve_tdx_ops *ops, enum ve_tdx_policy policy);
void ve_kunit_tdx_stop(void);

#endif /* _VE_KUNIT_PRIVATE_H */
