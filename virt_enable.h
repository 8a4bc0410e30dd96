/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virt_enable: shared ownership of x86 hardware virtualization (VMX/SVM).
 *
 * Every user of VMX or SVM registers once, then takes references.  The first
 * reference turns the hardware on, the last one turns it off, and
 * virt_enable keeps that true across CPU hotplug, suspend/resume, shutdown,
 * reboot, kexec and crash, so that users no longer do VMXON or set
 * EFER.SVME themselves.  See Documentation/driver-api/virt_enable.rst.
 */
#ifndef _VIRT_ENABLE_H
#define _VIRT_ENABLE_H

#include <linux/types.h>

/**
 * enum virt_enable_feature - hardware virtualization extensions
 * @VIRT_ENABLE_NONE: neither: what virt_enable_feature() says when
 *	virt_enable is not running (built in, its initialization failed).
 * @VIRT_ENABLE_VMX: Intel VMX, turned on with CR4.VMXE and VMXON.
 * @VIRT_ENABLE_SVM: AMD SVM, turned on with EFER.SVME.
 *
 * A CPU offers at most one of them; asking for the other one fails with
 * -EOPNOTSUPP.
 */
enum virt_enable_feature {
	VIRT_ENABLE_NONE,
	VIRT_ENABLE_VMX,
	VIRT_ENABLE_SVM,
};

struct virt_enable_user;

/**
 * struct virt_enable_user_ops - optional callbacks of a user
 * @cpu_enabled: called on a CPU, with interrupts disabled, once the hardware
 *	is on there and this user's references start to cover it: when the
 *	user takes its first system-wide or permanent reference, for a CPU
 *	that comes online while such a reference is held, after resume, and
 *	for the first per-CPU reference on that CPU.  A non-zero return fails
 *	that request as a whole (see virt_enable_get()) or, for a CPU coming
 *	online, fails the CPU's online operation.
 * @cpu_disabling: called on a CPU, with interrupts disabled, before the
 *	hardware is turned off there or when this user's references stop
 *	covering it.  Paired with every successful @cpu_enabled.  During
 *	shutdown, reboot and kexec virt_enable_rebooting() is already true.
 * @suspend: called with interrupts disabled on the last CPU before the
 *	system suspends while this user is registered; a non-zero return
 *	vetoes the suspend (say why in dmesg).
 * @resume: called with interrupts disabled on that CPU after resume, and
 *	when a suspend that @suspend agreed to was vetoed later; paired with
 *	every @suspend that returned 0.
 * @emergency: called in NMI or crash context, on each CPU where the
 *	hardware is on, before it is forced off for a crash, kexec-on-panic
 *	or emergency reboot, e.g. to VMCLEAR loaded VMCSs.  Must not sleep,
 *	take locks or assume anything about the reference counts.
 *
 * All callbacks receive the @data pointer given to virt_enable_register().
 */
struct virt_enable_user_ops {
	int (*cpu_enabled)(unsigned int cpu, void *data);
	void (*cpu_disabling)(unsigned int cpu, void *data);
	int (*suspend)(void *data);
	void (*resume)(void *data);
	void (*emergency)(void *data);
};

/* Longest user name, including the terminating NUL. */
#define VIRT_ENABLE_NAME_LEN	32

struct virt_enable_user *virt_enable_register(const char *name,
					      const struct virt_enable_user_ops *ops,
					      void *data);
void virt_enable_unregister(struct virt_enable_user *user);

int virt_enable_get(struct virt_enable_user *user,
		    enum virt_enable_feature feature);
void virt_enable_put(struct virt_enable_user *user,
		     enum virt_enable_feature feature);
int virt_enable_get_permanent(struct virt_enable_user *user,
			      enum virt_enable_feature feature);

int virt_enable_get_cpu(struct virt_enable_user *user,
			enum virt_enable_feature feature);
void virt_enable_put_cpu(struct virt_enable_user *user,
			 enum virt_enable_feature feature);

/**
 * struct virt_enable_window - a window open on one CPU
 * @flags: the interrupt state virt_enable_window_close() restores.
 * @saved: what the window put aside and gives back: the current-VMCS
 *	pointer (VMX; -1 for none) or MSR_VM_HSAVE_PA (SVM).
 * @user: the user that opened it.
 *
 * Filled by virt_enable_window_open(), read by virt_enable_window_close();
 * usually on the caller's stack.  Users do not touch it in between.
 */
struct virt_enable_window {
	unsigned long flags;
	u64 saved;
	struct virt_enable_user *user;
};

int virt_enable_window_open(struct virt_enable_user *user,
			    struct virt_enable_window *window);
void virt_enable_window_close(struct virt_enable_window *window);

enum virt_enable_feature virt_enable_feature(void);
bool virt_enable_rebooting(void);

#endif /* _VIRT_ENABLE_H */
