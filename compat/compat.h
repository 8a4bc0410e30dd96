/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Differences between the kernels virt_enable supports, found by
 * compat/probe.sh from the target kernel's headers at build time.
 */
#ifndef _VIRT_ENABLE_COMPAT_H
#define _VIRT_ENABLE_COMPAT_H

#include <linux/syscore_ops.h>
#include <asm/reboot.h>

#include "probed.h"

#ifdef VE_HAVE_UPSTREAM_X86_VIRT_REF
/* arch/x86/virt/hw.c: the kernel itself shares VMX/SVM between its users. */
#error "Linux 7.1+ switches VMX/SVM itself: use x86_virt_get_ref()/x86_virt_put_ref()"
#endif

/*
 * VE_DEFINE_SYSCORE(name, suspend, resume, shutdown) defines syscore
 * registration @name calling int suspend(void), void resume(void) and
 * void shutdown(void), for either flavour of the syscore API.
 */
#ifdef VE_HAVE_REGISTER_SYSCORE
#define VE_DEFINE_SYSCORE(name, suspend_fn, resume_fn, shutdown_fn)	\
static int name##_suspend(void *data) { return suspend_fn(); }		\
static void name##_resume(void *data) { resume_fn(); }			\
static void name##_shutdown(void *data) { shutdown_fn(); }		\
static struct syscore name = {						\
	.ops = &(const struct syscore_ops) {				\
		.suspend = name##_suspend,				\
		.resume = name##_resume,				\
		.shutdown = name##_shutdown,				\
	},								\
}

#define ve_syscore_register(s)		register_syscore(s)
#define ve_syscore_unregister(s)	unregister_syscore(s)
#else
#define VE_DEFINE_SYSCORE(name, suspend_fn, resume_fn, shutdown_fn)	\
static struct syscore_ops name = {					\
	.suspend = suspend_fn,						\
	.resume = resume_fn,						\
	.shutdown = shutdown_fn,					\
}

#define ve_syscore_register(s)		register_syscore_ops(s)
#define ve_syscore_unregister(s)	unregister_syscore_ops(s)
#endif

/*
 * The kernel's single emergency virtualization callback, run on every CPU
 * for crash, kexec-on-panic and emergency reboot.  Kernels built without
 * KVM have none, and then nothing forces VMX/SVM off in those paths.
 */
#ifdef VE_HAVE_EMERGENCY_VIRT_HOOK
#define VE_HAVE_EMERGENCY_HOOK	1
#define ve_emergency_hook_register(cb)	cpu_emergency_register_virt_callback(cb)
#define ve_emergency_hook_unregister(cb) cpu_emergency_unregister_virt_callback(cb)
#else
#define VE_HAVE_EMERGENCY_HOOK	0
static inline void ve_emergency_hook_register(void (*cb)(void)) { }
static inline void ve_emergency_hook_unregister(void (*cb)(void)) { }
#endif

/* Take a file out of the current task's file table (renamed in 6.10). */
#ifdef VE_HAVE_FILE_CLOSE_FD
#define ve_close_fd_get_file(fd)	file_close_fd(fd)
#else
#define ve_close_fd_get_file(fd)	close_fd_get_file(fd)
#endif

/*
 * VE_KEXEC_SKIPS_SYSCORE_SHUTDOWN (probed.h): kexec does not call
 * syscore_shutdown() on this kernel.  See ve_shutdown() and
 * compat/probe.sh.
 */

#endif /* _VIRT_ENABLE_COMPAT_H */
