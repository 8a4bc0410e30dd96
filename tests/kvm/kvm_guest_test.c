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
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define KVM_DEV		"/dev/kvm"
#define MEM_SIZE	0x10000		/* one slot at guest physical 0 */
#define CODE_BASE	0x1000		/* vCPU i runs at CODE_BASE + i * 4K */
#define CODE_STRIDE	0x1000
#define MAX_VCPUS	(MEM_SIZE / CODE_STRIDE - 1)
#define OUT_PORT	0x10
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct vcpu {
	int index;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	unsigned char value;
	__u32 exits[2];		/* exit reasons of the two KVM_RUNs */
	int nr_exits;
};

static struct {
	int value, vcpus, cpu, hold, repeat;
} opt = { .value = 42, .vcpus = 1, .cpu = -1, .hold = 0, .repeat = 1 };

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

/* Create vCPU i, map its kvm_run and point it at its code page. */
static int setup_vcpu(int vm, int kvm, unsigned char *mem, struct vcpu *v)
{
	unsigned long code = CODE_BASE + v->index * CODE_STRIDE;
	const unsigned char insns[] = {
		0xb0, v->value,		/* mov $value, %al */
		0xe6, OUT_PORT,		/* out %al, $0x10 */
		0xf4,			/* hlt */
	};
	struct kvm_regs regs = { .rip = code, .rflags = 0x2 };	/* bit 1 must be set */
	struct kvm_sregs sregs;
	int size;

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
	pthread_t threads[MAX_VCPUS];
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
		ret = pthread_create(&threads[ready], NULL, vcpu_thread, &vcpus[ready]);
		if (ret) {
			report(strerror(ret), "vcpu%d: start thread", ready);
			break;
		}
	}
	for (i = 0; i < ready; i++)
		pthread_join(threads[i], NULL);
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
	      "                      [--repeat N]\n", stderr);
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
	};
	struct option longopts[ARRAY_SIZE(params) + 1] = { };
	struct vcpu vcpus[MAX_VCPUS];
	int c, kvm, version, i, round;
	char why[128], *end;
	long val;

	for (i = 0; i < (int)ARRAY_SIZE(params); i++)
		longopts[i] = (struct option){ params[i].name, required_argument, NULL, i };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
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

	for (round = 1; round <= opt.repeat; round++) {
		if (opt.repeat > 1)
			snprintf(round_tag, sizeof(round_tag), "round %d: ", round);
		run_vm(kvm, vcpus);
	}
	close(kvm);

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
