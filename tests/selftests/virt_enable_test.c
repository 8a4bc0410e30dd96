// SPDX-License-Identifier: GPL-2.0
/*
 * kselftests for virt_enable, driving the module only through its debugfs
 * files, as its users' tools would.  Run as root with the module loaded and
 * no users: each test leaves it that way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#define VE_DIR		"/sys/kernel/debug/virt_enable"
#define VE_STATE	VE_DIR "/state"
#define VE_CONTROL	VE_DIR "/control"
#define VE_MAX_CPUS	64
#define VE_MAX_USERS	32
#define VE_TEST_CPU	1

struct ve_cpu_line {
	unsigned long online, hw, system, local, enables, disables, emergencies,
		      disable_failures, window_failures;
};

struct ve_user_line {
	char name[32];
	unsigned int system, permanent;
	char percpu[128];
	char windows[128];	/* its "windows" line's CPU:N list */
	bool has_windows;	/* that line was there */
};

struct ve_state {
	char feature[8];
	char switcher[64];	/* virt_enable, or the KVM module it rides */
	int held_vm;
	unsigned int users, system_users;
	int nr_cpus;
	struct ve_cpu_line cpu[VE_MAX_CPUS];
	int nr_user_lines;
	struct ve_user_line user[VE_MAX_USERS];
	unsigned long broadcasts, rollbacks, refused_puts, busy, vetoed_suspends,
		      resume_failures;
};

static int ve_read_file(const char *path, char *buf, size_t size)
{
	ssize_t len, total = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -errno;
	while ((len = read(fd, buf + total, size - 1 - total)) > 0)
		total += len;
	close(fd);
	if (len < 0)
		return -errno;
	buf[total] = '\0';
	return total;
}

/* Read "KEY VALUE" pairs, with exactly @keys in that order, to the end of @s. */
static int ve_scan_pairs(const char *s, const char *const keys[], unsigned long *values[])
{
	char key[32];
	int i, used;

	for (i = 0; keys[i]; i++) {
		if (sscanf(s, " %31s %lu%n", key, values[i], &used) != 2 ||
		    strcmp(key, keys[i]))
			return -1;
		s += used;
	}
	return *s ? -1 : 0;
}

static int ve_parse_cpu(const char *line, struct ve_state *st)
{
	static const char *const keys[] = {
		"online", "hw", "system", "local", "enables", "disables",
		"emergencies", "disable_failures", "window_failures", NULL
	};
	struct ve_cpu_line *c;
	int cpu, used;

	if (sscanf(line, "cpu %d%n", &cpu, &used) != 1 || cpu != st->nr_cpus ||
	    cpu >= VE_MAX_CPUS)
		return -1;
	c = &st->cpu[st->nr_cpus++];
	return ve_scan_pairs(line + used, keys, (unsigned long *[]) {
		&c->online, &c->hw, &c->system, &c->local, &c->enables,
		&c->disables, &c->emergencies, &c->disable_failures,
		&c->window_failures });
}

static int ve_parse_counters(const char *line, struct ve_state *st)
{
	static const char *const keys[] = {
		"broadcasts", "rollbacks", "refused_puts", "busy",
		"vetoed_suspends", "resume_failures", NULL
	};

	return ve_scan_pairs(line + strlen("counters"), keys, (unsigned long *[]) {
		&st->broadcasts, &st->rollbacks, &st->refused_puts, &st->busy,
		&st->vetoed_suspends, &st->resume_failures });
}

static int ve_parse_user(const char *line, struct ve_state *st)
{
	struct ve_user_line *u;
	int used = 0;

	if (st->nr_user_lines == VE_MAX_USERS)
		return -1;
	u = &st->user[st->nr_user_lines++];
	if (sscanf(line, "user \"%31[^\"]\" system %u permanent %u percpu%n",
		   u->name, &u->system, &u->permanent, &used) != 3 || !used)
		return -1;
	snprintf(u->percpu, sizeof(u->percpu), "%s", line + used);
	return 0;
}

/* "windows "NAME"[ CPU:N...]": once, right after the line of user NAME. */
static int ve_parse_windows(const char *line, struct ve_state *st)
{
	struct ve_user_line *u;
	const char *list, *s;
	unsigned long n;
	int used = 0, cpu;
	char name[32];

	if (!st->nr_user_lines)
		return -1;
	u = &st->user[st->nr_user_lines - 1];
	if (u->has_windows)
		return -1;
	if (sscanf(line, "windows \"%31[^\"]\"%n", name, &used) != 1 || !used ||
	    strcmp(name, u->name))
		return -1;
	list = line + used;
	/* Each pair: a space, a CPU, a count of at least one. */
	for (s = list; *s; s += used)
		if (*s != ' ' || sscanf(s, " %d:%lu%n", &cpu, &n, &used) != 2 ||
		    cpu < 0 || cpu >= VE_MAX_CPUS || !n)
			return -1;
	snprintf(u->windows, sizeof(u->windows), "%s", list);
	u->has_windows = true;
	return 0;
}

/* Parse the state file; 0, or -1 on any line it does not understand. */
static int ve_parse_state(const char *text, struct ve_state *st)
{
	char *copy = strdup(text), *line, *save;
	char hook[16], tdx[16];
	unsigned int regions;
	int r = 0, shutting, i;

	memset(st, 0, sizeof(*st));
	for (line = strtok_r(copy, "\n", &save); line && !r;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "feature %7s", st->feature) == 1 ||
		    sscanf(line, "switcher %63s", st->switcher) == 1 ||
		    sscanf(line, "held_vm %d", &st->held_vm) == 1 ||
		    sscanf(line, "users %u", &st->users) == 1 ||
		    sscanf(line, "system_users %u", &st->system_users) == 1 ||
		    sscanf(line, "emergency_hook %15s", hook) == 1 ||
		    sscanf(line, "shutting_down %d", &shutting) == 1 ||
		    sscanf(line, "vmxon_regions %u", &regions) == 1 ||
		    sscanf(line, "tdx %15s", tdx) == 1)
			continue;
		if (!strncmp(line, "cpu ", 4))
			r = ve_parse_cpu(line, st);
		else if (!strncmp(line, "user ", 5))
			r = ve_parse_user(line, st);
		else if (!strncmp(line, "windows ", 8))
			r = ve_parse_windows(line, st);
		else if (!strncmp(line, "counters ", 9))
			r = ve_parse_counters(line, st);
		else
			r = -1;
	}
	free(copy);
	/* Every user has its windows line. */
	for (i = 0; i < st->nr_user_lines && !r; i++)
		if (!st->user[i].has_windows)
			r = -1;
	return r;
}

static int ve_state(struct ve_state *st)
{
	static char buf[16384];

	if (ve_read_file(VE_STATE, buf, sizeof(buf)) < 0)
		return -1;
	return ve_parse_state(buf, st);
}

/* Write one command; 0 or -errno. */
static int ve_cmd(int fd, const char *cmd, size_t len)
{
	ssize_t r = write(fd, cmd, len);

	if (r < 0)
		return -errno;
	return r == (ssize_t)len ? 0 : -EIO;
}

static int ve_cmdf(int fd, const char *fmt, ...)
{
	char cmd[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return ve_cmd(fd, cmd, strlen(cmd));
}

static bool ve_cpu_online(int cpu)
{
	char path[64], buf[8];

	if (cpu == 0)
		return true;
	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online", cpu);
	return ve_read_file(path, buf, sizeof(buf)) > 0 && buf[0] == '1';
}

static int ve_set_online(int cpu, bool online)
{
	char path[64];
	int fd, r;

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online", cpu);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	r = ve_cmd(fd, online ? "1" : "0", 1);
	close(fd);
	return r;
}

/* Every online CPU's hw flag is @hw, every offline one's is 0. */
static bool ve_all_hw(const struct ve_state *st, int hw)
{
	int cpu;

	for (cpu = 0; cpu < st->nr_cpus; cpu++)
		if (st->cpu[cpu].hw != (st->cpu[cpu].online ? hw : 0))
			return false;
	return true;
}

/* Users whose name starts with @prefix ("debugfs:pid N #"). */
static int ve_count_users(const struct ve_state *st, const char *prefix)
{
	int i, n = 0;

	for (i = 0; i < st->nr_user_lines; i++)
		n += !strncmp(st->user[i].name, prefix, strlen(prefix));
	return n;
}

FIXTURE(ve) {
	char feature[8];	/* what the CPU offers */
	char other[8];		/* what it does not */
	char name[32];		/* our users' names start so */
	int nr_cpus;
};

FIXTURE_SETUP(ve)
{
	struct ve_state st;
	char cpuinfo[1 << 16];

	ASSERT_GT(ve_read_file("/proc/cpuinfo", cpuinfo, sizeof(cpuinfo)), 0);
	snprintf(self->feature, sizeof(self->feature), "%s",
		 strstr(cpuinfo, " vmx") ? "vmx" : "svm");
	snprintf(self->other, sizeof(self->other), "%s",
		 strcmp(self->feature, "vmx") ? "vmx" : "svm");
	snprintf(self->name, sizeof(self->name), "debugfs:pid %d #", getpid());

	ASSERT_EQ(ve_state(&st), 0) TH_LOG("cannot read %s", VE_STATE);
	ASSERT_EQ(st.users, 0) TH_LOG("virt_enable has users already");
	self->nr_cpus = st.nr_cpus;
}

FIXTURE_TEARDOWN(ve)
{
	int cpu;

	for (cpu = 1; cpu < self->nr_cpus; cpu++)
		ve_set_online(cpu, true);
}

TEST_F(ve, state_matches_requests)
{
	struct ve_state st, before;
	char want[16], line[256];
	int a, b, cpu;
	ssize_t len;

	ASSERT_EQ(ve_state(&st), 0);
	EXPECT_STREQ(st.feature, self->feature);
	/* No unmodified KVM loaded here: virt_enable switches itself. */
	EXPECT_STREQ(st.switcher, "virt_enable");
	EXPECT_EQ(st.held_vm, 0);
	EXPECT_EQ(st.nr_cpus, sysconf(_SC_NPROCESSORS_CONF));
	for (cpu = 0; cpu < st.nr_cpus; cpu++)
		EXPECT_EQ(st.cpu[cpu].online, ve_cpu_online(cpu));
	EXPECT_TRUE(ve_all_hw(&st, 0));
	EXPECT_EQ(st.system_users, 0);
	before = st;

	a = open(VE_CONTROL, O_RDWR);
	b = open(VE_CONTROL, O_RDWR);
	ASSERT_GE(a, 0);
	ASSERT_GE(b, 0);
	ASSERT_EQ(ve_cmdf(a, "get %s", self->feature), 0);
	ASSERT_EQ(ve_cmdf(b, "get-cpu %s 0", self->feature), 0);
	ASSERT_EQ(ve_cmdf(b, "get-cpu %s 0", self->feature), 0);

	ASSERT_EQ(ve_state(&st), 0);
	EXPECT_EQ(st.users, 2);
	EXPECT_EQ(st.system_users, 1);
	EXPECT_EQ(st.nr_user_lines, 2);
	EXPECT_EQ(ve_count_users(&st, self->name), 2);
	/* One process, two files: two users, told apart by name. */
	EXPECT_STRNE(st.user[0].name, st.user[1].name);
	EXPECT_TRUE(ve_all_hw(&st, 1));
	EXPECT_EQ(st.cpu[0].local, 2);
	/* One enable per online CPU, whatever the counters said before. */
	for (cpu = 0; cpu < st.nr_cpus; cpu++) {
		EXPECT_EQ(st.cpu[cpu].system, st.cpu[cpu].online);
		EXPECT_EQ(st.cpu[cpu].enables - before.cpu[cpu].enables,
			  st.cpu[cpu].online);
	}
	EXPECT_EQ(st.broadcasts - before.broadcasts, 1);
	EXPECT_EQ(st.user[0].system, 1);
	EXPECT_STREQ(st.user[0].percpu, "");
	EXPECT_EQ(st.user[1].system, 0);
	snprintf(want, sizeof(want), " 0:2");
	EXPECT_STREQ(st.user[1].percpu, want);
	/* debugfs users open no windows, and nothing else did meanwhile. */
	EXPECT_STREQ(st.user[0].windows, "");
	EXPECT_STREQ(st.user[1].windows, "");
	for (cpu = 0; cpu < st.nr_cpus; cpu++)
		EXPECT_EQ(st.cpu[cpu].window_failures, before.cpu[cpu].window_failures);

	/* The control file shows its own user's line. */
	len = read(b, line, sizeof(line) - 1);
	ASSERT_GT(len, 0);
	line[len] = '\0';
	EXPECT_EQ(strncmp(line, "user \"debugfs:pid ", 18), 0);
	EXPECT_NE(strstr(line, "percpu 0:2"), NULL);
	close(a);
	close(b);
}

TEST_F(ve, get_put_permanent_and_close)
{
	struct ve_state st;
	int fd = open(VE_CONTROL, O_RDWR);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(ve_cmdf(fd, "get %s", self->feature), 0);
	ASSERT_EQ(ve_cmdf(fd, "get %s", self->feature), 0);
	ASSERT_EQ(ve_state(&st), 0);
	EXPECT_EQ(st.user[0].system, 2);
	EXPECT_TRUE(ve_all_hw(&st, 1));

	ASSERT_EQ(ve_cmdf(fd, "put %s", self->feature), 0);
	ASSERT_EQ(ve_state(&st), 0);
	EXPECT_TRUE(ve_all_hw(&st, 1));
	ASSERT_EQ(ve_cmdf(fd, "put %s", self->feature), 0);
	ASSERT_EQ(ve_state(&st), 0);
	EXPECT_TRUE(ve_all_hw(&st, 0));
	EXPECT_EQ(ve_cmdf(fd, "put %s", self->feature), -EINVAL);

	ASSERT_EQ(ve_cmdf(fd, "get-permanent %s", self->feature), 0);
	EXPECT_EQ(ve_cmdf(fd, "put %s", self->feature), -EPERM);
	ASSERT_EQ(ve_state(&st), 0);
	EXPECT_EQ(st.user[0].permanent, 1);
	EXPECT_TRUE(ve_all_hw(&st, 1));

	/* Closing the file ends everything it held, permanent included. */
	close(fd);
	ASSERT_EQ(ve_state(&st), 0);
	EXPECT_EQ(st.users, 0);
	EXPECT_TRUE(ve_all_hw(&st, 0));
}

TEST_F(ve, reference_dies_with_its_holder)
{
	struct ve_state st;
	int ready[2], fd;
	char name[32], c;
	pid_t child;

	ASSERT_EQ(pipe(ready), 0);
	child = fork();
	ASSERT_GE(child, 0);
	if (child == 0) {
		fd = open(VE_CONTROL, O_RDWR);
		if (fd < 0 || ve_cmdf(fd, "get %s", self->feature))
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	ASSERT_EQ(read(ready[0], &c, 1), 1);
	close(ready[0]);

	snprintf(name, sizeof(name), "debugfs:pid %d #", child);
	ASSERT_EQ(ve_state(&st), 0);
	EXPECT_EQ(ve_count_users(&st, name), 1);
	EXPECT_TRUE(ve_all_hw(&st, 1));

	ASSERT_EQ(kill(child, SIGKILL), 0);
	ASSERT_EQ(waitpid(child, NULL, 0), child);
	ASSERT_EQ(ve_state(&st), 0);
	EXPECT_EQ(st.users, 0);
	EXPECT_TRUE(ve_all_hw(&st, 0));
}

TEST_F(ve, concurrent_holders)
{
	enum { HOLDERS = 8, ROUNDS = 25 };
	struct ve_state st;
	pid_t pids[HOLDERS];
	int i, status;

	for (i = 0; i < HOLDERS; i++) {
		pids[i] = fork();
		ASSERT_GE(pids[i], 0);
		if (pids[i] == 0) {
			int round, fd, err = 0;

			for (round = 0; round < ROUNDS && !err; round++) {
				fd = open(VE_CONTROL, O_RDWR);
				err = fd < 0 || ve_cmdf(fd, "get %s", self->feature);
				if (!err && (i + round) % 2) {
					int r = ve_cmdf(fd, "get-cpu %s %d", self->feature,
							round % self->nr_cpus);

					err = r && r != -ENODEV;
				}
				usleep((i * 7 + round) % 5 * 100);
				/* Half put explicitly, half just close. */
				if (!err && round % 2)
					err = ve_cmdf(fd, "put %s", self->feature);
				if (fd >= 0)
					close(fd);
			}
			_exit(err);
		}
	}
	for (i = 0; i < HOLDERS; i++) {
		ASSERT_EQ(waitpid(pids[i], &status, 0), pids[i]);
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ASSERT_EQ(ve_state(&st), 0);
	EXPECT_EQ(st.users, 0);
	EXPECT_EQ(st.system_users, 0);
	EXPECT_TRUE(ve_all_hw(&st, 0));
	for (i = 0; i < st.nr_cpus; i++) {
		EXPECT_EQ(st.cpu[i].local, 0);
		EXPECT_EQ(st.cpu[i].enables, st.cpu[i].disables);
	}
}

struct ve_bad_write {
	const char *what;
	const char *cmd;	/* %F: our feature, %O: the other one */
	size_t len;		/* 0: strlen after expansion */
	int error;
};

#define BAD(what, cmd)	{ what, cmd, 0, -EINVAL }
#define BAD_BYTES(what, cmd) { what, cmd, sizeof(cmd) - 1, -EINVAL }

static const struct ve_bad_write ve_bad_writes[] = {
	BAD_BYTES("empty", ""),
	BAD("only a newline", "\n"),
	BAD("only a space", " "),
	BAD("verb alone", "get"),
	BAD("verb alone with newline", "get\n"),
	BAD("verb and a space", "get "),
	BAD("leading space", " get %F"),
	BAD("double space", "get  %F"),
	BAD("trailing space", "get %F "),
	BAD("two newlines", "get %F\n\n"),
	BAD("tab separator", "get\t%F"),
	BAD("trailing tab", "get %F\t"),
	BAD("upper-case verb", "GET %F"),
	BAD("upper-case feature", "get VMX"),
	BAD("unknown feature", "get foo"),
	BAD("feature with suffix", "get %F1"),
	BAD("unknown verb", "frobnicate %F"),
	BAD("no put-permanent", "put-permanent %F"),
	BAD("system get with a CPU", "get %F 0"),
	BAD("permanent get with a CPU", "get-permanent %F 0"),
	BAD("per-CPU get without a CPU", "get-cpu %F"),
	BAD("per-CPU put without a CPU", "put-cpu %F"),
	BAD("per-CPU get with two CPUs", "get-cpu %F 0 0"),
	BAD("negative CPU", "get-cpu %F -1"),
	BAD("plus sign", "get-cpu %F +1"),
	BAD("hex CPU", "get-cpu %F 0x1"),
	BAD("CPU with garbage", "get-cpu %F 1a"),
	BAD("CPU beyond 32 bits", "get-cpu %F 4294967296"),
	BAD("huge CPU", "get-cpu %F 99999999999999999999"),
	BAD("non-existent CPU", "get-cpu %F 4096"),
	BAD("two commands", "get %F\nput %F"),
	BAD("newline inside", "get\n%F"),
	BAD_BYTES("embedded NUL", "get\0vmx"),
	BAD_BYTES("trailing NUL", "get vmx\0"),
	BAD_BYTES("binary bytes", "\xff\xfe\x01\x80"),
	BAD_BYTES("UTF-8 feature", "get v\xc3\xa9x"),
	{ "wrong feature", "get %O", 0, -EOPNOTSUPP },
	{ "put never got", "put %F", 0, -EINVAL },
	{ "per-CPU put never got", "put-cpu %F 0", 0, -EINVAL },
};

static size_t ve_expand(const struct ve_bad_write *bad, const char *feature,
			const char *other, char *out, size_t size)
{
	const char *in = bad->cmd;
	size_t n = 0, len = bad->len ? bad->len : strlen(in);
	size_t i;

	for (i = 0; i < len && n < size - 8; i++) {
		if (in[i] == '%' && (in[i + 1] == 'F' || in[i + 1] == 'O')) {
			const char *f = in[i + 1] == 'F' ? feature : other;

			memcpy(out + n, f, 3);
			n += 3;
			i++;
		} else {
			out[n++] = in[i];
		}
	}
	return n;
}

TEST_F(ve, malformed_writes_change_nothing)
{
	static char before[16384], after[16384];
	char cmd[256], overlong[4097];
	size_t i, len;
	int fd = open(VE_CONTROL, O_RDWR);

	ASSERT_GE(fd, 0);
	for (i = 0; i < ARRAY_SIZE(ve_bad_writes); i++) {
		const struct ve_bad_write *bad = &ve_bad_writes[i];

		len = ve_expand(bad, self->feature, self->other, cmd, sizeof(cmd));
		ASSERT_GT(ve_read_file(VE_STATE, before, sizeof(before)), 0);
		EXPECT_EQ(ve_cmd(fd, cmd, len), bad->error) TH_LOG("%s", bad->what);
		ASSERT_GT(ve_read_file(VE_STATE, after, sizeof(after)), 0);
		EXPECT_STREQ(before, after) TH_LOG("%s changed the state", bad->what);
	}

	/* 65 characters of an otherwise good command, then a page of them. */
	for (len = 65; len <= sizeof(overlong); len += sizeof(overlong) - 65) {
		memset(overlong, '0', len);
		memcpy(overlong, "put-cpu xxx ", 12);
		memcpy(overlong + 8, self->feature, 3);
		ASSERT_GT(ve_read_file(VE_STATE, before, sizeof(before)), 0);
		EXPECT_EQ(ve_cmd(fd, overlong, len), -EINVAL) TH_LOG("%zu bytes", len);
		ASSERT_GT(ve_read_file(VE_STATE, after, sizeof(after)), 0);
		EXPECT_STREQ(before, after);
	}

	/* 64 characters is the limit, not beyond it: CPU 0 with leading zeros. */
	memset(overlong, '0', 64);
	memcpy(overlong, "get-cpu xxx ", 12);
	memcpy(overlong + 8, self->feature, 3);
	EXPECT_EQ(ve_cmd(fd, overlong, 64), 0);
	EXPECT_EQ(ve_cmdf(fd, "put-cpu %s 0", self->feature), 0);

	/* The same file still works: nothing was half done. */
	EXPECT_EQ(ve_cmdf(fd, "get %s", self->feature), 0);
	close(fd);
}

TEST_F(ve, offline_cpu_refused)
{
	static char before[16384], after[16384];
	struct ve_state st;
	int fd;

	if (self->nr_cpus <= VE_TEST_CPU)
		SKIP(return, "needs CPU %d", VE_TEST_CPU);
	fd = open(VE_CONTROL, O_RDWR);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(ve_set_online(VE_TEST_CPU, false), 0);
	ASSERT_GT(ve_read_file(VE_STATE, before, sizeof(before)), 0);
	EXPECT_EQ(ve_cmdf(fd, "get-cpu %s %d", self->feature, VE_TEST_CPU), -ENODEV);
	EXPECT_EQ(ve_cmdf(fd, "put-cpu %s %d", self->feature, VE_TEST_CPU), -ENODEV);
	ASSERT_GT(ve_read_file(VE_STATE, after, sizeof(after)), 0);
	EXPECT_STREQ(before, after);
	ASSERT_EQ(ve_set_online(VE_TEST_CPU, true), 0);
	ASSERT_EQ(ve_state(&st), 0);
	EXPECT_EQ(st.users, 0);
	close(fd);
}

static int ve_drop_cap_sys_admin(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
	data[CAP_TO_INDEX(CAP_SYS_ADMIN)].permitted &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
	return syscall(SYS_capset, &hdr, data);
}

/* In a child: 0 if @path cannot be opened with @flags, with errno in @errs. */
static int ve_denied(const char *path, int flags, int err1, int err2)
{
	int fd = open(path, flags);

	if (fd >= 0)
		return 1;
	return errno == err1 || errno == err2 ? 0 : 2;
}

TEST_F(ve, unprivileged_denied)
{
	struct stat debugfs;
	int status;
	pid_t child;

	/*
	 * An ordinary user: stopped by the files' own modes.  debugfs' root
	 * is 0700, which would stop it first: open it up for the test, and
	 * check that the directory itself lets it through.
	 */
	ASSERT_EQ(stat("/sys/kernel/debug", &debugfs), 0);
	ASSERT_EQ(chmod("/sys/kernel/debug", 0755), 0);
	child = fork();
	ASSERT_GE(child, 0);
	if (child == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(3);
		if (access(VE_DIR, X_OK))
			_exit(4);
		_exit(ve_denied(VE_STATE, O_RDONLY, EACCES, EACCES) ||
		      ve_denied(VE_CONTROL, O_WRONLY, EACCES, EACCES) ||
		      ve_denied(VE_CONTROL, O_RDONLY, EACCES, EACCES));
	}
	ASSERT_EQ(waitpid(child, &status, 0), child);
	chmod("/sys/kernel/debug", debugfs.st_mode & 07777);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("nobody: exit status %d", WEXITSTATUS(status));

	/* Root without CAP_SYS_ADMIN: stopped by the module itself. */
	child = fork();
	ASSERT_GE(child, 0);
	if (child == 0) {
		if (ve_drop_cap_sys_admin())
			_exit(3);
		_exit(ve_denied(VE_STATE, O_RDONLY, EPERM, EPERM) ||
		      ve_denied(VE_CONTROL, O_RDWR, EPERM, EPERM));
	}
	ASSERT_EQ(waitpid(child, &status, 0), child);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_F(ve, hotplug_while_held)
{
	struct ve_state st;
	unsigned long enables;
	int fd;

	if (self->nr_cpus <= VE_TEST_CPU)
		SKIP(return, "needs CPU %d", VE_TEST_CPU);
	fd = open(VE_CONTROL, O_RDWR);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(ve_cmdf(fd, "get %s", self->feature), 0);
	ASSERT_EQ(ve_state(&st), 0);
	enables = st.cpu[VE_TEST_CPU].enables;

	ASSERT_EQ(ve_set_online(VE_TEST_CPU, false), 0);
	ASSERT_EQ(ve_state(&st), 0);
	EXPECT_EQ(st.cpu[VE_TEST_CPU].online, 0);
	EXPECT_EQ(st.cpu[VE_TEST_CPU].hw, 0);
	EXPECT_TRUE(ve_all_hw(&st, 1));

	ASSERT_EQ(ve_set_online(VE_TEST_CPU, true), 0);
	ASSERT_EQ(ve_state(&st), 0);
	EXPECT_EQ(st.cpu[VE_TEST_CPU].online, 1);
	EXPECT_EQ(st.cpu[VE_TEST_CPU].hw, 1);
	EXPECT_EQ(st.cpu[VE_TEST_CPU].enables, enables + 1);

	/* A per-CPU reference on a CPU that goes away and comes back. */
	ASSERT_EQ(ve_cmdf(fd, "put %s", self->feature), 0);
	ASSERT_EQ(ve_cmdf(fd, "get-cpu %s %d", self->feature, VE_TEST_CPU), 0);
	ASSERT_EQ(ve_set_online(VE_TEST_CPU, false), 0);
	ASSERT_EQ(ve_set_online(VE_TEST_CPU, true), 0);
	ASSERT_EQ(ve_state(&st), 0);
	EXPECT_EQ(st.cpu[VE_TEST_CPU].hw, 1);
	EXPECT_EQ(st.cpu[0].hw, 0);
	close(fd);
	ASSERT_EQ(ve_state(&st), 0);
	EXPECT_TRUE(ve_all_hw(&st, 0));
}

TEST_HARNESS_MAIN
