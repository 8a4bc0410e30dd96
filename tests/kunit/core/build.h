/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * How the KUnit module compiles its private copy of the virt_enable core.
 *
 * Each file here includes one of the core's sources, unchanged, after this
 * header, so that the tests run the very code the module runs, on a fake
 * backend, without touching the loaded virt_enable: the copy lives in the
 * test module, with its own users, locks and per-CPU state, and reaches
 * the kernel only through hotplug states of its own (hooks.c here).
 *
 * Two things would reach further, and are turned off here: the exports,
 * which would clash with the loaded module's, and the trace events, which
 * would be registered a second time under the same names.
 */
#ifndef _VE_KUNIT_CORE_BUILD_H
#define _VE_KUNIT_CORE_BUILD_H

/* Tracepoints compile to nothing in this copy (see <linux/tracepoint.h>). */
#define NOTRACE

/* So do exports, as for the EFI stub (see <linux/export.h>). */
#define __DISABLE_EXPORTS

#endif /* _VE_KUNIT_CORE_BUILD_H */
