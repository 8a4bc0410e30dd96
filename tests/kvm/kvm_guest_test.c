// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_guest_test: run a real KVM guest through /dev/kvm and check what it
 * does.  Each vCPU executes three real-mode instructions from its own page,
 *
 *	mov $VALUE+i, %al ; out %al, $0x10 ; hlt
 *
 * so the first KVM_RUN must exit with an OUT of that byte to port 0x10 and
 * the second with HLT.  Prints "ok - ..." or "not ok - ...: why" per check
 * and exits 0 only if every check passed.  Static, for guests with no libc.
 *
 * With --loop SECONDS each vCPU instead runs a guest that never stops,
 *
 *	xor %eax, %eax ; 1: inc %eax ; out %eax, $0x10 ; jmp 1b
 *
 * so that it is inside KVM_RUN nearly all the time and comes back to user
 * space once per step with a counter: every exit must be an OUT of 4 bytes
 * to port 0x10 carrying the previous value + 1, which a vCPU whose state
 * was lost or corrupted (a VMCS or VMCB not saved before VMX/SVM went off
 * under it, a register file restored from the wrong place) would not keep
 * up.  It runs for SECONDS (0: until stopped), or until --stop-file exists
 * or SIGTERM/SIGINT arrives.  With --cpu the vCPU thread is pinned there
 * and pins itself back whenever CPU hotplug has moved it away and the CPU
 * is back, counting its arrivals.  --status FILE is rewritten every 50 ms
 * with the running counts, for a test driving hotplug or suspend under it;
 * --nice N lowers its priority, so that such a test's shell is not slowed
 * down where it shares a CPU with the vCPU (a slow emulator, a CPU gone).
 * The result is one line per vCPU, "ok - vcpuN: loop: E exits in
 * sequence ..." or "not ok - ...: why"; the exit status is 0 only if every
 * vCPU made at least one exit and every exit was in sequence.
 *
 * With --empty-vms N it creates N VMs and nothing in them (KVM_CREATE_VM
 * only: what virt_enable holds while riding an unmodified KVM), keeps them
 * --hold SECONDS, and says how many it made; a test reads what they cost.
 *
 * With --bench N the vCPU measures KVM's own guest round trip, for make
 * bench to set beside a second hypervisor's:
 *
 *	1: xor %eax, %eax ; cpuid ; dec %esi ; jnz 1b ; mov $VALUE, %al ;
 *	   out %al, $0x10 ; hlt
 *
 * run with ESI = N and with ESI = 1, each timed around the one KVM_RUN
 * that ends at the OUT.  CPUID always exits and KVM handles it in the
 * kernel, so (t(N) - t(1)) / (N - 1) is one exit handled in the kernel and
 * the entry back.  The median over BENCH_PAIRS pairs is reported as
 * "ok - vcpu0: bench: round_trip_ns X (N CPUIDs, median of P pairs)".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KVM_DEV		"/dev/kvm"
#define MEM_SIZE	0x10000		/* one slot at guest physical 0 */
#define CODE_BASE	0x1000		/* vCPU i runs at CODE_BASE + i * 4K */
#define CODE_STRIDE	0x1000
#define MAX_VCPUS	(MEM_SIZE / CODE_STRIDE - 1)
#define OUT_PORT	0x10
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* What a looping vCPU counted; read by the main thread for --status. */
struct loop_count {
	unsigned long exits;		/* OUTs, each in sequence */
	unsigned long on_cpu;		/* of which seen on the --cpu CPU */
	unsigned long arrivals;		/* times it got (back) onto that CPU */
	unsigned long interrupted;	/* KVM_RUN ended by a signal (EINTR) */
	unsigned long repins;		/* affinity set back to that CPU */
	int cpu;			/* the CPU of the last exit */
	int done;			/* the thread has ended */
};

struct vcpu {
	int index;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	unsigned char value;
	__u32 exits[2];		/* exit reasons of the two KVM_RUNs */
	int nr_exits;
	pthread_t thread;
	struct loop_count loop;
};

static struct {
	int value, vcpus, cpu, hold, repeat, loop, nice, bench, empty_vms;
	const char *stop_file, *status_file;
} opt = { .value = 42, .vcpus = 1, .cpu = -1, .hold = 0, .repeat = 1, .loop = -1 };

#define BENCH_PAIRS	11

/*
 * Set by SIGTERM/SIGINT, or by the main thread to end the loops; atomic
 * accesses, which are lock-free and so safe in a signal handler.
 */
static int loop_stop;
#define LOOP_STOP()		__atomic_store_n(&loop_stop, 1, __ATOMIC_RELAXED)
#define LOOP_STOPPING()		__atomic_load_n(&loop_stop, __ATOMIC_RELAXED)

static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;
static int checks, failures;
static char round_tag[32];	/* "round N: " when --repeat > 1 */

/* One result line: "ok - what" or "not ok - what: why". */
static void vreport(const char *why, const char *fmt, va_list ap)
{
	char what[256];

	vsnprintf(what, sizeof(what), fmt, ap);
	pthread_mutex_lock(&report_lock);
	checks++;
	if (why) {
		failures++;
		printf("not ok - %s%s: %s\n", round_tag, what, why);
	} else {
		printf("ok - %s%s\n", round_tag, what);
	}
	fflush(stdout);
	pthread_mutex_unlock(&report_lock);
}

static void report(const char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(why, fmt, ap);
	va_end(ap);
}

/* An ioctl that is a check of its own; returns its result. */
static int check_ioctl(int fd, unsigned long req, void *arg, const char *fmt, ...)
{
	int ret = ioctl(fd, req, arg);
	const char *why = ret < 0 ? strerror(errno) : NULL;
	va_list ap;

	va_start(ap, fmt);
	vreport(why, fmt, ap);
	va_end(ap);
	return ret;
}

static const char *exit_name(__u32 reason)
{
	static const char * const names[] = {
		"UNKNOWN", "EXCEPTION", "IO", "HYPERCALL", "DEBUG", "HLT", "MMIO",
		"IRQ_WINDOW_OPEN", "SHUTDOWN", "FAIL_ENTRY", "INTR", "SET_TPR",
		"TPR_ACCESS", "S390_SIEIC", "S390_RESET", "DCR", "NMI", "INTERNAL_ERROR",
	};

	return reason < ARRAY_SIZE(names) ? names[reason] : "other";
}

/* Why an exit is not the one expected, with the details KVM gives. */
static void describe_exit(struct kvm_run *run, char *buf, size_t size)
{
	int len = snprintf(buf, size, "exit reason %u (KVM_EXIT_%s)",
			   run->exit_reason, exit_name(run->exit_reason));

	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
		snprintf(buf + len, size - len, ", suberror %u%s",
			 run->internal.suberror,
			 run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
			 " (emulation failure: is this a real or paravirtual KVM?)" : "");
	else if (run->exit_reason == KVM_EXIT_FAIL_ENTRY)
		snprintf(buf + len, size - len, ", hardware reason %#llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	else if (run->exit_reason == KVM_EXIT_IO)
		snprintf(buf + len, size - len, ", %s port %#x size %u count %u",
			 run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
			 run->io.port, run->io.size, run->io.count);
}

/* Check the CPU the calling thread runs on, after a KVM_RUN. */
static void check_cpu(struct vcpu *v, int nr)
{
	char why[64];
	int cpu = sched_getcpu();

	snprintf(why, sizeof(why), "on CPU %d (%s)", cpu,
		 cpu < 0 ? strerror(errno) : "migrated");
	report(cpu == opt.cpu ? NULL : why, "vcpu%d: on CPU %d after KVM_RUN %d",
	       v->index, opt.cpu, nr);
}

/* KVM_RUN once; returns 0 if the ioctl itself succeeded. */
static int run_once(struct vcpu *v, int nr)
{
	if (check_ioctl(v->fd, KVM_RUN, NULL, "vcpu%d: KVM_RUN %d", v->index, nr) < 0)
		return -1;
	v->exits[v->nr_exits++] = v->run->exit_reason;
	if (opt.cpu >= 0)
		check_cpu(v, nr);
	return 0;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct kvm_run *run = v->run;
	unsigned char *data;
	char why[160];

	if (opt.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(opt.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			report(strerror(errno), "vcpu%d: pin thread to CPU %d", v->index, opt.cpu);
			return NULL;
		}
		report(NULL, "vcpu%d: pin thread to CPU %d", v->index, opt.cpu);
	}

	if (run_once(v, 1))
		return NULL;
	data = (unsigned char *)run + run->io.data_offset;
	if (run->exit_reason != KVM_EXIT_IO || run->io.direction != KVM_EXIT_IO_OUT ||
	    run->io.port != OUT_PORT || run->io.size != 1 || run->io.count != 1)
		describe_exit(run, why, sizeof(why));
	else if (*data != v->value)
		snprintf(why, sizeof(why), "value %u, expected %u", *data, v->value);
	else
		why[0] = '\0';
	report(why[0] ? why : NULL, "vcpu%d: exit 1 is KVM_EXIT_IO out port %#x size 1 value %u",
	       v->index, OUT_PORT, v->value);
	if (why[0])
		return NULL;

	if (run_once(v, 2))
		return NULL;
	describe_exit(run, why, sizeof(why));
	report(run->exit_reason == KVM_EXIT_HLT ? NULL : why,
	       "vcpu%d: exit 2 is KVM_EXIT_HLT", v->index);
	return NULL;
}

/* Store a loop counter where the main thread may read it at any time. */
#define LOOP_SET(v, field, val)	__atomic_store_n(&(v)->loop.field, (val), __ATOMIC_RELAXED)
#define LOOP_GET(v, field)	__atomic_load_n(&(v)->loop.field, __ATOMIC_RELAXED)

/* Pin the calling thread to CPU; 0 or an errno. */
static int pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? errno : 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* --bench: one timed KVM_RUN from the loop's start with ESI = @n. */
static double bench_run(struct vcpu *v, unsigned long n, char *why, size_t size)
{
	struct kvm_regs regs = { .rip = CODE_BASE + v->index * CODE_STRIDE,
				 .rsi = n, .rflags = 0x2 };
	unsigned char *data;
	double t;

	if (ioctl(v->fd, KVM_SET_REGS, &regs)) {
		snprintf(why, size, "KVM_SET_REGS: %s", strerror(errno));
		return -1;
	}
	t = now();
	if (ioctl(v->fd, KVM_RUN, NULL)) {
		snprintf(why, size, "KVM_RUN: %s", strerror(errno));
		return -1;
	}
	t = now() - t;
	data = (unsigned char *)v->run + v->run->io.data_offset;
	if (v->run->exit_reason != KVM_EXIT_IO || v->run->io.port != OUT_PORT ||
	    *data != v->value) {
		describe_exit(v->run, why, size);
		return -1;
	}
	return t;
}

static void *bench_thread(void *arg)
{
	double per_trip[BENCH_PAIRS], t1, tn;
	struct vcpu *v = arg;
	char why[160] = "";
	int i;

	if (opt.cpu >= 0 && pin_to(opt.cpu)) {
		report(strerror(errno), "vcpu%d: pin thread to CPU %d", v->index, opt.cpu);
		return NULL;
	}
	for (i = 0; i < BENCH_PAIRS; i++) {
		t1 = bench_run(v, 1, why, sizeof(why));
		tn = t1 < 0 ? -1 : bench_run(v, opt.bench, why, sizeof(why));
		if (tn < 0)
			break;
		per_trip[i] = (tn - t1) / (opt.bench - 1) * 1e9;
	}
	if (i < BENCH_PAIRS) {
		report(why, "vcpu%d: bench: %d CPUIDs to the OUT", v->index, opt.bench);
		return NULL;
	}
	qsort(per_trip, BENCH_PAIRS, sizeof(per_trip[0]), cmp_double);
	report(NULL, "vcpu%d: bench: round_trip_ns %.0f (%d CPUIDs, median of %d pairs)",
	       v->index, per_trip[BENCH_PAIRS / 2], opt.bench, BENCH_PAIRS);
	return NULL;
}

/*
 * --loop: KVM_RUN until told to stop; every exit must be the next OUT.  A
 * signal (SIGTERM, the freezer of a suspend, the main thread's SIGUSR1)
 * ends a KVM_RUN with EINTR before the guest's next OUT, which is then
 * still the next value: count it and run again.
 */
static void *loop_thread(void *arg)
{
	struct vcpu *v = arg;
	struct kvm_run *run = v->run;
	unsigned long exits = 0, on_cpu = 0, arrivals = 0, interrupted = 0, repins = 0;
	int cpu, last_cpu = -1, r;
	double next_pin = 0;
	__u32 value, expect = 1;
	char why[320] = "", where[100] = "";

	if (opt.cpu >= 0) {
		r = pin_to(opt.cpu);
		report(r ? strerror(r) : NULL, "vcpu%d: pin thread to CPU %d", v->index, opt.cpu);
		if (r)
			goto out;
	}
	while (!LOOP_STOPPING()) {
		if (ioctl(v->fd, KVM_RUN, NULL) < 0) {
			if (errno == EINTR) {
				LOOP_SET(v, interrupted, ++interrupted);
				continue;
			}
			snprintf(why, sizeof(why), "KVM_RUN failed after %lu exits: %s",
				 exits, strerror(errno));
			break;
		}
		if (run->exit_reason != KVM_EXIT_IO || run->io.direction != KVM_EXIT_IO_OUT ||
		    run->io.port != OUT_PORT || run->io.size != 4 || run->io.count != 1) {
			int len = snprintf(why, sizeof(why), "exit %lu is not the loop's OUT: ",
					   exits + 1);
			struct kvm_sregs sregs;
			struct kvm_regs regs;

			describe_exit(run, why + len, sizeof(why) - len);
			/* Where the guest was, and in which mode: a lost prefix or a
			 * changed CS shows here.
			 */
			len = strlen(why);
			if (!ioctl(v->fd, KVM_GET_REGS, &regs) &&
			    !ioctl(v->fd, KVM_GET_SREGS, &sregs))
				snprintf(why + len, sizeof(why) - len,
					 "; then RIP %#llx (the loop is at %#x), RAX %#llx, CS base %#llx db %u",
					 (unsigned long long)regs.rip,
					 CODE_BASE + v->index * CODE_STRIDE,
					 (unsigned long long)regs.rax,
					 (unsigned long long)sregs.cs.base, sregs.cs.db);
			break;
		}
		memcpy(&value, (char *)run + run->io.data_offset, sizeof(value));
		if (value != expect) {
			snprintf(why, sizeof(why),
				 "exit %lu carried %u, expected %u (the previous + 1)",
				 exits + 1, value, expect);
			break;
		}
		expect++;
		LOOP_SET(v, exits, ++exits);

		if (opt.cpu < 0)
			continue;
		cpu = sched_getcpu();
		LOOP_SET(v, cpu, cpu);
		if (cpu == opt.cpu) {
			LOOP_SET(v, on_cpu, ++on_cpu);
			if (last_cpu != opt.cpu)
				LOOP_SET(v, arrivals, ++arrivals);
		} else if (now() >= next_pin) {
			/*
			 * Taking the CPU offline moved this thread away and
			 * widened its affinity: go back once the CPU is active
			 * again (until then the kernel refuses, EINVAL).
			 */
			if (!pin_to(opt.cpu))
				LOOP_SET(v, repins, ++repins);
			next_pin = now() + 0.01;
		}
		last_cpu = cpu;
	}
	if (!why[0] && !exits)
		snprintf(why, sizeof(why), "no exit at all");
	if (opt.cpu >= 0)
		snprintf(where, sizeof(where), ", %lu on CPU %d, %lu arrivals there, %lu re-pins",
			 on_cpu, opt.cpu, arrivals, repins);
	report(why[0] ? why : NULL,
	       "vcpu%d: loop: %lu exits in sequence%s, %lu KVM_RUNs interrupted",
	       v->index, exits, where, interrupted);
out:
	__atomic_store_n(&v->loop.done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void on_stop_signal(int sig)
{
	(void)sig;
	LOOP_STOP();
}

/* SIGUSR1: only there to end a KVM_RUN with EINTR. */
static void on_kick(int sig)
{
	(void)sig;
}

/* --status: the counts summed over the vCPUs, replaced atomically. */
static void write_status(struct vcpu *vcpus)
{
	unsigned long exits = 0, on_cpu = 0, arrivals = 0, interrupted = 0, repins = 0;
	char tmp[4096];
	FILE *f;
	int i, cpu = -1, done = 0;

	if (!opt.status_file)
		return;
	for (i = 0; i < opt.vcpus; i++) {
		exits += LOOP_GET(&vcpus[i], exits);
		on_cpu += LOOP_GET(&vcpus[i], on_cpu);
		arrivals += LOOP_GET(&vcpus[i], arrivals);
		interrupted += LOOP_GET(&vcpus[i], interrupted);
		repins += LOOP_GET(&vcpus[i], repins);
		done += __atomic_load_n(&vcpus[i].loop.done, __ATOMIC_ACQUIRE);
		if (!i)
			cpu = LOOP_GET(&vcpus[i], cpu);
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", opt.status_file);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "exits %lu on_cpu %lu arrivals %lu interrupted %lu repins %lu cpu %d done %d\n",
		exits, on_cpu, arrivals, interrupted, repins, cpu, done);
	if (fclose(f) == 0)
		rename(tmp, opt.status_file);
}

/*
 * The main thread while the vCPUs loop: stop them when the time is up, the
 * stop file appears or a signal came; write the status meanwhile.
 */
static void watch_loops(struct vcpu *vcpus, int started)
{
	struct timespec tick = { 0, 50 * 1000 * 1000 };
	struct stat st;
	double end = opt.loop ? now() + opt.loop : 0;
	int i, done;

	for (;;) {
		write_status(vcpus);
		for (i = 0, done = 0; i < started; i++)
			done += __atomic_load_n(&vcpus[i].loop.done, __ATOMIC_ACQUIRE);
		if (done == started || LOOP_STOPPING() || (end && now() >= end) ||
		    (opt.stop_file && !stat(opt.stop_file, &st)))
			break;
		nanosleep(&tick, NULL);
	}
	LOOP_STOP();
	/* Kick whoever is inside KVM_RUN; the loop guest exits by itself anyway. */
	for (i = 0; i < started; i++)
		if (!__atomic_load_n(&vcpus[i].loop.done, __ATOMIC_ACQUIRE))
			pthread_kill(vcpus[i].thread, SIGUSR1);
}

/* Create vCPU i, map its kvm_run and point it at its code page. */
static int setup_vcpu(int vm, int kvm, unsigned char *mem, struct vcpu *v)
{
	unsigned long code = CODE_BASE + v->index * CODE_STRIDE;
	const unsigned char insns[] = {
		0xb0, v->value,		/* mov $value, %al */
		0xe6, OUT_PORT,		/* out %al, $0x10 */
		0xf4,			/* hlt */
	};
	const unsigned char loop[] = {	/* real mode: 0x66 makes it 32-bit */
		0x66, 0x31, 0xc0,	/* xor %eax, %eax */
		0x66, 0x40,		/* 1: inc %eax */
		0x66, 0xe7, OUT_PORT,	/* out %eax, $0x10 */
		0xeb, 0xf9,		/* jmp 1b */
	};
	const unsigned char bench[] = {
		0x66, 0x31, 0xc0,	/* 1: xor %eax, %eax */
		0x0f, 0xa2,		/* cpuid */
		0x66, 0x4e,		/* dec %esi */
		0x75, 0xf7,		/* jnz 1b */
		0xb0, v->value,		/* mov $value, %al */
		0xe6, OUT_PORT,		/* out %al, $0x10 */
		0xf4,			/* hlt */
	};
	struct kvm_regs regs = { .rip = code, .rflags = 0x2 };	/* bit 1 must be set */
	struct kvm_sregs sregs;
	int size;

	if (opt.loop >= 0)
		memcpy(mem + code, loop, sizeof(loop));
	else if (opt.bench)
		memcpy(mem + code, bench, sizeof(bench));
	else
		memcpy(mem + code, insns, sizeof(insns));
	v->fd = check_ioctl(vm, KVM_CREATE_VCPU, (void *)(long)v->index,
			    "vcpu%d: KVM_CREATE_VCPU", v->index);
	if (v->fd < 0)
		return -1;
	size = check_ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, NULL, "vcpu%d: KVM_GET_VCPU_MMAP_SIZE",
			   v->index);
	if (size < 0)
		return -1;
	v->run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	report(v->run == MAP_FAILED ? strerror(errno) : NULL, "vcpu%d: mmap kvm_run (%d bytes)",
	       v->index, size);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return -1;
	}
	v->run_size = size;

	if (check_ioctl(v->fd, KVM_GET_SREGS, &sregs, "vcpu%d: KVM_GET_SREGS", v->index) < 0)
		return -1;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (check_ioctl(v->fd, KVM_SET_SREGS, &sregs, "vcpu%d: KVM_SET_SREGS (CS base 0)",
			v->index) < 0)
		return -1;
	return check_ioctl(v->fd, KVM_SET_REGS, &regs, "vcpu%d: KVM_SET_REGS (RIP %#lx)",
			   v->index, code) < 0 ? -1 : 0;
}

/* One VM from creation to close; each vCPU records the exits it saw. */
static void run_vm(int kvm, struct vcpu *vcpus)
{
	struct kvm_userspace_memory_region region = { .slot = 0 };
	unsigned char *mem;
	int vm, i, ret, left, ready = 0;

	for (i = 0; i < opt.vcpus; i++)
		vcpus[i] = (struct vcpu){ .index = i, .fd = -1, .value = opt.value + i };
	vm = check_ioctl(kvm, KVM_CREATE_VM, 0, "KVM_CREATE_VM");
	if (vm < 0)
		return;
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		report(strerror(errno), "mmap %d KiB of guest memory", MEM_SIZE / 1024);
		close(vm);
		return;
	}
	region.memory_size = MEM_SIZE;
	region.userspace_addr = (unsigned long)mem;
	if (check_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region,
			"KVM_SET_USER_MEMORY_REGION (64 KiB at 0)") < 0)
		goto out;

	for (i = 0; i < opt.vcpus; i++)
		if (setup_vcpu(vm, kvm, mem, &vcpus[i]))
			goto out;

	if (opt.hold) {
		printf("# holding the VM open for %d s\n", opt.hold);
		fflush(stdout);
		for (left = opt.hold; left > 0;)
			left = sleep(left);
	}

	for (; ready < opt.vcpus; ready++) {
		ret = pthread_create(&vcpus[ready].thread, NULL,
				     opt.loop >= 0 ? loop_thread :
				     opt.bench ? bench_thread : vcpu_thread, &vcpus[ready]);
		if (ret) {
			report(strerror(ret), "vcpu%d: start thread", ready);
			break;
		}
	}
	if (opt.loop >= 0)
		watch_loops(vcpus, ready);
	for (i = 0; i < ready; i++)
		pthread_join(vcpus[i].thread, NULL);
	if (opt.loop >= 0)
		write_status(vcpus);
out:
	for (i = 0; i < opt.vcpus && vcpus[i].fd >= 0; i++) {
		if (vcpus[i].run)
			munmap(vcpus[i].run, vcpus[i].run_size);
		close(vcpus[i].fd);
	}
	munmap(mem, MEM_SIZE);
	close(vm);
}

static void print_usage(void)
{
	fputs("usage: kvm_guest_test [--value N] [--vcpus N] [--cpu C] [--hold SECONDS]\n"
	      "                      [--repeat N]\n"
	      "       kvm_guest_test --loop SECONDS [--vcpus N] [--cpu C] [--hold SECONDS]\n"
	      "                      [--stop-file PATH] [--status PATH] [--nice N]\n"
	      "       kvm_guest_test --bench N [--cpu C]\n"
	      "       kvm_guest_test --empty-vms N [--hold SECONDS]\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct { const char *name; int *val; long min, max; } params[] = {
		{ "value", &opt.value, 0, 255 },
		{ "vcpus", &opt.vcpus, 1, MAX_VCPUS },
		{ "cpu", &opt.cpu, 0, CPU_SETSIZE - 1 },
		{ "hold", &opt.hold, 0, 86400 },
		{ "repeat", &opt.repeat, 1, 1000000 },
		{ "loop", &opt.loop, 0, 86400 },
		{ "nice", &opt.nice, 0, 19 },
		{ "bench", &opt.bench, 2, 10000000 },
		{ "empty-vms", &opt.empty_vms, 1, 1000 },
	};
	static const struct { const char *name; const char **val; } strings[] = {
		{ "stop-file", &opt.stop_file },
		{ "status", &opt.status_file },
	};
	struct option longopts[ARRAY_SIZE(params) + ARRAY_SIZE(strings) + 1] = { };
	struct sigaction sa = { .sa_handler = on_stop_signal };
	struct vcpu vcpus[MAX_VCPUS];
	int c, kvm, version, i, round;
	char why[128], *end;
	long val;

	for (i = 0; i < (int)ARRAY_SIZE(params); i++)
		longopts[i] = (struct option){ params[i].name, required_argument, NULL, i };
	for (i = 0; i < (int)ARRAY_SIZE(strings); i++)
		longopts[ARRAY_SIZE(params) + i] =
			(struct option){ strings[i].name, required_argument, NULL,
					 ARRAY_SIZE(params) + i };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c >= (int)ARRAY_SIZE(params) &&
		    c < (int)(ARRAY_SIZE(params) + ARRAY_SIZE(strings))) {
			*strings[c - ARRAY_SIZE(params)].val = optarg;
			continue;
		}
		if (c < 0 || c >= (int)ARRAY_SIZE(params))
			print_usage();
		errno = 0;
		val = strtol(optarg, &end, 0);
		if (errno || *end || end == optarg || val < params[c].min || val > params[c].max) {
			fprintf(stderr, "kvm_guest_test: --%s wants a number in [%ld, %ld]\n",
				params[c].name, params[c].min, params[c].max);
			return 2;
		}
		*params[c].val = val;
	}
	if (optind != argc)
		print_usage();
	if (opt.bench && (opt.loop >= 0 || opt.vcpus > 1)) {
		fprintf(stderr, "kvm_guest_test: --bench goes without --loop, with one vCPU\n");
		return 2;
	}
	if (opt.loop < 0 && (opt.stop_file || opt.status_file)) {
		fprintf(stderr, "kvm_guest_test: --stop-file and --status go with --loop\n");
		return 2;
	}
	if (opt.loop >= 0) {
		/* No SA_RESTART: a signal ends KVM_RUN with EINTR. */
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sa.sa_handler = on_kick;
		sigaction(SIGUSR1, &sa, NULL);
	}
	/* Before the vCPU threads, which inherit it; -1 is also a nice value. */
	errno = 0;
	if (opt.nice && nice(opt.nice) == -1 && errno) {
		perror("kvm_guest_test: nice");
		return 2;
	}
	if (opt.value + opt.vcpus - 1 > 255) {
		fprintf(stderr, "kvm_guest_test: --value + --vcpus - 1 must fit in a byte\n");
		return 2;
	}

	kvm = open(KVM_DEV, O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		c = errno;
		snprintf(why, sizeof(why), "%s%s", strerror(c),
			 c == ENOENT ? " (is kvm_intel or kvm_amd loaded?)" : "");
		report(why, "open " KVM_DEV);
		return 1;
	}
	report(NULL, "open " KVM_DEV);
	version = ioctl(kvm, KVM_GET_API_VERSION, 0);
	snprintf(why, sizeof(why), "%s", version < 0 ? strerror(errno) : "");
	if (version >= 0 && version != KVM_API_VERSION)
		snprintf(why, sizeof(why), "got %d", version);
	report(why[0] ? why : NULL, "KVM_GET_API_VERSION is %d", KVM_API_VERSION);
	if (why[0])
		return 1;
	if (opt.empty_vms) {
		for (i = 0; i < opt.empty_vms && ioctl(kvm, KVM_CREATE_VM, 0) >= 0; i++)
			;
		report(i < opt.empty_vms ? strerror(errno) : NULL,
		       "%d empty VMs made, held %d s", i, opt.hold);
		sleep(opt.hold);
		return failures ? 1 : 0;
	}

	for (round = 1; round <= opt.repeat; round++) {
		if (opt.repeat > 1)
			snprintf(round_tag, sizeof(round_tag), "round %d: ", round);
		run_vm(kvm, vcpus);
	}
	close(kvm);

	if (opt.loop >= 0) {
		for (i = 0; i < opt.vcpus; i++)
			if (!vcpus[i].loop.exits)
				failures++;	/* reported by its thread, or never started */
		printf("# %d checks, %d failed\n", checks, failures);
		return failures ? 1 : 0;
	}
	printf("# exit reasons (last round):");
	for (i = 0; i < opt.vcpus; i++) {
		printf(" vcpu%d=", i);
		for (c = 0; c < vcpus[i].nr_exits; c++)
			printf("%s%s", c ? "," : "", exit_name(vcpus[i].exits[c]));
		if (!vcpus[i].nr_exits)
			printf("none");
	}
	printf("\n# %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
