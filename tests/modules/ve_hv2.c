// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test-only module: a second hypervisor.  A minimal but real one, that runs
 * a tiny guest beside KVM's on the same CPUs through virt_enable's windows
 * (virt_enable_window_open()/_close()):
 *
 *  - VMX: a VMCS per CPU, its controls derived from the IA32_VMX_*
 *    capability MSRs, host state from the CPU it runs on, a 64-bit guest on
 *    the host's page tables; VMCLEARed before every window closes.
 *  - SVM: a VMCB and a host-save area per CPU, MSR_VM_HSAVE_PA pointed at
 *    the latter inside the window, an ASID of its own flushed on entry and
 *    INVLPGA'd before leaving.
 *
 * The guest computes a value from an input the host chose (in RBX), leaves
 * it in RAX and calls the host (VMCALL, exit reason 18 / VMMCALL); the host
 * checks the exit and the value.  NMIs and external interrupts exit to the
 * host and are handed to it: an NMI is re-raised on the host (VMX; SVM
 * keeps it pending until STGI), an external interrupt stays pending in the
 * local APIC (VMX without acknowledge-on-exit, SVM with GIF or IF clear)
 * and is taken once the window closes.  Around every window the module
 * reads what the window must give back (VMPTRST, MSR_VM_HSAVE_PA) and
 * counts any difference.
 *
 *   /sys/kernel/debug/ve_hv2/control, one command per write:
 *     get | put                  a system-wide reference
 *     get-cpu CPU | put-cpu CPU  a per-CPU reference on CPU
 *     run CPU|all COUNT          start COUNT guests per CPU
 *     run-for CPU|all MS         start guests for MS milliseconds per CPU
 *     reset                      zero the counts
 *     bench CPU                  time guest round trips on CPU (make bench)
 *   /sys/kernel/debug/ve_hv2/counts: per CPU, "cpu N checked N mismatches
 *     N nmi N intr N other N failed N refused N unrestored N", then
 *     "running N" (threads not done yet), "refs system N", after a bench
 *     "bench cpu N round_trip_ns N windows N trips N interrupted N" (the
 *     median over the windows), and, on SVM, "asid N tlb_ctl N".
 *
 * The guests run in kernel threads, one per CPU, at nice 19 (as the looping
 * KVM vCPUs of the suites), which follow their CPU through offline/online.
 * Kernel threads run with null data, FS and GS selectors, which is what the
 * VMX host state gives back; the module refuses to run elsewhere.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <asm/asm.h>
#include <asm/cpu_entry_area.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/ibt.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/segment.h>
#include <asm/special_insns.h>
#include <asm/svm.h>
#include <asm/tlbflush.h>
#include <asm/vmx.h>

#include "../../virt_enable.h"

/* DR7 as reset, and as every VM exit leaves it (6.1 has no DR7_FIXED_1). */
#define HV2_DR7_RESET	0x400

/* The guest: RAX = rol(RBX, 13) + RBX, xor 0x5a5a5a5a; then the hypercall. */
#define HV2_GUEST_BODY					\
	"mov %rbx, %rax\n\t"				\
	"rol $13, %rax\n\t"				\
	"add %rbx, %rax\n\t"				\
	"xor $0x5a5a5a5a, %rax\n\t"

static u64 hv2_expected(u64 input)
{
	return (rol64(input, 13) + input) ^ 0x5a5a5a5aULL;
}

/*
 * The guests' code, in the module's text: the guest runs on the host's
 * page tables, where that is mapped executable.  A hypercall always exits,
 * so nothing runs after it.
 */
asm(".pushsection .text, \"ax\"\n"
	".p2align 4\n"
	".type hv2_guest_vmx, @function\n"
	"hv2_guest_vmx:\n\t"
	ASM_ENDBR
	HV2_GUEST_BODY
	"vmcall\n\t"
	"ud2\n"
	".size hv2_guest_vmx, . - hv2_guest_vmx\n"
	".p2align 4\n"
	".type hv2_guest_svm, @function\n"
	"hv2_guest_svm:\n\t"
	ASM_ENDBR
	HV2_GUEST_BODY
	"vmmcall\n\t"
	"ud2\n"
	".size hv2_guest_svm, . - hv2_guest_svm\n"
	".popsection");

/* Where each guest starts. */
static unsigned long hv2_guest_vmx_rip(void)
{
	unsigned long rip;

	asm("lea hv2_guest_vmx(%%rip), %0" : "=r" (rip));
	return rip;
}

static unsigned long hv2_guest_svm_rip(void)
{
	unsigned long rip;

	asm("lea hv2_guest_svm(%%rip), %0" : "=r" (rip));
	return rip;
}

struct hv2_cpu {
	void *vmcs;		/* VMX: this CPU's VMCS; SVM: its VMCB */
	void *hsave;		/* SVM: its host-save area */
	u64 loaded;		/* VMX: our VMCS's address while it may be current */
	bool vmwrite_failed;	/* VMX: a VMWRITE of this window failed */
	/* counts, written by this CPU's thread with interrupts off */
	unsigned long checked, mismatches, nmi, intr, other, failed, refused, unrestored;
};

static DEFINE_PER_CPU(struct hv2_cpu, hv2_cpus);
static struct virt_enable_user *hv2_user;
static enum virt_enable_feature hv2_feature;
static DEFINE_MUTEX(hv2_lock);		/* the commands */
static unsigned int hv2_system_refs;
static unsigned int hv2_cpu_refs[NR_CPUS];
static struct dentry *hv2_dir;

/* ------------------------------------------------------------------ VMX -- */

static struct {
	u32 pin, proc, exit, entry;
	bool load_efer;
} hv2_vmx;

static u64 hv2_vmptrst(void)
{
	u64 pa;

	asm volatile("vmptrst %0" : "=m" (pa) : : "cc");
	return pa;
}

/* VMCLEAR/VMPTRLD/VMWRITE: true if the instruction failed (CF or ZF). */
static bool hv2_vmclear(u64 pa)
{
	bool fail;

	asm volatile("vmclear %[pa]" CC_SET(na)
		     : CC_OUT(na) (fail) : [pa] "m" (pa) : "memory");
	return fail;
}

static bool hv2_vmptrld(u64 pa)
{
	bool fail;

	asm volatile("vmptrld %[pa]" CC_SET(na)
		     : CC_OUT(na) (fail) : [pa] "m" (pa) : "memory");
	return fail;
}

static void hv2_vmwrite(unsigned long field, u64 value)
{
	bool fail;

	asm volatile("vmwrite %[value], %[field]" CC_SET(na)
		     : CC_OUT(na) (fail)
		     : [value] "rm" (value), [field] "r" (field) : "cc");
	if (unlikely(fail))
		this_cpu_write(hv2_cpus.vmwrite_failed, true);
}

static u64 hv2_vmread(unsigned long field)
{
	u64 value;

	asm volatile("vmread %[field], %[value]"
		     : [value] "=rm" (value) : [field] "r" (field) : "cc");
	return value;
}

/*
 * A control's value from its capability MSR: the low half says which bits
 * must be 1, the high half which may be 1.  0 if @want asks for one that
 * may not.
 */
static u32 hv2_vmx_control(u32 msr, u32 want)
{
	u64 cap;

	rdmsrl(msr, cap);
	if (want & ~(u32)(cap >> 32))
		return 0;
	return want | (u32)cap;
}

static int hv2_vmx_setup(void)
{
	u32 pin, proc, exit, entry, exit_ctl, entry_ctl;
	u64 basic;
	bool true_ctls;

	rdmsrl(MSR_IA32_VMX_BASIC, basic);
	if (((basic >> 32) & 0x1fff) > PAGE_SIZE)
		return -EOPNOTSUPP;
	/* Bit 55: the TRUE_* MSRs say which default-1 bits may be 0. */
	true_ctls = basic & BIT_ULL(55);
	pin = true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS;
	proc = true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS;
	exit = true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS;
	entry = true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS;

	/* The host's events exit: NMIs and external interrupts. */
	hv2_vmx.pin = hv2_vmx_control(pin, PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING);
	/* Nothing the guest does needs to exit but its VMCALL. */
	hv2_vmx.proc = hv2_vmx_control(proc, 0);
	/*
	 * A 64-bit host; no acknowledge-interrupt-on-exit, so that an external
	 * interrupt stays pending until the window closes.  EFER where the CPU
	 * can load it.
	 */
	exit_ctl = hv2_vmx_control(exit, VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_LOAD_IA32_EFER);
	entry_ctl = hv2_vmx_control(entry, VM_ENTRY_IA32E_MODE | VM_ENTRY_LOAD_IA32_EFER);
	hv2_vmx.load_efer = exit_ctl && entry_ctl;
	if (!hv2_vmx.load_efer) {
		exit_ctl = hv2_vmx_control(exit, VM_EXIT_HOST_ADDR_SPACE_SIZE);
		entry_ctl = hv2_vmx_control(entry, VM_ENTRY_IA32E_MODE);
	}
	hv2_vmx.exit = exit_ctl;
	hv2_vmx.entry = entry_ctl;
	/* An interrupt acknowledged on exit would be lost: never. */
	if (!hv2_vmx.pin || !hv2_vmx.proc || !exit_ctl || !entry_ctl ||
	    (exit_ctl & VM_EXIT_ACK_INTR_ON_EXIT)) {
		pr_err("the CPU's VMX controls cannot run this guest\n");
		return -EOPNOTSUPP;
	}
	pr_info("vmx: true controls %d, pin %#x proc %#x exit %#x entry %#x\n",
		true_ctls, hv2_vmx.pin, hv2_vmx.proc, hv2_vmx.exit, hv2_vmx.entry);
	return 0;
}

static unsigned long hv2_tss_base(int cpu)
{
	return (unsigned long)&get_cpu_entry_area(cpu)->tss.x86_tss;
}

/* Host state: this CPU's, as a VM exit must give it back. */
static void hv2_vmx_host_state(int cpu)
{
	struct desc_ptr idt;
	u64 v;

	hv2_vmwrite(HOST_CR0, read_cr0());
	hv2_vmwrite(HOST_CR3, __read_cr3());
	hv2_vmwrite(HOST_CR4, __read_cr4());
	hv2_vmwrite(HOST_CS_SELECTOR, __KERNEL_CS);
	hv2_vmwrite(HOST_SS_SELECTOR, __KERNEL_DS);
	/* A kernel thread's: null (hv2_thread() checks). */
	hv2_vmwrite(HOST_DS_SELECTOR, 0);
	hv2_vmwrite(HOST_ES_SELECTOR, 0);
	hv2_vmwrite(HOST_FS_SELECTOR, 0);
	hv2_vmwrite(HOST_GS_SELECTOR, 0);
	hv2_vmwrite(HOST_TR_SELECTOR, GDT_ENTRY_TSS * 8);
	rdmsrl(MSR_FS_BASE, v);
	hv2_vmwrite(HOST_FS_BASE, v);
	rdmsrl(MSR_GS_BASE, v);
	hv2_vmwrite(HOST_GS_BASE, v);
	hv2_vmwrite(HOST_TR_BASE, hv2_tss_base(cpu));
	hv2_vmwrite(HOST_GDTR_BASE, (unsigned long)get_current_gdt_ro());
	store_idt(&idt);
	hv2_vmwrite(HOST_IDTR_BASE, idt.address);
	rdmsrl(MSR_IA32_SYSENTER_CS, v);
	hv2_vmwrite(HOST_IA32_SYSENTER_CS, v);
	rdmsrl(MSR_IA32_SYSENTER_ESP, v);
	hv2_vmwrite(HOST_IA32_SYSENTER_ESP, v);
	rdmsrl(MSR_IA32_SYSENTER_EIP, v);
	hv2_vmwrite(HOST_IA32_SYSENTER_EIP, v);
	if (hv2_vmx.load_efer)
		hv2_vmwrite(HOST_IA32_EFER, native_read_msr(MSR_EFER));
	/* HOST_RSP and HOST_RIP: hv2_vmx_enter(), right before VMLAUNCH. */
}

/* A flat segment in VMX access-rights format: present, accessed, G. */
#define HV2_AR_CODE64	0xa09b	/* execute/read, L */
#define HV2_AR_DATA	0xc093	/* read/write, D/B */
#define HV2_AR_TSS64	0x008b	/* busy 64-bit TSS */
#define HV2_AR_UNUSABLE	0x10000

static void hv2_vmx_segment(unsigned long sel, unsigned long base,
			    unsigned long limit, unsigned long ar, u16 value)
{
	/* Each segment's four fields lie 2 apart from ES's in their group. */
	hv2_vmwrite(GUEST_ES_SELECTOR + sel, value);
	hv2_vmwrite(GUEST_ES_BASE + sel, base);
	hv2_vmwrite(GUEST_ES_LIMIT + sel, limit);
	hv2_vmwrite(GUEST_ES_AR_BYTES + sel, ar);
}

/* A 64-bit guest in ring 0 on the host's page tables, segments and tables. */
static void hv2_vmx_guest_state(int cpu)
{
	struct desc_ptr gdt, idt;

	hv2_vmwrite(GUEST_CR0, read_cr0());
	hv2_vmwrite(GUEST_CR3, __read_cr3());
	hv2_vmwrite(GUEST_CR4, __read_cr4());
	if (hv2_vmx.load_efer)
		hv2_vmwrite(GUEST_IA32_EFER, native_read_msr(MSR_EFER));
	hv2_vmx_segment(0, 0, 0xffffffff, HV2_AR_DATA, __KERNEL_DS);	/* ES */
	hv2_vmx_segment(GUEST_CS_SELECTOR - GUEST_ES_SELECTOR, 0, 0xffffffff,
			HV2_AR_CODE64, __KERNEL_CS);
	hv2_vmx_segment(GUEST_SS_SELECTOR - GUEST_ES_SELECTOR, 0, 0xffffffff,
			HV2_AR_DATA, __KERNEL_DS);
	hv2_vmx_segment(GUEST_DS_SELECTOR - GUEST_ES_SELECTOR, 0, 0xffffffff,
			HV2_AR_DATA, __KERNEL_DS);
	hv2_vmx_segment(GUEST_FS_SELECTOR - GUEST_ES_SELECTOR, 0, 0xffffffff,
			HV2_AR_DATA, __KERNEL_DS);
	hv2_vmx_segment(GUEST_GS_SELECTOR - GUEST_ES_SELECTOR, 0, 0xffffffff,
			HV2_AR_DATA, __KERNEL_DS);
	hv2_vmx_segment(GUEST_LDTR_SELECTOR - GUEST_ES_SELECTOR, 0, 0,
			HV2_AR_UNUSABLE, 0);
	hv2_vmx_segment(GUEST_TR_SELECTOR - GUEST_ES_SELECTOR, hv2_tss_base(cpu),
			0x67, HV2_AR_TSS64, GDT_ENTRY_TSS * 8);
	native_store_gdt(&gdt);
	hv2_vmwrite(GUEST_GDTR_BASE, gdt.address);
	hv2_vmwrite(GUEST_GDTR_LIMIT, gdt.size);
	store_idt(&idt);
	hv2_vmwrite(GUEST_IDTR_BASE, idt.address);
	hv2_vmwrite(GUEST_IDTR_LIMIT, idt.size);
	hv2_vmwrite(GUEST_DR7, HV2_DR7_RESET);
	hv2_vmwrite(GUEST_IA32_DEBUGCTL, 0);
	hv2_vmwrite(GUEST_SYSENTER_CS, 0);
	hv2_vmwrite(GUEST_SYSENTER_ESP, 0);
	hv2_vmwrite(GUEST_SYSENTER_EIP, 0);
	/* Interrupts off: only the exiting controls see the host's events. */
	hv2_vmwrite(GUEST_RFLAGS, X86_EFLAGS_FIXED);
	hv2_vmwrite(GUEST_RIP, hv2_guest_vmx_rip());
	hv2_vmwrite(GUEST_RSP, 0);	/* never used: every exception exits */
	hv2_vmwrite(GUEST_INTERRUPTIBILITY_INFO, 0);
	hv2_vmwrite(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	hv2_vmwrite(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	hv2_vmwrite(VMCS_LINK_POINTER, ~0ULL);
}

static void hv2_vmx_controls(void)
{
	hv2_vmwrite(PIN_BASED_VM_EXEC_CONTROL, hv2_vmx.pin);
	hv2_vmwrite(CPU_BASED_VM_EXEC_CONTROL, hv2_vmx.proc);
	hv2_vmwrite(VM_EXIT_CONTROLS, hv2_vmx.exit);
	hv2_vmwrite(VM_ENTRY_CONTROLS, hv2_vmx.entry);
	/* A fault in the guest would run a host handler there: exit instead. */
	hv2_vmwrite(EXCEPTION_BITMAP, ~0U);
	hv2_vmwrite(PAGE_FAULT_ERROR_CODE_MASK, 0);
	hv2_vmwrite(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	hv2_vmwrite(CR3_TARGET_COUNT, 0);
	hv2_vmwrite(VM_EXIT_MSR_STORE_COUNT, 0);
	hv2_vmwrite(VM_EXIT_MSR_LOAD_COUNT, 0);
	hv2_vmwrite(VM_ENTRY_MSR_LOAD_COUNT, 0);
	hv2_vmwrite(VM_ENTRY_INTR_INFO_FIELD, 0);
	hv2_vmwrite(CR0_GUEST_HOST_MASK, 0);
	hv2_vmwrite(CR4_GUEST_HOST_MASK, 0);
}

/*
 * VMLAUNCH (VMRESUME with @resume) with the input in RBX; the result is the
 * guest's RAX.  The VM exit lands right after the entry (HOST_RIP), with
 * the stack pointer it had (HOST_RSP), and RFLAGS 0x2: a failed entry
 * continues at the same place with CF or ZF set.  The guest changes no
 * other register.  Returns true if the entry failed.
 */
static bool hv2_vmx_enter(u64 input, u64 *result, bool resume)
{
	u8 launched = resume;
	unsigned long field;
	bool fail;
	u64 rax;

	asm volatile("mov %[f_rsp], %[field]\n\t"
		     "vmwrite %%rsp, %[field]\n\t"
		     "mov %[f_rip], %[field]\n\t"
		     "lea 1f(%%rip), %%rax\n\t"
		     "vmwrite %%rax, %[field]\n\t"
		     "cmpb $0, %[launched]\n\t"
		     "jne 2f\n\t"
		     "vmlaunch\n\t"
		     "jmp 1f\n"
		     "2:\n\t"
		     "vmresume\n"
		     "1:\n\t"
		     CC_SET(be)
		     : CC_OUT(be) (fail), "=&a" (rax), [field] "=&r" (field)
		     : "b" (input), [launched] "qm" (launched),
		       [f_rsp] "i" (HOST_RSP), [f_rip] "i" (HOST_RIP)
		     : "memory");
	*result = rax;
	return fail;
}

/* What the host does not get back from the VM exit by itself. */
struct hv2_host_extra {
	unsigned long dr7;
	u64 debugctl;
	u16 ldt;
};

static void hv2_save_host(struct hv2_host_extra *h)
{
	get_debugreg(h->dr7, 7);
	if (rdmsrl_safe(MSR_IA32_DEBUGCTLMSR, &h->debugctl))
		h->debugctl = 0;
	asm volatile("sldt %0" : "=r" (h->ldt));
}

static void hv2_vmx_restore_host(struct hv2_host_extra *h, int cpu)
{
	/* A VM exit sets the GDTR and IDTR limits to 0xffff (the IDT's is
	 * harmless: no vector reaches past 4 KiB, as KVM leaves it), the TR
	 * limit to 0x67, LDTR to null, DR7 to 0x400 and DEBUGCTL to 0.
	 */
	load_fixmap_gdt(cpu);
	invalidate_tss_limit();
	if (h->ldt)
		asm volatile("lldt %0" : : "rm" (h->ldt));
	if (h->dr7 != HV2_DR7_RESET)
		set_debugreg(h->dr7, 7);
	if (h->debugctl)
		update_debugctlmsr(h->debugctl);
}

/*
 * One guest on this CPU, its VMCS loaded and cleared inside the window.
 * True if a host event ended it early.
 */
/*
 * Make our VMCS current on this CPU, filled for a VMLAUNCH.  VMCLEAR first:
 * the launch state must be clear for VMLAUNCH, and our VMCS was cleared
 * when the last window closed (maybe on another CPU).  False if a VMX
 * instruction failed; hv2_vmx_unload() undoes it either way.
 */
static bool hv2_vmx_load(struct hv2_cpu *hc, int cpu)
{
	u64 pa = __pa(hc->vmcs);

	WRITE_ONCE(hc->loaded, pa);
	if (hv2_vmclear(pa) || hv2_vmptrld(pa))
		return false;
	hc->vmwrite_failed = false;
	hv2_vmx_controls();
	hv2_vmx_host_state(cpu);
	hv2_vmx_guest_state(cpu);
	return !hc->vmwrite_failed;
}

/* Never leave our VMCS current or active: the window checks. */
static void hv2_vmx_unload(struct hv2_cpu *hc)
{
	hv2_vmclear(__pa(hc->vmcs));
	WRITE_ONCE(hc->loaded, 0);
}

static bool hv2_vmx_run(struct hv2_cpu *hc, int cpu, u64 input)
{
	u64 result = 0, reason, info;
	struct hv2_host_extra host;
	bool again = false, fail;

	hv2_save_host(&host);
	if (!hv2_vmx_load(hc, cpu)) {
		hc->failed++;
		goto clear;
	}
	fail = hv2_vmx_enter(input, &result, false);
	hv2_vmx_restore_host(&host, cpu);
	if (fail) {
		hc->failed++;
		pr_err_once("CPU %d: VMLAUNCH failed, VM-instruction error %llu\n",
			    cpu, hv2_vmread(VM_INSTRUCTION_ERROR));
		goto clear;
	}

	reason = hv2_vmread(VM_EXIT_REASON);
	info = hv2_vmread(VM_EXIT_INTR_INFO);
	if (reason == EXIT_REASON_VMCALL) {
		if (result == hv2_expected(input))
			hc->checked++;
		else
			hc->mismatches++;
	} else if (reason == EXIT_REASON_EXCEPTION_NMI &&
		   (info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_NMI_INTR) {
		/*
		 * The NMI was the host's: run its handler, whose IRET also ends
		 * the NMI blocking the exit left.
		 */
		hc->nmi++;
		asm volatile("int $2");
		again = true;
	} else if (reason == EXIT_REASON_EXTERNAL_INTERRUPT) {
		/* Still pending in the APIC: taken when the window closes. */
		hc->intr++;
		again = true;
	} else {
		hc->other++;
		pr_err_once("CPU %d: unexpected exit %#llx (info %#llx, qualification %#llx)\n",
			    cpu, reason, info, hv2_vmread(EXIT_QUALIFICATION));
	}
clear:
	hv2_vmx_unload(hc);
	return again;
}

/* ------------------------------------------------------------------ SVM -- */

static u32 hv2_asid;
static u8 hv2_tlb_ctl;

static void hv2_intercept(struct vmcb_control_area *c, unsigned int bit)
{
	c->intercepts[bit / 32] |= BIT(bit % 32);
}

/* A flat segment in the VMCB's attribute format: present, accessed, G. */
#define HV2_ATTR_CODE64	0xa9b
#define HV2_ATTR_DATA	0xc93

static void hv2_vmcb_segment(struct vmcb_seg *seg, u16 sel, u16 attrib)
{
	seg->selector = sel;
	seg->attrib = attrib;
	seg->limit = 0xffffffff;
	seg->base = 0;
}

static void hv2_svm_vmcb(struct vmcb *vmcb, u64 input)
{
	struct vmcb_control_area *c = &vmcb->control;
	struct vmcb_save_area *s = &vmcb->save;
	struct desc_ptr gdt, idt;

	memset(vmcb, 0, PAGE_SIZE);
	/* VMRUN must be intercepted; the host's events exit; so does
	 * every exception and a triple fault.
	 */
	hv2_intercept(c, INTERCEPT_VMRUN);
	hv2_intercept(c, INTERCEPT_VMMCALL);
	hv2_intercept(c, INTERCEPT_NMI);
	hv2_intercept(c, INTERCEPT_INTR);
	hv2_intercept(c, INTERCEPT_SHUTDOWN);
	c->intercepts[INTERCEPT_EXCEPTION] = ~0U;
	/*
	 * KVM hands out every ASID in turn and flushes only when it wraps:
	 * ours may have been a KVM vCPU's since we last ran, so flush it.
	 */
	c->asid = hv2_asid;
	c->tlb_ctl = hv2_tlb_ctl;
	/* No V_INTR_MASKING: the guest's IF (set) gates physical interrupts,
	 * which the INTR intercept turns into exits.
	 */
	c->int_ctl = 0;

	hv2_vmcb_segment(&s->cs, __KERNEL_CS, HV2_ATTR_CODE64);
	hv2_vmcb_segment(&s->ss, __KERNEL_DS, HV2_ATTR_DATA);
	hv2_vmcb_segment(&s->ds, __KERNEL_DS, HV2_ATTR_DATA);
	hv2_vmcb_segment(&s->es, __KERNEL_DS, HV2_ATTR_DATA);
	native_store_gdt(&gdt);
	s->gdtr.base = gdt.address;
	s->gdtr.limit = gdt.size;
	store_idt(&idt);
	s->idtr.base = idt.address;
	s->idtr.limit = idt.size;
	s->cpl = 0;
	/* The host's, with EFER.SVME, which VMRUN requires of a guest too. */
	s->efer = native_read_msr(MSR_EFER);
	s->cr0 = read_cr0();
	/* VMRUN loads CR2 and no exit gives the host's back: keep it. */
	s->cr2 = native_read_cr2();
	s->cr3 = __read_cr3();
	s->cr4 = __read_cr4();
	s->dr6 = DR6_RESERVED;
	s->dr7 = HV2_DR7_RESET;
	s->g_pat = native_read_msr(MSR_IA32_CR_PAT);
	s->rflags = X86_EFLAGS_FIXED | X86_EFLAGS_IF;
	s->rip = hv2_guest_svm_rip();
	s->rsp = 0;	/* never used: every exception exits */
	/*
	 * FS, GS, TR, LDTR and their MSRs are VMLOAD's and VMSAVE's: the
	 * guest never loads them and keeps the host's, untouched.
	 */
}

static void hv2_invlpga(unsigned long va, u32 asid)
{
	asm volatile("invlpga %0, %1" : : "a" (va), "c" (asid) : "memory");
}

static bool hv2_svm_run(struct hv2_cpu *hc, int cpu, u64 input)
{
	struct vmcb *vmcb = hc->vmcs;
	unsigned long guest = hv2_guest_svm_rip();
	unsigned long dr7;
	u64 code;

	get_debugreg(dr7, 7);
	/* Our own host-save area; the window gives KVM's back. */
	wrmsrl(MSR_VM_HSAVE_PA, __pa(hc->hsave));
	hv2_svm_vmcb(vmcb, input);
	/*
	 * GIF clear around VMRUN, so that no host event is taken between the
	 * exit and STGI (an NMI stays pending until then).  VMRUN saves and
	 * #VMEXIT gives back RAX, RSP and RIP; the guest changes only RAX.
	 */
	asm volatile("clgi\n\t"
		     "vmrun %%rax\n\t"
		     "stgi"
		     : : "a" (__pa(vmcb)), "b" (input) : "memory", "cc");
	/* #VMEXIT sets DR7 to 0x400 (VMRUN does not save it). */
	if (dr7 != HV2_DR7_RESET)
		set_debugreg(dr7, 7);
	/* Leave no translation of ours for the next user of this ASID. */
	hv2_invlpga(guest & PAGE_MASK, hv2_asid);
	hv2_invlpga((guest + 64) & PAGE_MASK, hv2_asid);

	code = vmcb->control.exit_code;
	if (code == SVM_EXIT_VMMCALL) {
		if (vmcb->save.rax == hv2_expected(input))
			hc->checked++;
		else
			hc->mismatches++;
	} else if (code == SVM_EXIT_NMI) {
		hc->nmi++;	/* taken on the host at STGI */
		return true;
	} else if (code == SVM_EXIT_INTR) {
		hc->intr++;	/* pending until the window closes */
		return true;
	} else if (code == (u64)SVM_EXIT_ERR) {
		hc->failed++;
		pr_err_once("CPU %d: VMRUN found the VMCB invalid\n", cpu);
	} else {
		hc->other++;
		pr_err_once("CPU %d: unexpected exit %#llx (info %#llx %#llx)\n", cpu,
			    code, vmcb->control.exit_info_1, vmcb->control.exit_info_2);
	}
	return false;
}

static int hv2_svm_setup(void)
{
	u32 nasids = cpuid_ebx(SVM_CPUID_FUNC);

	if (nasids < 2)
		return -EOPNOTSUPP;
	/* The last one, KVM's too once it has cycled through them. */
	hv2_asid = nasids - 1;
	hv2_tlb_ctl = boot_cpu_has(X86_FEATURE_FLUSHBYASID) ?
		      TLB_CONTROL_FLUSH_ASID : TLB_CONTROL_FLUSH_ALL_ASID;
	pr_info("svm: asid %u, tlb_ctl %u\n", hv2_asid, hv2_tlb_ctl);
	return 0;
}

/* ------------------------------------------------------------- the runs -- */

/* What the window must give back: the current VMCS, or the host-save area. */
static u64 hv2_shared_state(void)
{
	u64 v;

	if (hv2_feature == VIRT_ENABLE_VMX)
		return hv2_vmptrst();
	rdmsrl(MSR_VM_HSAVE_PA, v);
	return v;
}

/*
 * One window with one guest on this CPU.  True if a host event ended the
 * guest before its hypercall: the caller runs it again once the host has
 * taken the event, as a hypervisor resumes its guest.
 */
static bool hv2_run_one(u64 input)
{
	struct virt_enable_window window;
	struct hv2_cpu *hc;
	unsigned long flags;
	bool again;
	u64 before;
	int cpu;

	local_irq_save(flags);
	cpu = smp_processor_id();
	hc = this_cpu_ptr(&hv2_cpus);
	if (virt_enable_window_open(hv2_user, &window)) {
		hc->refused++;
		local_irq_restore(flags);
		return false;
	}
	/* As the window found it: it changed nothing, with interrupts off. */
	before = hv2_shared_state();
	if (hv2_feature == VIRT_ENABLE_VMX)
		again = hv2_vmx_run(hc, cpu, input);
	else
		again = hv2_svm_run(hc, cpu, input);
	virt_enable_window_close(&window);
	/* Still with interrupts off: nothing of KVM's ran in between. */
	if (hv2_shared_state() != before)
		hc->unrestored++;
	local_irq_restore(flags);
	return again;
}

/* How long a guest-running thread keeps its CPU at most: 20 ms. */
#define HV2_REST_EVERY	(HZ / 50)

/* Threads running guests; each holds a reference on this module. */
static atomic_t hv2_running = ATOMIC_INIT(0);

struct hv2_run {
	int cpu;
	unsigned long count;		/* guests to run, or 0 */
	unsigned long deadline;		/* jiffies, with count 0 */
};

static bool hv2_null_segments(void)
{
	u16 ds, es, fs, gs;

	savesegment(ds, ds);
	savesegment(es, es);
	savesegment(fs, fs);
	savesegment(gs, gs);
	return !(ds | es | fs | gs);
}

static int hv2_thread(void *arg)
{
	struct hv2_run *run = arg;
	unsigned long n = 0, rest = jiffies + HV2_REST_EVERY;

	set_user_nice(current, MAX_NICE);
	if (WARN_ON_ONCE(!hv2_null_segments()))
		goto out;
	while (run->count ? n < run->count : time_before(jiffies, run->deadline)) {
		/* Back on our CPU after its offline; wait while it is away. */
		if (raw_smp_processor_id() != run->cpu &&
		    set_cpus_allowed_ptr(current, cpumask_of(run->cpu))) {
			msleep(20);
			continue;
		}
		while (hv2_run_one(n * 0x9e3779b97f4a7c15ULL + run->cpu))
			cond_resched();
		n++;
		/*
		 * Leave the CPU for a tick now and then, as a vCPU thread that
		 * halts does, so that KVM's vCPU thread on this CPU, as nice
		 * as this one, is not left waiting behind it.
		 */
		if (time_after(jiffies, rest)) {
			schedule_timeout_idle(1);
			rest = jiffies + HV2_REST_EVERY;
		}
		cond_resched();
	}
out:
	kfree(run);
	atomic_dec(&hv2_running);
	module_put_and_kthread_exit(0);
}

/*
 * Start guests on @cpu (-1: every online CPU) until @count or @ms has
 * passed, and return: "running" in the counts file says when they are
 * done.  Not waiting here keeps the writer out of the way of a suspend in
 * the middle of a run (a debugfs write cannot be frozen).
 */
static int hv2_start_guests(int cpu, unsigned long count, unsigned long ms)
{
	int c, r = -ENODEV;

	cpus_read_lock();
	for_each_online_cpu(c) {
		struct task_struct *task;
		struct hv2_run *run;

		if (cpu >= 0 && c != cpu)
			continue;
		run = kzalloc(sizeof(*run), GFP_KERNEL);
		if (!run) {
			r = -ENOMEM;
			break;
		}
		run->cpu = c;
		run->count = count;
		run->deadline = jiffies + msecs_to_jiffies(ms);
		task = kthread_create_on_node(hv2_thread, run, cpu_to_node(c), "ve_hv2/%d", c);
		if (IS_ERR(task)) {
			kfree(run);
			r = PTR_ERR(task);
			break;
		}
		__module_get(THIS_MODULE);
		atomic_inc(&hv2_running);
		set_cpus_allowed_ptr(task, cpumask_of(c));
		wake_up_process(task);
		r = 0;
	}
	cpus_read_unlock();
	return r;
}

/* ------------------------------------------------------------ the bench -- */

/*
 * make bench: one guest round trip (an entry, the hypercall's exit, the
 * check of its value), beside KVM's own, which kvm_guest_test --bench
 * measures in the same guest kernel.  Round trips are timed in windows of
 * HV2_BENCH_TRIPS, interrupts off, the guest entered again at its start
 * after each hypercall, as a hypervisor resumes a vCPU; the window's own
 * cost is ve_bench's "window" row.
 */
#define HV2_BENCH_TRIPS		100
#define HV2_BENCH_WINDOWS	21

static struct {
	int cpu;
	s64 median_ns;		/* per round trip, over HV2_BENCH_WINDOWS */
	unsigned int interrupted;	/* windows a host event ended */
} hv2_bench = { .cpu = -1 };

/*
 * The round trips of one window: nanoseconds per round trip, 0 if a host
 * event ended them (the caller tries another window), -1 if an entry
 * failed or a value was wrong.
 */
static s64 hv2_bench_vmx(struct hv2_cpu *hc, int cpu)
{
	u64 input = cpu, result, reason, t0 = 0;
	unsigned long rip = hv2_guest_vmx_rip();
	struct hv2_host_extra host;
	bool nmi = false;
	s64 ns = -1;
	int i;

	hv2_save_host(&host);
	if (!hv2_vmx_load(hc, cpu))
		goto clear;
	/*
	 * The host state a VM exit changes (hv2_vmx_restore_host()) is given
	 * back once, after the last exit, as KVM does on its way to user space.
	 */
	for (i = 0; i <= HV2_BENCH_TRIPS; i++) {
		if (i == 1)
			t0 = ktime_get_ns();
		if (i)
			hv2_vmwrite(GUEST_RIP, rip);
		if (hv2_vmx_enter(input + i, &result, i > 0))
			break;
		reason = hv2_vmread(VM_EXIT_REASON);
		if (reason == EXIT_REASON_EXTERNAL_INTERRUPT ||
		    reason == EXIT_REASON_EXCEPTION_NMI) {
			nmi = reason == EXIT_REASON_EXCEPTION_NMI;
			ns = 0;
			break;
		}
		if (reason != EXIT_REASON_VMCALL || result != hv2_expected(input + i))
			break;
	}
	if (i > HV2_BENCH_TRIPS)
		ns = (ktime_get_ns() - t0) / HV2_BENCH_TRIPS;
	hv2_vmx_restore_host(&host, cpu);
	if (nmi)
		asm volatile("int $2");
clear:
	hv2_vmx_unload(hc);
	return ns;
}

static s64 hv2_bench_svm(struct hv2_cpu *hc, int cpu)
{
	unsigned long guest = hv2_guest_svm_rip(), dr7;
	struct vmcb *vmcb = hc->vmcs;
	u64 input = cpu, code, t0 = 0;
	s64 ns = -1;
	int i;

	get_debugreg(dr7, 7);
	wrmsrl(MSR_VM_HSAVE_PA, __pa(hc->hsave));
	hv2_svm_vmcb(vmcb, input);
	for (i = 0; i <= HV2_BENCH_TRIPS; i++) {
		if (i == 1) {
			t0 = ktime_get_ns();
			/* Flushed once, and nothing but RIP changes: as KVM runs. */
			vmcb->control.tlb_ctl = TLB_CONTROL_DO_NOTHING;
			vmcb->control.clean = ~0U;
		}
		vmcb->save.rip = guest;
		asm volatile("clgi\n\t"
			     "vmrun %%rax\n\t"
			     "stgi"
			     : : "a" (__pa(vmcb)), "b" (input + i) : "memory", "cc");
		code = vmcb->control.exit_code;
		if (code == SVM_EXIT_NMI || code == SVM_EXIT_INTR) {
			ns = 0;
			break;
		}
		if (code != SVM_EXIT_VMMCALL || vmcb->save.rax != hv2_expected(input + i))
			break;
	}
	if (i > HV2_BENCH_TRIPS)
		ns = (ktime_get_ns() - t0) / HV2_BENCH_TRIPS;
	if (dr7 != HV2_DR7_RESET)
		set_debugreg(dr7, 7);
	hv2_invlpga(guest & PAGE_MASK, hv2_asid);
	hv2_invlpga((guest + 64) & PAGE_MASK, hv2_asid);
	return ns;
}

static s64 hv2_bench_window(void)
{
	struct virt_enable_window window;
	unsigned long flags;
	s64 ns;
	int cpu;

	local_irq_save(flags);
	cpu = smp_processor_id();
	if (virt_enable_window_open(hv2_user, &window)) {
		local_irq_restore(flags);
		return -1;
	}
	if (hv2_feature == VIRT_ENABLE_VMX)
		ns = hv2_bench_vmx(this_cpu_ptr(&hv2_cpus), cpu);
	else
		ns = hv2_bench_svm(this_cpu_ptr(&hv2_cpus), cpu);
	virt_enable_window_close(&window);
	local_irq_restore(flags);
	return ns;
}

static int hv2_cmp_s64(const void *a, const void *b)
{
	s64 x = *(const s64 *)a, y = *(const s64 *)b;

	return x < y ? -1 : x > y;
}

/* On the CPU measured (smp_call_on_cpu(): a kernel thread bound there). */
static int hv2_bench_here(void *unused)
{
	s64 ns[HV2_BENCH_WINDOWS], r;
	unsigned int n = 0, tries = 0;

	if (!hv2_null_segments())
		return -EINVAL;
	while (n < HV2_BENCH_WINDOWS) {
		if (tries++ == 10 * HV2_BENCH_WINDOWS)
			return -EAGAIN;
		r = hv2_bench_window();
		if (r < 0)
			return -EIO;
		if (r)
			ns[n++] = r;
		else
			hv2_bench.interrupted++;
		cond_resched();
	}
	sort(ns, n, sizeof(ns[0]), hv2_cmp_s64, NULL);
	hv2_bench.median_ns = ns[n / 2];
	return 0;
}

/* "bench CPU": a reference must cover CPU. */
static int hv2_bench_on(int cpu)
{
	int r;

	if (cpu < 0 || cpu >= nr_cpu_ids || !cpu_online(cpu))
		return -EINVAL;
	hv2_bench.cpu = cpu;
	hv2_bench.median_ns = 0;
	hv2_bench.interrupted = 0;
	r = smp_call_on_cpu(cpu, hv2_bench_here, NULL, false);
	if (r)
		pr_err("bench on CPU %d: %d\n", cpu, r);
	return r;
}

/* ------------------------------------------------------------ references -- */

struct hv2_cpu_call {
	bool get;
	int result;
};

static void hv2_cpu_ref(void *arg)
{
	struct hv2_cpu_call *call = arg;

	call->result = 0;
	if (call->get)
		call->result = virt_enable_get_cpu(hv2_user, hv2_feature);
	else
		virt_enable_put_cpu(hv2_user, hv2_feature);
}

/* A per-CPU reference is taken and put on its CPU, which stays online. */
static int hv2_cpu_ref_on(int cpu, bool get)
{
	struct hv2_cpu_call call = { .get = get, .result = -ENODEV };

	if (cpu < 0 || cpu >= nr_cpu_ids || (!get && !hv2_cpu_refs[cpu]))
		return -EINVAL;
	cpus_read_lock();
	if (cpu_online(cpu))
		smp_call_function_single(cpu, hv2_cpu_ref, &call, 1);
	cpus_read_unlock();
	if (!call.result && get)
		hv2_cpu_refs[cpu]++;
	else if (!call.result)
		hv2_cpu_refs[cpu]--;
	return call.result;
}

/* -------------------------------------------------------------- debugfs -- */

static int hv2_parse_cpu(const char *s, int *cpu)
{
	if (!strcmp(s, "all")) {
		*cpu = -1;
		return 0;
	}
	return kstrtoint(s, 0, cpu) ?: (*cpu < 0 || *cpu >= nr_cpu_ids ? -EINVAL : 0);
}

static int hv2_command(char *args)
{
	char *verb = strsep(&args, " "), *what = strsep(&args, " ");
	int cpu, r;

	if (!strcmp(verb, "get") && !what) {
		r = virt_enable_get(hv2_user, hv2_feature);
		hv2_system_refs += !r;
		return r;
	}
	if (!strcmp(verb, "put") && !what) {
		if (!hv2_system_refs)
			return -EINVAL;
		virt_enable_put(hv2_user, hv2_feature);
		hv2_system_refs--;
		return 0;
	}
	if (!strcmp(verb, "reset") && !what) {
		for_each_possible_cpu(cpu) {
			struct hv2_cpu *hc = per_cpu_ptr(&hv2_cpus, cpu);

			hc->checked = 0;
			hc->mismatches = 0;
			hc->nmi = 0;
			hc->intr = 0;
			hc->other = 0;
			hc->failed = 0;
			hc->refused = 0;
			hc->unrestored = 0;
		}
		return 0;
	}
	if (what && !args && (!strcmp(verb, "get-cpu") || !strcmp(verb, "put-cpu")))
		return kstrtoint(what, 0, &cpu) ?: hv2_cpu_ref_on(cpu, verb[0] == 'g');
	if (what && !args && !strcmp(verb, "bench"))
		return kstrtoint(what, 0, &cpu) ?: hv2_bench_on(cpu);
	return -EINVAL;
}

/*
 * "run CPU|all COUNT" or "run-for CPU|all MS": a reference put during a
 * run makes its windows refused.
 */
static int hv2_run_command(char *args)
{
	char *verb = strsep(&args, " "), *what = strsep(&args, " ");
	unsigned long n;
	int cpu;

	if (!what || hv2_parse_cpu(what, &cpu) || !args || kstrtoul(args, 0, &n) || !n)
		return -EINVAL;
	if (!strcmp(verb, "run"))
		return hv2_start_guests(cpu, n, 0);
	if (!strcmp(verb, "run-for"))
		return hv2_start_guests(cpu, 0, n);
	return -EINVAL;
}

static ssize_t hv2_control_write(struct file *file, const char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	char buf[64], *args;
	int r;

	if (!len || len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	args = strim(buf);
	mutex_lock(&hv2_lock);
	if (str_has_prefix(args, "run"))
		r = hv2_run_command(args);
	else
		r = hv2_command(args);
	mutex_unlock(&hv2_lock);
	return r ? r : len;
}

static const struct file_operations hv2_control_fops = {
	.owner = THIS_MODULE,
	.write = hv2_control_write,
};

static int hv2_counts_show(struct seq_file *m, void *unused)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct hv2_cpu *hc = per_cpu_ptr(&hv2_cpus, cpu);

		seq_printf(m, "cpu %d checked %lu mismatches %lu nmi %lu intr %lu other %lu failed %lu refused %lu unrestored %lu\n",
			   cpu, READ_ONCE(hc->checked), READ_ONCE(hc->mismatches),
			   READ_ONCE(hc->nmi), READ_ONCE(hc->intr), READ_ONCE(hc->other),
			   READ_ONCE(hc->failed), READ_ONCE(hc->refused),
			   READ_ONCE(hc->unrestored));
	}
	seq_printf(m, "running %d\n", atomic_read(&hv2_running));
	seq_printf(m, "refs system %u\n", READ_ONCE(hv2_system_refs));
	if (hv2_bench.cpu >= 0)
		seq_printf(m, "bench cpu %d round_trip_ns %lld windows %u trips %u interrupted %u\n",
			   hv2_bench.cpu, hv2_bench.median_ns, HV2_BENCH_WINDOWS,
			   HV2_BENCH_TRIPS, hv2_bench.interrupted);
	if (hv2_feature == VIRT_ENABLE_SVM)
		seq_printf(m, "asid %u tlb_ctl %u\n", hv2_asid, hv2_tlb_ctl);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hv2_counts);

/* ------------------------------------------------------------- the user -- */

/* What each CPU's emergency callback saw: 0 not run, else HV2_EMERG_*. */
#define HV2_EMERG_RAN		1
#define HV2_EMERG_ON		2	/* with VMX/SVM still on */
#define HV2_EMERG_CLEARED	4	/* and our VMCS loaded, which it VMCLEARed */
static u8 hv2_emergency_seen[NR_CPUS];

static bool hv2_hw_on(void)
{
	u64 efer;

	if (hv2_feature == VIRT_ENABLE_VMX)
		return __read_cr4() & X86_CR4_VMXE;
	return !rdmsrl_safe(MSR_EFER, &efer) && (efer & EFER_SVME);
}

/*
 * A crash: our VMCS, if loaded here, VMCLEARed so that a dump sees it
 * whole.  In NMI context on every CPU but the crashing one, which runs it
 * last: since 6.7 printk drops what other CPUs say once one has panicked,
 * so each CPU logs what every CPU saw so far (the crash suite reads it).
 */
static void hv2_emergency(void *data)
{
	u64 pa = READ_ONCE(this_cpu_ptr(&hv2_cpus)->loaded);
	u8 seen = HV2_EMERG_RAN;
	int cpu;

	if (hv2_hw_on())
		seen |= HV2_EMERG_ON;
	if (pa && (seen & HV2_EMERG_ON) && hv2_feature == VIRT_ENABLE_VMX &&
	    !hv2_vmclear(pa))
		seen |= HV2_EMERG_CLEARED;
	WRITE_ONCE(hv2_emergency_seen[raw_smp_processor_id()], seen);
	for_each_possible_cpu(cpu) {
		seen = READ_ONCE(hv2_emergency_seen[cpu]);
		if (seen)
			pr_emerg("emergency: cpu %d %s %s%s\n", cpu,
				 hv2_feature == VIRT_ENABLE_VMX ? "vmx" : "svm",
				 seen & HV2_EMERG_ON ? "on" : "off",
				 seen & HV2_EMERG_CLEARED ? ", its VMCS cleared" : "");
	}
}

static const struct virt_enable_user_ops hv2_ops = {
	.emergency = hv2_emergency,
};

static void hv2_free(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct hv2_cpu *hc = per_cpu_ptr(&hv2_cpus, cpu);

		free_page((unsigned long)hc->vmcs);
		free_page((unsigned long)hc->hsave);
	}
}

static int __init hv2_init(void)
{
	u64 basic = 0;
	int cpu, r;

	hv2_feature = virt_enable_feature();
	if (hv2_feature == VIRT_ENABLE_VMX)
		r = hv2_vmx_setup();
	else if (hv2_feature == VIRT_ENABLE_SVM)
		r = hv2_svm_setup();
	else
		r = -ENODEV;
	if (r)
		return r;

	if (hv2_feature == VIRT_ENABLE_VMX)
		rdmsrl(MSR_IA32_VMX_BASIC, basic);
	for_each_possible_cpu(cpu) {
		struct hv2_cpu *hc = per_cpu_ptr(&hv2_cpus, cpu);
		struct page *page;

		page = alloc_pages_node(cpu_to_node(cpu), GFP_KERNEL | __GFP_ZERO, 0);
		if (!page)
			goto nomem;
		hc->vmcs = page_address(page);
		/* VMCS region: the revision id first; bit 31 clear (not shadow). */
		*(u32 *)hc->vmcs = basic & 0x7fffffff;
		if (hv2_feature != VIRT_ENABLE_SVM)
			continue;
		page = alloc_pages_node(cpu_to_node(cpu), GFP_KERNEL | __GFP_ZERO, 0);
		if (!page)
			goto nomem;
		hc->hsave = page_address(page);
	}

	hv2_user = virt_enable_register("ve_hv2", &hv2_ops, NULL);
	if (IS_ERR(hv2_user)) {
		hv2_free();
		return PTR_ERR(hv2_user);
	}
	hv2_dir = debugfs_create_dir("ve_hv2", NULL);
	debugfs_create_file("control", 0200, hv2_dir, NULL, &hv2_control_fops);
	debugfs_create_file("counts", 0400, hv2_dir, NULL, &hv2_counts_fops);
	return 0;
nomem:
	hv2_free();
	return -ENOMEM;
}

static void __exit hv2_exit(void)
{
	int cpu;

	/* No write is running once the files are gone. */
	debugfs_remove_recursive(hv2_dir);
	for (; hv2_system_refs; hv2_system_refs--)
		virt_enable_put(hv2_user, hv2_feature);
	for_each_possible_cpu(cpu)
		while (hv2_cpu_refs[cpu] && !hv2_cpu_ref_on(cpu, false))
			;
	virt_enable_unregister(hv2_user);
	hv2_free();
}

module_init(hv2_init);
module_exit(hv2_exit);
MODULE_DESCRIPTION("virt_enable test: a second hypervisor that runs tiny guests in windows");
MODULE_LICENSE("GPL");
