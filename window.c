// SPDX-License-Identifier: GPL-2.0-only
/*
 * Windows: how two hypervisors share one CPU's VMX root or SVM host state.
 *
 * The hardware being on is not enough.  KVM keeps, per CPU, which of its
 * VMCSs is current and skips VMPTRLD while it believes it still is; it
 * points MSR_VM_HSAVE_PA at its own host-save area once, when it enables
 * a CPU.  A user that runs its own guests does so inside a window, which
 * puts that state aside and gives it back, with interrupts disabled so
 * that nothing of KVM's (a cross-CPU VMCLEAR, a shutdown broadcast) runs
 * in between.  The rules for what happens inside are in
 * Documentation/driver-api/virt_enable.rst.
 */
#include <linux/bug.h>
#include <linux/export.h>
#include <linux/irqflags.h>
#include <linux/percpu.h>

#include "internal.h"

/**
 * virt_enable_window_open() - borrow this CPU's VMX root or SVM host state
 * @user: the registered user opening it; one of its references must cover
 *	this CPU (system-wide, permanent, or per-CPU here).
 * @window: filled with what virt_enable_window_close() needs.
 *
 * Disables interrupts and puts aside the state another hypervisor on this
 * CPU relies on: the current-VMCS pointer (VMX) or MSR_VM_HSAVE_PA (SVM).
 * Until virt_enable_window_close() on the same CPU, the user may VMPTRLD,
 * VMLAUNCH, VMRESUME and VMCLEAR its own VMCSs, or point MSR_VM_HSAVE_PA at
 * its own host-save area and VMRUN, under the sharing rules of
 * Documentation/driver-api/virt_enable.rst.  The hardware stays on until
 * the window closes: turning it off needs this CPU with interrupts enabled,
 * except for a crash, which first calls the user's ->emergency callback.
 * One window at a time per CPU; windows do not nest.
 *
 * Context: any context but NMI; does not sleep.  Returns with interrupts
 * disabled on success and as they were on failure.
 * Return: 0; -ESHUTDOWN once the machine is going down; -EBUSY if a window
 * is already open on this CPU; -EPERM if no reference of @user covers this
 * CPU; -ENODEV if the hardware is not on here all the same (a failed
 * resume).
 */
int virt_enable_window_open(struct virt_enable_user *user,
			    struct virt_enable_window *window)
{
	struct ve_cpu *vc;
	int r = 0;

	local_irq_save(window->flags);
	vc = this_cpu_ptr(&ve_cpus);
	if (READ_ONCE(ve_going_down))
		r = -ESHUTDOWN;
	else if (vc->window)
		r = -EBUSY;
	else if (!ve_user_covers(user, vc))
		r = -EPERM;
	else if (!READ_ONCE(vc->on))
		r = -ENODEV;
	if (r) {
		local_irq_restore(window->flags);
		return r;
	}

	window->user = user;
	window->saved = ve_vendor->window_save();
	/* Written only here, with interrupts off; the state view reads them. */
	WRITE_ONCE(vc->window, user);
	this_cpu_inc(user->cpu->windows);
	return 0;
}
EXPORT_SYMBOL_GPL(virt_enable_window_open);

/**
 * virt_enable_window_close() - give back what virt_enable_window_open() saved
 * @window: the window, as virt_enable_window_open() filled it.
 *
 * On the CPU the window was opened on: puts back the current-VMCS pointer
 * or MSR_VM_HSAVE_PA and restores the interrupt state.  With VMX, the
 * user's own VMCS must be VMCLEARed before (so that no VMCS is current
 * where none was); a pointer that cannot be loaded again is counted in the
 * state view and warned about once.
 *
 * Context: the CPU and context of the matching virt_enable_window_open().
 */
void virt_enable_window_close(struct virt_enable_window *window)
{
	struct ve_cpu *vc = this_cpu_ptr(&ve_cpus);
	int r;

	if (WARN_ONCE(vc->window != window->user,
		      "virt_enable: \"%s\" closed a window it did not open on CPU %d\n",
		      window->user->name, smp_processor_id())) {
		local_irq_restore(window->flags);
		return;
	}
	r = ve_vendor->window_restore(window->saved);
	if (unlikely(r)) {
		WRITE_ONCE(vc->nr_window_failures, vc->nr_window_failures + 1);
		WARN_ONCE(1, "virt_enable: CPU %d: closing a window of \"%s\": the state it saved could not be put back: %pe\n",
			  smp_processor_id(), window->user->name, ERR_PTR(r));
	}
	WRITE_ONCE(vc->window, NULL);
	local_irq_restore(window->flags);
}
EXPORT_SYMBOL_GPL(virt_enable_window_close);
