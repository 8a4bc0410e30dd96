#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Deliberate bugs, one per fix the tests guard: each undoes a hardening fix
or breaks TDX's bringup order, and names the test that must then fail.
tests/mutate.sh applies them one at a time and checks that it does.

    mutations.py list              NAME<TAB>SUITE<TAB>EXPECTED-FAILURE
    mutations.py apply NAME TREE   apply NAME to the sources in TREE
"""
import sys

# tdx_hooks.c's two bringup steps, which one bug swaps.
TDX_GET_REF = """\tr = ve_get(user, VIRT_ENABLE_VMX, VE_REF_PERMANENT);
\tif (r) {
\t\tpr_err("turning VMX on and initializing every CPU failed: %pe\\n",
\t\t       ERR_PTR(r));
\t\tgoto err_user;
\t}
"""
TDX_GLOBAL_INIT = """\tcpus_read_lock();
\tr = ops->enable();
\tcpus_read_unlock();
\tif (r) {
\t\tpr_err("initializing the TDX module failed: %pe\\n", ERR_PTR(r));
\t\tgoto err_user;
\t}
"""

# name: (file, old, new, the failure that must appear, [more (old, new)])
M = {
 "hw_off_forgets": ("virt_enable.c",
    "ERR_PTR(r));\n\t\treturn;\n\t}\n\tWRITE_ONCE(vc->owned, false);",
    "ERR_PTR(r));\n\t}\n\tWRITE_ONCE(vc->owned, false);",
    "kunit: ve_test_disable_failure_keeps_ownership"),
 "emergency_everywhere": ("lifecycle.c",
    "\tif (READ_ONCE(vc->on)) {\n\t\trcu_read_lock();",
    "\tif (true) {\n\t\trcu_read_lock();",
    "kunit: ve_test_emergency_only_where_on"),
 "sev_allowed": ("svm_on.c",
    "\tif (f->sev_guest)\n", "\tif (false && f->sev_guest)\n",
    "kunit: ve_test_svm_check: SEV guest"),
 # The MSR's outside-SMX bit overrules the kernel's verdict, as reading
 # CR4.SMXE (which Linux never sets) to tell tboot did.
 "tboot_blamed": ("vmx_on.c",
    "\tif (f->kernel_vmx)\n",
    "\tif (f->kernel_vmx && (f->feat_ctl & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX))\n",
    "kunit: ve_test_vmx_check: tboot: inside SMX allowed"),
 "no_kvm_intel_message": ("vmx_on.c",
    "\t    !f->kernel_enables_vmx)",
    "\t    false && !f->kernel_enables_vmx)",
    "kunit: ve_test_vmx_check: no CONFIG_KVM_INTEL, locked without VMX"),
 # A patched KVM's record of linking against virt_enable, not read: it is
 # taken for unmodified and refused while virt_enable has users.
 "kvm_user_unrecognized": ("kvm_policy.c",
    "\t\tif (use->target == THIS_MODULE)\n",
    "\t\tif (use->target == NULL)\n",
    "kunit: ve_test_kvm_policy"),
 # The fast paths (issue 20), each against the deliberate interleaving or
 # bound its KUnit case sets up.
 "refs_unbounded": ("virt_enable.c",
    "\t\tif (refs <= 0 || refs >= VE_MAX_REFS || READ_ONCE(ve_going_down))\n",
    "\t\tif (refs <= 0 || READ_ONCE(ve_going_down))\n",
    "kunit: ve_test_reference_bound",
    [("\tif ((permanent ? user->nr_permanent : atomic_read(&user->nr_refs)) >=\n\t    VE_MAX_REFS)\n",
      "\tif (permanent && user->nr_permanent >= VE_MAX_REFS)\n")]),
 "cpu_refs_unbounded": ("virt_enable.c",
    "\twhile (refs - 1 < VE_MAX_REFS - 1 && this_cpu_read(user->cpu->ready)) {\n",
    "\twhile (refs && this_cpu_read(user->cpu->ready)) {\n",
    "kunit: ve_test_reference_bound",
    [("\telse if (uc->refs >= VE_MAX_REFS)\n\t\tr = -EOVERFLOW;\n", "")]),
 # The check before the increment: a fast get from zero, where the last
 # put left its user ready (the hardware staying on for another user).
 "fast_get_from_zero": ("virt_enable.c",
    "\twhile (refs - 1 < VE_MAX_REFS - 1 && this_cpu_read(user->cpu->ready)) {\n",
    "\twhile (refs < VE_MAX_REFS && this_cpu_read(user->cpu->ready)) {\n",
    "kunit: ve_test_percpu_under_system",
    [("\t\tvc->nr_pinned--;\n\t\tWRITE_ONCE(uc->ready, false);\n", "\t\tvc->nr_pinned--;\n")]),
 "fast_put_reaches_zero": ("virt_enable.c",
    "\twhile (refs > 1) {\n", "\twhile (refs > 0) {\n",
    "kunit: ve_test_percpu_fast_paths"),
 "system_fast_put_reaches_zero": ("virt_enable.c",
    "\t\tif (refs <= 1)\n\t\t\treturn false;\n",
    "\t\tif (refs <= 0)\n\t\t\treturn false;\n",
    "kunit: ve_test_system_fast_paths"),
 # The system-wide count published before the broadcast that backs it.
 "system_count_published_early": ("virt_enable.c",
    "\tif (!user->system) {\n\t\tif (!ve_nr_system_users && !ve_ride_ready())\n\t\t\treturn -EAGAIN;\n\t\tve_set_system(user, true);\n",
    "\tif (!user->system && !ve_nr_system_users && !ve_ride_ready())\n\t\treturn -EAGAIN;\n\tif (!permanent)\n\t\tatomic_inc(&user->nr_refs);\n\tif (!user->system) {\n\t\tve_set_system(user, true);\n",
    "kunit: ve_test_system_count_published_after",
    [("\telse\n\t\tatomic_inc(&user->nr_refs);\n", "")]),
 # A fast get that trusts a held count after a failed resume: the CPU
 # going off leaves its users ready.
 "fast_get_ignores_hw": ("virt_enable.c",
    "\tve_cpu_unready();\n\tWRITE_ONCE(vc->on, false);\n\tif (!vc->owned) {\n",
    "\tWRITE_ONCE(vc->on, false);\n\tif (!vc->owned) {\n",
    "kunit: ve_test_fast_get_after_failed_resume"),
 # A system-wide fast get once the machine is going down, whose crash
 # turned every CPU off.
 "system_fast_get_while_going_down": ("virt_enable.c",
    "\t\tif (refs <= 0 || refs >= VE_MAX_REFS || READ_ONCE(ve_going_down))\n",
    "\t\tif (refs <= 0 || refs >= VE_MAX_REFS)\n",
    "kunit: ve_test_fast_paths_going_down"),
 "veto_untold": ("lifecycle.c",
    "\t\t\t       user->name, ERR_PTR(r));\n\t\t\tve_users_resume();\n",
    "\t\t\t       user->name, ERR_PTR(r));\n",
    "kunit: ve_test_suspend"),
 "resume_failure_kept": ("lifecycle.c",
    "\t\tvc->suspended = true;\n\t\tve_cpu_reconcile(vc, VE_WHY_ROLLBACK);\n\t\tvc->suspended = false;\n",
    "",
    "kunit: ve_test_resume_fails"),
 "debugfs_world_readable": ("debugfs.c",
    'debugfs_create_file("state", 0400,', 'debugfs_create_file("state", 0444,',
    "selftests: ve.unprivileged_denied"),
 "tdx_cpu_init_before_vmxon": ("tdx_hooks.c",
    "\tuser = virt_enable_register(\"tdx\", &ve_tdx_user_ops, NULL);",
    "\ton_each_cpu(ve_tdx_early, NULL, 1);\n\tuser = virt_enable_register(\"tdx\", &ve_tdx_user_ops, NULL);",
    "kunit: ve_test_tdx_bringup",
    [("static const struct virt_enable_user_ops ve_tdx_user_ops",
      "static void ve_tdx_early(void *info)\n{\n\tve_tdx_cpu_enabled(smp_processor_id(), NULL);\n}\n\nstatic const struct virt_enable_user_ops ve_tdx_user_ops")]),
 "tdx_global_init_first": ("tdx_hooks.c", TDX_GET_REF + TDX_GLOBAL_INIT,
    TDX_GLOBAL_INIT + TDX_GET_REF, "kunit: ve_test_tdx_bringup"),
 # The last user leaving releases the emergency hook over a CPU still on.
 "disarm_despite_owned": ("virt_enable.c",
    "\t\tif (!per_cpu_ptr(&ve_cpus, cpu)->owned)\n\t\t\tcontinue;",
    "\t\tif (true)\n\t\t\tcontinue;",
    "kunit: ve_test_disable_failure_keeps_ownership"),
 # "on" cleared only once the vendor disable returned.
 "on_cleared_after_disable": ("virt_enable.c",
    "\tWRITE_ONCE(vc->on, false);\n\tif (!vc->owned) {\n\t\t/* KVM's hardware, see ve_hw_on(). */\n",
    "\tif (!vc->owned) {\n\t\tWRITE_ONCE(vc->on, false);\n\t\t/* KVM's hardware, see ve_hw_on(). */\n",
    "kunit: ve_test_emergency_during_disable",
    [("\tWRITE_ONCE(vc->owned, false);\n\tWRITE_ONCE(vc->nr_disables,",
      "\tWRITE_ONCE(vc->on, false);\n\tWRITE_ONCE(vc->owned, false);\n\tWRITE_ONCE(vc->nr_disables,")]),
 # After a failed resume, a system-wide get that switches nothing.
 "resume_lag_ignored": ("virt_enable.c",
    "\treturn edge || ve_has_cpu_callbacks(user) || ve_lagging;",
    "\treturn edge || ve_has_cpu_callbacks(user);",
    "kunit: ve_test_resume_failure_recovers: a system-wide get"),
 # ...and a per-CPU get that starts only its own user.
 "percpu_get_starts_itself": ("virt_enable.c",
    "\t\tve_user_stop(user);\n\n\treturn ve_cpu_switch(vc, why);\n}\n\nstruct",
    "\t\tve_user_stop(user);\n\n\tif (!ve_cpu_wanted(vc)) {\n\t\tve_hw_off(vc, why);\n\t\treturn 0;\n\t}\n"
    "\tif (ve_hw_on(vc, why))\n\t\treturn -EIO;\n"
    "\tif (ve_has_cpu_callbacks(user) && !ve_user_active(user) && ve_user_covers(user, vc))\n"
    "\t\treturn ve_user_start(user);\n\treturn 0;\n}\n\nstruct",
    "kunit: ve_test_resume_failure_recovers: a per-CPU get on that CPU"),
 # Built in, a failed initialization leaves the exports live.
 "api_live_after_failed_init": ("virt_enable.c",
    "\tif (ve_feature == VIRT_ENABLE_NONE)\n\t\tr = -ENODEV;\n\telse if (ve_going_down)",
    "\tif (ve_going_down)",
    "kunit: ve_test_not_running"),
 # The emergency path gives up in NMI context, where a crash runs it on
 # every CPU but the crashing one.
 "emergency_not_in_nmi": ("lifecycle.c",
    "\tWRITE_ONCE(ve_going_down, true);\n\n\tif (READ_ONCE(vc->on)) {",
    "\tWRITE_ONCE(ve_going_down, true);\n\tif (in_nmi())\n\t\treturn;\n\n\tif (READ_ONCE(vc->on)) {",
    "kunit: ve_test_emergency"),
 # TDX's per-CPU init only at bringup: a CPU offline then is never
 # initialized when it comes online.
 "tdx_online_uninitialized": ("tdx_hooks.c",
    "\tint r = ve_tdx_ops->cpu_enable();\n",
    "\tint r = ve_tdx_up ? 0 : ve_tdx_ops->cpu_enable();\n",
    "kunit: ve_test_tdx_cpu_online_later"),
 # tdx=auto, the default, does not bring TDX up at load.
 "tdx_auto_stays_down": ("tdx_hooks.c",
    "\tif (policy == VE_TDX_OFF) {",
    "\tif (policy != VE_TDX_ON) {",
    "kunit: ve_test_tdx_bringup"),
 # Windows (window.c): each check of the open, the interrupt state on
 # both sides, the restore and the per-CPU count.
 "window_uncovered": ("window.c",
    "\telse if (!ve_user_covers(user, vc))\n", "\telse if (false)\n",
    "kunit: ve_test_window_uncovered"),
 "window_nests": ("window.c",
    "\telse if (vc->window)\n", "\telse if (false)\n",
    "kunit: ve_test_window_nested"),
 "window_hw_unchecked": ("window.c",
    "\telse if (!READ_ONCE(vc->on))\n", "\telse if (false)\n",
    "kunit: ve_test_window_hw_off"),
 # ...which ve_user_covers() would refuse with -EPERM instead.
 "window_shutdown_unchecked": ("window.c",
    "\tif (READ_ONCE(ve_going_down))\n\t\tr = -ESHUTDOWN;\n",
    "\tif (false)\n\t\tr = -ESHUTDOWN;\n",
    "kunit: ve_test_window_going_down"),
 "window_irqs_on": ("window.c",
    "\tlocal_irq_save(window->flags);\n", "\tlocal_save_flags(window->flags);\n",
    "kunit: ve_test_window"),
 "window_refused_irqs_off": ("window.c",
    "\tif (r) {\n\t\tlocal_irq_restore(window->flags);\n\t\treturn r;\n\t}\n",
    "\tif (r)\n\t\treturn r;\n",
    "kunit: ve_test_window_uncovered"),
 "window_not_restored": ("window.c",
    "\tr = ve_vendor->window_restore(window->saved);\n", "\tr = 0;\n",
    "kunit: ve_test_window"),
 "window_close_enables_irqs": ("window.c",
    "\tWRITE_ONCE(vc->window, NULL);\n\tlocal_irq_restore(window->flags);\n",
    "\tWRITE_ONCE(vc->window, NULL);\n\tlocal_irq_enable();\n",
    "kunit: ve_test_window"),
 "window_left_open": ("window.c",
    "\tWRITE_ONCE(vc->window, NULL);\n", "",
    "kunit: ve_test_window"),
 "window_counted_on_cpu0": ("window.c",
    "\tthis_cpu_inc(user->cpu->windows);\n",
    "\tper_cpu_ptr(user->cpu, 0)->windows++;\n",
    "kunit: ve_test_window"),
}

SUITE = {"debugfs_world_readable": "selftests"}


def main():
    if sys.argv[1:2] == ["list"]:
        for name, m in M.items():
            print(f"{name}\t{SUITE.get(name, 'kunit')}\t{m[3]}")
        return 0
    if len(sys.argv) != 4 or sys.argv[1] != "apply" or sys.argv[2] not in M:
        sys.exit("usage: mutations.py list | apply NAME TREE")
    name, tree = sys.argv[2], sys.argv[3]
    path, old, new, _, *more = M[name]
    text = open(f"{tree}/{path}").read()
    for old, new in [(old, new)] + (more[0] if more else []):
        if text.count(old) != 1:
            sys.exit(f"{name}: the code it changes in {path} is not there once")
        text = text.replace(old, new)
    open(f"{tree}/{path}", "w").write(text)
    return 0


# --- The lifecycle's hardware checks: kexec, crash, suspend ------------------
# Deliberate bugs that the older checks could not see (the kernel's own
# stop path or resume path covers for them), each caught by a check that
# reads the hardware where virt_enable's hook has just run.  They run in a
# guest of their own: GUEST gives its kernel (6.12: the in-tree modular test
# kernel, whose virt_enable the mutated module replaces), emulator,
# feature, CPUs, initramfs (chain: the small one) and extra command line;
# HOLDS, the checks that must still pass in the same run (what the older
# checks say, and that the run got where the failure is).
LIFECYCLE = {
 # virt_enable's shutdown skips the hardware on every CPU but CPU 0, the
 # one that runs kexec; stop_other_cpus() then turns VMX off on the others
 # through the emergency callback, so the next kernel still starts them.
 "shutdown_skips_aps": (("lifecycle.c",
    "\tve_cpu_reconcile(vc, VE_WHY_SHUTDOWN);",
    "\tif (smp_processor_id() == 0)\n\t\tve_cpu_reconcile(vc, VE_WHY_SHUTDOWN);",
    "kexec: first kernel, CPU 1: vmx off after virt_enable's shutdown hook, before the kernel stopped the CPUs (hardware)"),
    "kexec", "6.12 bochs vmx 2 chain",
    ["kexec: it brought up all 2 CPUs",
     "kexec: first kernel, CPU 0: vmx off after virt_enable's shutdown hook, before the kernel stopped the CPUs (hardware)"]),
 # ...everywhere: on SVM the CPU that ran kexec keeps EFER.SVME into the
 # next kernel, which QEMU starts all the same.
 "shutdown_skips_hw": (("lifecycle.c",
    "\tve_cpu_reconcile(vc, VE_WHY_SHUTDOWN);",
    "\tif (false)\n\t\tve_cpu_reconcile(vc, VE_WHY_SHUTDOWN);",
    "kexec: the boot CPU, which ran kexec, came up with EFER.SVME clear: virt_enable's shutdown hook turned SVM off there"),
    "kexec", "6.12 qemu svm 4 chain crashkernel=96M",
    ["kexec: it brought up all 4 CPUs"]),
 # The emergency path runs the users' callbacks, then leaves the hardware on.
 "emergency_skips_hw": (("lifecycle.c",
    "ve_vendor->emergency_disable_cpu()", "0",
    "crash: the boot CPU, which crashed, came up with EFER.SVME clear: virt_enable's emergency disable turned SVM off there (the only SVM disable on this kernel's crash path)"),
    "crash", "6.12 qemu svm 4 chain crashkernel=96M",
    ["crash: it brought up all 2 CPUs it asked for",
     "crash: first kernel, CPU 0: the emergency callback ran with svm still on"]),
 # The emergency path skips the users' callbacks: the second hypervisor,
 # in the middle of its guests on every CPU, never hears of the crash.
 "emergency_skips_users": (("lifecycle.c",
    "if (user->ops && user->ops->emergency)",
    "if (false && user->ops && user->ops->emergency)",
    "crash: first kernel, CPU 1: ve_hv2's emergency callback ran with vmx still on"),
    "crash", "6.12 bochs vmx 2 chain crashkernel=96M",
    ["crash: it brought up all 2 CPUs it asked for",
     "crash: a second hypervisor (ve_hv2) runs its guests on every CPU, into the crash"]),
 # Suspend keeps the hardware on; resume then finds it on.  pm_test=core
 # and a real S3 alike end with every CPU on (Linux restores the boot CPU's
 # EFER and CR4 as saved after syscore suspend).
 "suspend_skips_hw": (("lifecycle.c",
    "\tvc->suspended = true;\n\tve_cpu_reconcile(vc, VE_WHY_SUSPEND);\n",
    "\tvc->suspended = true;\n",
    "suspend: pm_test=core: at syscore suspend, after virt_enable's, before the sleep: svm off on CPU 0 (hardware)"),
    "suspend", "6.12 qemu svm 4 chain crashkernel=96M",
    ["suspend: every CPU on after resume (hardware)",
     "suspend: S3: the platform slept: the kernel resumed from S3 (\"Low-level resume complete\")",
     "suspend: S3: every CPU on after resume (hardware)"]),
 # The same in Bochs, where VMX root operation is lost in a real S3.
 "suspend_skips_hw_vmx": (("lifecycle.c",
    "\tvc->suspended = true;\n\tve_cpu_reconcile(vc, VE_WHY_SUSPEND);\n",
    "\tvc->suspended = true;\n",
    "suspend: pm_test=core: at syscore suspend, after virt_enable's, before the sleep: vmx off on CPU 0 (hardware)"),
    "suspend", "6.12 bochs vmx 2 chain",
    ["suspend: every CPU on after resume (hardware)",
     "suspend: S3: the platform slept: the kernel resumed from S3 (\"Low-level resume complete\")"]),
 # A window gives back "no VMCS current" instead of KVM's: KVM, which
 # skips VMPTRLD while it believes its VMCS is still loaded, then VMREADs
 # and VMWRITEs nothing (vmread_error/vmwrite_error WARNs, which the guest
 # must survive: panic_on_warn off) and its vCPUs end in
 # KVM_EXIT_FAIL_ENTRY.  Bochs: QEMU emulates no VMX.
 "window_skips_vmptrld": (("vmx_on.c",
    "\tasm goto(\"1: vmptrld %[pa]\\n\\t\"",
    "\treturn 0;\n\tasm goto(\"1: vmptrld %[pa]\\n\\t\"",
    "sharing: side by side: KVM's vCPU on CPU 0: every exit in sequence"),
    "sharing", "6.12 bochs vmx 2 full ve.sharing=side ve.panic_on_warn=0",
    ["sharing: kvm_intel (patched) and ve_hv2 load, a vCPU loops on every CPU",
     "sharing: side: ve_hv2's run of 2000 ms ends"]),
 # Riding an unmodified KVM (ridealong.sh, QEMU 6.12): virt_enable's
 # syscore ops stay where they were registered, so with virt_enable loaded
 # first KVM's suspend turns SVM off before users hear of it.
 "ride_syscore_order": (("hooks.c",
    "\tve_syscore_unregister(&ve_syscore);\n\tve_syscore_register(&ve_syscore);\n",
    "",
    "ridealong: [enable_virt_at_load=1, virt_enable-first] callbacks across hotplug and suspend found svm on"),
    "ridealong", "6.12 qemu svm 2 full",
    ["ridealong: [enable_virt_at_load=1, kvm-first] callbacks across hotplug and suspend found svm on",
     "ridealong: [enable_virt_at_load=1, virt_enable-first] suspend and resume"]),
 # No VM held where KVM has SVM off: references find it off.
 "ride_no_held_vm": (("ride.c",
    "\tvm = ve_ride_create_vm();\n",
    "\treturn 0;\n\tvm = ve_ride_create_vm();\n",
    "ridealong: [enable_virt_at_load=0, kvm-first] svm on on every CPU (hardware)",
    # (Else the first system-wide get waits for a VM that never comes.)
    [("\treturn !ve_ride_kvm || ve_ride_vm || ve_ride_kvm_on();\n", "\treturn true;\n")]),
    "ridealong", "6.12 qemu svm 2 full",
    ["ridealong: [enable_virt_at_load=1, kvm-first] svm on on every CPU (hardware)"]),
 # KVM not pinned by the CPUs on for virt_enable's users: it unloads
 # under them (then ve_ride_stop() warns: no panic_on_warn here).
 "ride_kvm_unpinned": (("ride.c",
    "\tif (!kvm || !try_module_get(kvm))\n\t\treturn -ENODEV;\n\tif (!ve_vendor->cpu_is_on()) {\n\t\tmodule_put(kvm);\n",
    "\tif (!kvm)\n\t\treturn -ENODEV;\n\tif (!ve_vendor->cpu_is_on()) {\n",
    "ridealong: [enable_virt_at_load=1, kvm-first] rmmod kvm_amd refused while held",
    [("\tmodule_put(kvm);\n}", "}")]),
    "ridealong", "6.12 qemu svm 2 full ve.panic_on_warn=0",
    ["ridealong: [enable_virt_at_load=1, kvm-first] svm on on every CPU (hardware)"]),
}
GUEST = {}
HOLDS = {}
for _name, (_m, _suite, _guest, _holds) in LIFECYCLE.items():
    M[_name] = _m
    SUITE[_name] = _suite
    GUEST[_name] = _guest
    HOLDS[_name] = _holds

# A per-CPU get refused on a CPU the kernel does not yet call online: fine
# from 6.12's KVM step (CPUHP_AP_KVM_ONLINE), fatal from 6.1's, which is in
# the STARTING section.  The KUnit test takes KVM's step, so only on 6.1
# (the in-tree modular test kernel, in QEMU) can it see this.
M["percpu_refuses_starting"] = ("virt_enable.c",
    "\telse if (vc->suspended)\n",
    "\telse if (vc->suspended || !cpu_online(smp_processor_id()))\n",
    "kunit: ve_test_percpu_from_hotplug")
GUEST["percpu_refuses_starting"] = "6.1 qemu svm 4 full"

_table_main = main


def main():
    """Also: "guest NAME", NAME's guest (empty: mutate.sh's default, the
    TDX test kernel in QEMU); "holds NAME", the checks that must pass."""
    if len(sys.argv) == 3 and sys.argv[1] == "guest":
        print(GUEST.get(sys.argv[2], ""))
        return 0
    if len(sys.argv) == 3 and sys.argv[1] == "holds":
        for what in HOLDS.get(sys.argv[2], []):
            print(what)
        return 0
    return _table_main()


if __name__ == "__main__":
    sys.exit(main())
