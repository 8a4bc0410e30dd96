// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test-only module: reports what the hardware says about VMX and SVM on
 * each online CPU, independently of virt_enable's own bookkeeping.
 *
 *   /sys/kernel/debug/ve_probe/vmx: "cpu N vmxe 0|1 root 0|1" per CPU
 *   /sys/kernel/debug/ve_probe/svm: "cpu N svme 0|1" per CPU
 *
 * "vmxe" is CR4 as read from the register.  "root" is 1 when VMPTRST
 * executes: it #UDs outside VMX operation and changes nothing inside it.
 * "svme" is EFER.SVME.
 *
 * It also reads the hardware at the moments virt_enable's lifecycle hooks
 * are answerable for, right after (or before) them and before anything
 * else in the kernel gets a chance to change it:
 *
 *   - its syscore ops are registered when it loads; loaded before
 *     virt_enable, they run after virt_enable's on suspend and shutdown
 *     and before them on resume (syscore runs suspend and shutdown in
 *     reverse registration order).  Suspend: after virt_enable turned the
 *     boot CPU off, before the platform sleeps.  Resume: after wake-up,
 *     before virt_enable turns it on again.  Shutdown (reboot, power-off,
 *     and kexec since Linux 6.7): every CPU, after virt_enable's shutdown
 *     and before the kernel stops the other CPUs (whose stop path runs
 *     the emergency virtualization callback, which would hide a CPU
 *     virt_enable's shutdown skipped);
 *   - where kexec skips syscore shutdown (before 6.7), a reboot notifier
 *     of the lowest priority, after virt_enable's, reads every CPU there;
 *   - the last shutdown reading is also written to the RTC's CMOS RAM
 *     (bytes 0x7a-0x7f, which neither SeaBIOS nor Bochs' BIOS use, and
 *     nothing rewrites across a kexec), where the next kernel's ve_probe
 *     finds it: a kexec'd kernel can check what the first one's shutdown
 *     did on every CPU.
 *
 *   /sys/kernel/debug/ve_probe/hooks:
 *     first 0|1                 1: registered before virt_enable's hooks,
 *                               so the readings below are where they say
 *     suspend N read MASK on MASK   N readings so far; the last one's CPUs
 *     resume N read MASK on MASK    read, and those found on (hex masks)
 *     shutdown N read MASK on MASK
 *     previous none|HOOK read MASK on MASK   the previous kernel's last
 *                               shutdown reading (HOOK: syscore-shutdown or
 *                               reboot-notifier), found in CMOS at load
 *
 * A CPU counts as on when any of it is (VMX: CR4.VMXE or root operation).
 * The readings are also logged, "ve_probe: syscore suspend: cpu N vmx off".
 *
 * It also looks at every CPU when the system powers off, halts or
 * reboots, after syscore shutdown (where virt_enable turns the hardware
 * off) and before the machine stops the other CPUs, and logs
 * "ve_probe: shutdown: cpu N vmx|svm on|off", so that the shutdown tests
 * read the hardware, not virt_enable's word.  The kernel's shutdown kmsg
 * dump is the one hook there; kexec reaches it only after the other CPUs
 * were stopped, with interrupts off, and then only this CPU is read.
 *
 * Each shutdown reading with the other CPUs still running waits 100 ms
 * first: a vCPU the tests keep looping in KVM_RUN on another CPU then has
 * the time to enter again with the hardware off under it before the
 * kernel stops that CPU, as KVM must expect (kvm_rebooting): a KVM that
 * does not faults where the log shows it, not only when the timing is
 * right.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/cpu.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/notifier.h>
#include <linux/reboot.h>
#include <linux/seq_file.h>
#include <linux/kmsg_dump.h>
#include <linux/limits.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <asm/asm.h>
#include <asm/mc146818rtc.h>
#include <asm/msr.h>
#include <asm/processor-flags.h>
#include <asm/special_insns.h>

#include "compat.h"

struct ve_probe_cpu {
	unsigned long cr4;
	bool root;
	bool svme;
};

static struct dentry *ve_probe_dir;
static bool ve_probe_vmx;

static bool ve_probe_in_vmx_root(void)
{
	u64 current_vmcs;

	asm goto("1: vmptrst %[vmcs]\n\t"
		 _ASM_EXTABLE(1b, %l[outside])
		 : : [vmcs] "m" (current_vmcs) : "cc", "memory" : outside);
	return true;
outside:
	return false;
}

static void ve_probe_read_cpu(void *arg)
{
	struct ve_probe_cpu *state = arg;
	u64 efer = 0;

	state->cr4 = __read_cr4();
	state->root = ve_probe_vmx && ve_probe_in_vmx_root();
	state->svme = !ve_probe_vmx && !rdmsrl_safe(MSR_EFER, &efer) &&
		      (efer & EFER_SVME);
}

static int ve_probe_vmx_show(struct seq_file *m, void *unused)
{
	struct ve_probe_cpu state;
	int cpu;

	cpus_read_lock();
	for_each_online_cpu(cpu) {
		smp_call_function_single(cpu, ve_probe_read_cpu, &state, 1);
		seq_printf(m, "cpu %d vmxe %d root %d\n", cpu,
			   !!(state.cr4 & X86_CR4_VMXE), state.root);
	}
	cpus_read_unlock();
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ve_probe_vmx);

static int ve_probe_svm_show(struct seq_file *m, void *unused)
{
	struct ve_probe_cpu state;
	int cpu;

	cpus_read_lock();
	for_each_online_cpu(cpu) {
		smp_call_function_single(cpu, ve_probe_read_cpu, &state, 1);
		seq_printf(m, "cpu %d svme %d\n", cpu, state.svme);
	}
	cpus_read_unlock();
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ve_probe_svm);

static void ve_probe_shutdown_cpu(void *unused)
{
	struct ve_probe_cpu state;
	bool on;

	ve_probe_read_cpu(&state);
	on = ve_probe_vmx ? (state.cr4 & X86_CR4_VMXE) || state.root : state.svme;
	pr_info("shutdown: cpu %d %s %s\n", smp_processor_id(),
		ve_probe_vmx ? "vmx" : "svm", on ? "on" : "off");
}

/*
 * Before a shutdown reading: time for vCPUs looping on the other CPUs to
 * meet the hardware as the shutdown left it (see the top of this file).
 * Not with interrupts off, where the other CPUs are already stopped.
 */
static void ve_probe_let_vcpus_enter(void)
{
	if (!irqs_disabled())
		mdelay(100);
}

static void ve_probe_shutdown(void)
{
	ve_probe_let_vcpus_enter();
	if (irqs_disabled())
		ve_probe_shutdown_cpu(NULL);
	else
		on_each_cpu(ve_probe_shutdown_cpu, NULL, 1);
}

/* One reading of every CPU a hook could reach. */
struct ve_probe_reading {
	const char *hook;
	unsigned int count;	/* readings so far */
	unsigned long read;	/* the last one's CPUs read... */
	unsigned long on;	/* ...and those found on */
};

static struct ve_probe_reading ve_probe_at_suspend = { .hook = "syscore suspend" };
static struct ve_probe_reading ve_probe_at_resume = { .hook = "syscore resume" };
static struct ve_probe_reading ve_probe_at_shutdown = { .hook = "syscore shutdown" };

/* Registered before virt_enable's hooks (see the top of this file). */
static bool ve_probe_first;

static bool ve_probe_cpu_on(void)
{
	struct ve_probe_cpu state;

	ve_probe_read_cpu(&state);
	return ve_probe_vmx ? (state.cr4 & X86_CR4_VMXE) || state.root : state.svme;
}

static void ve_probe_read_into(void *arg)
{
	struct ve_probe_reading *r = arg;
	int cpu = smp_processor_id();

	if (cpu >= BITS_PER_LONG)
		return;
	set_bit(cpu, &r->read);
	if (ve_probe_cpu_on())
		set_bit(cpu, &r->on);
}

/* Every online CPU, or this one only where interrupts are off. */
static void ve_probe_take(struct ve_probe_reading *r)
{
	int cpu;

	r->read = 0;
	r->on = 0;
	if (irqs_disabled())
		ve_probe_read_into(r);
	else
		on_each_cpu(ve_probe_read_into, r, 1);
	r->count++;
	for_each_set_bit(cpu, &r->read, BITS_PER_LONG)
		pr_info("%s: cpu %d %s %s%s\n", r->hook, cpu,
			ve_probe_vmx ? "vmx" : "svm",
			test_bit(cpu, &r->on) ? "on" : "off",
			ve_probe_first ? "" : " (loaded after virt_enable: not its hook's order)");
}

/*
 * The last shutdown reading, kept in CMOS RAM for the next kernel: "VE",
 * the hook, the CPUs read and those on (CPUs 0-7: the test guests have at
 * most 8).  SeaBIOS and Bochs' BIOS leave 0x7a-0x7f alone, and no firmware
 * runs across a kexec.
 */
#define VE_PROBE_CMOS		0x7a
#define VE_PROBE_CMOS_LEN	6
enum { VE_PROBE_HOOK_SYSCORE = 1, VE_PROBE_HOOK_REBOOT = 2 };

static u8 ve_probe_previous[VE_PROBE_CMOS_LEN];

static void ve_probe_cmos_keep(struct ve_probe_reading *r, u8 hook)
{
	u8 rec[VE_PROBE_CMOS_LEN] = { 'V', 'E', hook, r->read & 0xff, r->on & 0xff, 0 };
	int i;

	rec[5] = rec[0] ^ rec[1] ^ rec[2] ^ rec[3] ^ rec[4];
	for (i = 0; i < VE_PROBE_CMOS_LEN; i++)
		rtc_cmos_write(rec[i], VE_PROBE_CMOS + i);
}

/* What the previous kernel left, if anything; then forget it. */
static void ve_probe_cmos_take(void)
{
	u8 *p = ve_probe_previous;
	int i;

	for (i = 0; i < VE_PROBE_CMOS_LEN; i++) {
		p[i] = rtc_cmos_read(VE_PROBE_CMOS + i);
		rtc_cmos_write(0, VE_PROBE_CMOS + i);
	}
	if (p[0] != 'V' || p[1] != 'E' || p[5] != (p[0] ^ p[1] ^ p[2] ^ p[3] ^ p[4]))
		memset(p, 0, sizeof(ve_probe_previous));
}

static int ve_probe_on_suspend(void)
{
	ve_probe_take(&ve_probe_at_suspend);
	return 0;
}

static void ve_probe_on_resume(void)
{
	ve_probe_take(&ve_probe_at_resume);
}

static void ve_probe_on_shutdown(void)
{
	ve_probe_let_vcpus_enter();
	ve_probe_take(&ve_probe_at_shutdown);
	ve_probe_cmos_keep(&ve_probe_at_shutdown, VE_PROBE_HOOK_SYSCORE);
}

VE_DEFINE_SYSCORE(ve_probe_syscore, ve_probe_on_suspend,
		  ve_probe_on_resume, ve_probe_on_shutdown);

#ifdef VE_KEXEC_SKIPS_SYSCORE_SHUTDOWN
/*
 * Before 6.7, kexec reaches no syscore shutdown: virt_enable turns the
 * hardware off from a reboot notifier of priority INT_MIN + 1.  This one
 * comes after it.
 */
static struct ve_probe_reading ve_probe_at_reboot = { .hook = "reboot notifier" };

static int ve_probe_reboot_notify(struct notifier_block *nb,
				  unsigned long action, void *data)
{
	ve_probe_let_vcpus_enter();
	ve_probe_take(&ve_probe_at_reboot);
	ve_probe_cmos_keep(&ve_probe_at_reboot, VE_PROBE_HOOK_REBOOT);
	return NOTIFY_DONE;
}

static struct notifier_block ve_probe_reboot_nb = {
	.notifier_call = ve_probe_reboot_notify,
	.priority = INT_MIN,
};
#endif

/* virt_enable loaded after the probe: its hooks come after the probe's. */
static int ve_probe_module_notify(struct notifier_block *nb,
				  unsigned long action, void *data)
{
	struct module *mod = data;

	if (action == MODULE_STATE_COMING && !strcmp(mod->name, "virt_enable"))
		ve_probe_first = true;
	return NOTIFY_DONE;
}

static struct notifier_block ve_probe_module_nb = {
	.notifier_call = ve_probe_module_notify,
};

static void ve_probe_show_reading(struct seq_file *m, const char *key,
				  struct ve_probe_reading *r)
{
	seq_printf(m, "%s %u read %#lx on %#lx\n", key, r->count, r->read, r->on);
}

static int ve_probe_hooks_show(struct seq_file *m, void *unused)
{
	static const char * const hooks[] = {
		[VE_PROBE_HOOK_SYSCORE] = "syscore-shutdown",
		[VE_PROBE_HOOK_REBOOT] = "reboot-notifier",
	};
	u8 *p = ve_probe_previous;

	seq_printf(m, "first %d\n", ve_probe_first);
	ve_probe_show_reading(m, "suspend", &ve_probe_at_suspend);
	ve_probe_show_reading(m, "resume", &ve_probe_at_resume);
#ifdef VE_KEXEC_SKIPS_SYSCORE_SHUTDOWN
	/* Where kexec gets no syscore shutdown, the reboot notifier's. */
	ve_probe_show_reading(m, "shutdown", &ve_probe_at_reboot);
#else
	ve_probe_show_reading(m, "shutdown", &ve_probe_at_shutdown);
#endif
	if (p[0] && p[2] < ARRAY_SIZE(hooks) && hooks[p[2]])
		seq_printf(m, "previous %s read %#x on %#x\n", hooks[p[2]], p[3], p[4]);
	else
		seq_puts(m, "previous none\n");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ve_probe_hooks);

#ifdef VE_HAVE_KMSG_DUMP_DETAIL
static void ve_probe_dump(struct kmsg_dumper *dumper,
			  struct kmsg_dump_detail *detail)
{
	if (detail->reason == KMSG_DUMP_SHUTDOWN)
		ve_probe_shutdown();
}
#else
static void ve_probe_dump(struct kmsg_dumper *dumper,
			  enum kmsg_dump_reason reason)
{
	if (reason == KMSG_DUMP_SHUTDOWN)
		ve_probe_shutdown();
}
#endif

static struct kmsg_dumper ve_probe_dumper = {
	.dump = ve_probe_dump,
	.max_reason = KMSG_DUMP_SHUTDOWN,
};

static int __init ve_probe_init(void)
{
	struct dentry *ve_dir;
	int r;

	ve_probe_vmx = boot_cpu_has(X86_FEATURE_VMX);
	ve_probe_cmos_take();

	/* virt_enable already there (built in, or loaded): its hooks came first. */
	ve_dir = debugfs_lookup("virt_enable", NULL);
	ve_probe_first = IS_ERR_OR_NULL(ve_dir);
	if (!ve_probe_first)
		dput(ve_dir);
	r = register_module_notifier(&ve_probe_module_nb);
	if (r)
		return r;

	ve_probe_dir = debugfs_create_dir("ve_probe", NULL);
	debugfs_create_file("vmx", 0400, ve_probe_dir, NULL, &ve_probe_vmx_fops);
	debugfs_create_file("svm", 0400, ve_probe_dir, NULL, &ve_probe_svm_fops);
	debugfs_create_file("hooks", 0400, ve_probe_dir, NULL, &ve_probe_hooks_fops);
	ve_syscore_register(&ve_probe_syscore);
#ifdef VE_KEXEC_SKIPS_SYSCORE_SHUTDOWN
	register_reboot_notifier(&ve_probe_reboot_nb);
#endif
	kmsg_dump_register(&ve_probe_dumper);
	return 0;
}

static void __exit ve_probe_exit(void)
{
	kmsg_dump_unregister(&ve_probe_dumper);
#ifdef VE_KEXEC_SKIPS_SYSCORE_SHUTDOWN
	unregister_reboot_notifier(&ve_probe_reboot_nb);
#endif
	ve_syscore_unregister(&ve_probe_syscore);
	debugfs_remove_recursive(ve_probe_dir);
	unregister_module_notifier(&ve_probe_module_nb);
}

module_init(ve_probe_init);
module_exit(ve_probe_exit);
MODULE_DESCRIPTION("virt_enable test probe: VMX/SVM state as the hardware reports it");
MODULE_LICENSE("GPL");
