// SPDX-License-Identifier: MIT
/*
 * Syscall tracepoints in this process: the event table and ids
 * (src/systp), then systp.bpf.c and systp_raw.bpf.c loaded with libbpf
 * through the bpf() emulation, attached by each path libbpf has (no
 * registry: the hooks go into this process), counting known system calls
 * made here, exactly, on entry and exit; detaching stops the counting. The
 * same again as user nobody, who cannot read tracefs: libbpf's id lookup
 * is served uebpf's own ids.
 *
 * usage: test_systp_inproc SYSTP_OBJ SYSTP_RAW_OBJ
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "child.h"
#include "syscall/syscall.h"
#include "systp/systp.h"
#include "tp_id.h"

#define SKIP 77
#define NOBODY 65534

static const char *obj_path, *raw_path;

static void test_table(void)
{
	struct systp_event ev;
	char name[SYSTP_NAME_MAX];
	const char *names[] = {"read", "write", "getpid", "clone3", "exit_group"};
	const long nrs[] = {SYS_read, SYS_write, SYS_getpid, SYS_clone3, SYS_exit_group};

	for (size_t i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++) {
		EXPECT(systp_nr(names[i]) == nrs[i], "%s: %ld", names[i], systp_nr(names[i]));
		EXPECT(systp_name(nrs[i]) && !strcmp(systp_name(nrs[i]), names[i]), "%ld", nrs[i]);
	}
	EXPECT(systp_nr("no_such_call") == -ENOENT, "unknown name");
	EXPECT(!systp_name(100000), "unknown number");
	EXPECT_RET(systp_event_parse("syscalls", "sys_exit_getpid", &ev), 0);
	EXPECT(ev.exit && ev.nr == SYS_getpid, "sys_exit_getpid");
	systp_event_name(&ev, name);
	EXPECT(!strcmp(name, "syscalls/sys_exit_getpid"), "%s", name);
	EXPECT_RET(systp_event_parse("raw_syscalls", "sys_enter", &ev), 0);
	EXPECT(!ev.exit && ev.nr == SYSTP_ANY, "raw_syscalls/sys_enter");
	systp_event_name(&ev, name);
	EXPECT(!strcmp(name, "raw_syscalls/sys_enter"), "%s", name);
	EXPECT_RET(systp_event_parse("syscalls", "sys_enter_nothing", &ev), -ENOENT);
	EXPECT_RET(systp_event_parse("sched", "sched_switch", &ev), -ENOENT);
	EXPECT_RET(systp_event_parse("raw_syscalls", "sys_enter_read", &ev), -ENOENT);

	/* every event's own id is below 65536 (common_type) and names it again */
	for (long nr = 0; nr < 1024; nr++) {
		for (int exit = 0; exit < 2; exit++) {
			struct systp_event e = {.exit = exit, .nr = nr}, back;
			uint32_t id = systp_own_id(&e);

			if (!systp_name(nr))
				continue;
			EXPECT(id < 65536 && !systp_event_of_id(id, &back) && back.nr == nr &&
				       back.exit == exit,
			       "own id %u of %ld/%d", id, nr, exit);
		}
	}
}

/* The kernel's ids, when tracefs can be read, name the same events. */
static void test_kernel_ids(void)
{
	struct systp_event ev;
	FILE *f = fopen("/sys/kernel/tracing/events/syscalls/sys_exit_write/id", "re");
	unsigned id;

	if (!f || fscanf(f, "%u", &id) != 1 || id >= 0xe000) {
		printf("kernel ids: skipped (tracefs cannot be read here)\n");
		if (f)
			fclose(f);
		return;
	}
	fclose(f);
	EXPECT(!systp_event_of_id(id, &ev) && ev.exit && ev.nr == SYS_write, "kernel id %u", id);
	f = fopen("/sys/kernel/tracing/events/raw_syscalls/sys_enter/id", "re");
	EXPECT(f && fscanf(f, "%u", &id) == 1, "raw_syscalls id");
	if (f)
		fclose(f);
	EXPECT(!systp_event_of_id(id, &ev) && !ev.exit && ev.nr == SYSTP_ANY, "kernel id %u", id);
	EXPECT(systp_event_of_id(1, &ev) == -ENOENT, "id 1 is no syscall event");
}

static void work(int getpids, int writes, int reads)
{
	int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int zero_fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	char buf[16] = "written";

	for (int i = 0; i < getpids; i++)
		syscall(SYS_getpid);
	for (int i = 0; i < writes; i++)
		syscall(SYS_write, null_fd, buf, 7);
	for (int i = 0; i < reads; i++)
		syscall(SYS_read, zero_fd, buf, 13);
	close(null_fd);
	close(zero_fd);
}

static long long lookup(struct bpf_object *obj, const char *map, unsigned key)
{
	unsigned long long v = 0;

	if (bpf_map_lookup_elem(bpf_object__find_map_fd_by_name(obj, map), &key, &v))
		return 0;
	return (long long)v;
}

#define MAX_PROGS 8

struct attached {
	struct bpf_link *links[MAX_PROGS];
	int fds[MAX_PROGS];
	int n;
};

/* By perf_event_open + ioctl, as older libbpf did, for the tracepoint sections. */
static int attach_ioctl(struct bpf_program *p)
{
	struct perf_event_attr attr = {.type = PERF_TYPE_TRACEPOINT, .size = sizeof(attr)};
	char category[64], name[64];
	int pfd;

	if (sscanf(bpf_program__section_name(p), "tracepoint/%63[^/]/%63s", category, name) != 2)
		return -EINVAL;
	attr.config = (unsigned)tracepoint_id(category, name);
	pfd = (int)syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0)
		return -errno;
	if (ioctl(pfd, PERF_EVENT_IOC_SET_BPF, bpf_program__fd(p)) ||
	    ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0)) {
		close(pfd);
		return -errno;
	}
	return pfd;
}

static bool attach_all(struct bpf_object *obj, bool ioctl_path, struct attached *a)
{
	struct bpf_program *p;

	memset(a, 0, sizeof(*a));
	bpf_object__for_each_program(p, obj)
	{
		if (a->n == MAX_PROGS)
			return false;
		a->fds[a->n] = -1;
		if (ioctl_path) {
			a->fds[a->n] = attach_ioctl(p);
			EXPECT(a->fds[a->n] >= 0, "%s: %s", bpf_program__name(p),
			       syscall_last_error());
			if (a->fds[a->n] < 0)
				return false;
		} else {
			a->links[a->n] = bpf_program__attach(p);
			EXPECT(a->links[a->n], "%s: %s", bpf_program__name(p),
			       syscall_last_error());
			if (!a->links[a->n])
				return false;
		}
		a->n++;
	}
	return true;
}

/* As libbpf detaches a perf event: disable, then close (the last close alone is lazy here). */
static void detach_all(struct attached *a)
{
	for (int i = 0; i < a->n; i++) {
		bpf_link__destroy(a->links[i]);
		if (a->fds[i] >= 0) {
			EXPECT(!ioctl(a->fds[i], PERF_EVENT_IOC_DISABLE, 0), "DISABLE: %s",
			       syscall_last_error());
			close(a->fds[i]);
		}
	}
}

struct counts {
	long long enter[3], exit[3], checks[8];
};

static const unsigned nrs[3] = {SYS_getpid, SYS_write, SYS_read};

/* Map lookups make no read, write or getpid: taking counts changes none. */
static void take(struct bpf_object *obj, struct counts *c)
{
	for (int i = 0; i < 3; i++) {
		c->enter[i] = lookup(obj, "enter_counts", nrs[i]);
		c->exit[i] = lookup(obj, "exit_counts", nrs[i]);
	}
	for (unsigned i = 0; i < 8; i++)
		c->checks[i] = lookup(obj, "checks", i);
}

/*
 * Load obj for this process, attach, do known work, check the counts. The
 * counts are taken around the work, since attaching (libbpf reading ids
 * from tracefs) makes system calls too.
 */
static void count_here(const char *path, bool ioctl_path, const char *what)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	const long long want[3] = {100, 50, 20};
	const long long checks[] = {50, 50, 20, 20, 100, 50, 0, 0};
	const long long raw_checks[] = {50, 100, 0};
	struct counts before, after, detached;
	struct bpf_map *m, *rodata = NULL;
	bool raw = path == raw_path;
	struct attached a;
	int pid = getpid();

	REQUIRE(obj, "%s: open %s", what, path);
	bpf_object__for_each_map(m, obj)
	{
		if (strstr(bpf_map__name(m), ".rodata"))
			rodata = m;
	}
	REQUIRE(rodata && !bpf_map__set_initial_value(rodata, &pid, sizeof(pid)), "%s", what);
	REQUIRE(!bpf_object__load(obj), "%s: load: %s", what, syscall_last_error());
	if (!attach_all(obj, ioctl_path, &a)) {
		detach_all(&a);
		bpf_object__close(obj);
		return;
	}
	take(obj, &before);
	work(100, 50, 20);
	take(obj, &after);
	detach_all(&a);
	work(10, 10, 10);
	take(obj, &detached);
	for (int i = 0; i < 3; i++) {
		long long in = after.enter[i] - before.enter[i],
			  out = after.exit[i] - before.exit[i];

		/* work() opens two files and closes them: no read, write or getpid */
		EXPECT(in == want[i] && out == want[i],
		       "%s: call %u: %lld entries, %lld exits, want %lld", what, nrs[i], in, out,
		       want[i]);
		/*
		 * libbpf ends a raw tracepoint by closing its fd, which without a
		 * registry takes effect at the object table's next collection only
		 */
		EXPECT(raw || (detached.enter[i] == after.enter[i] &&
			       detached.exit[i] == after.exit[i]),
		       "%s: call %u counted after detach", what, nrs[i]);
	}
	for (unsigned i = 0; i < (raw ? 3 : 8); i++) {
		long long got = after.checks[i] - before.checks[i];
		long long w = raw ? raw_checks[i] : checks[i];

		EXPECT(got == w, "%s: check %u: %lld, want %lld", what, i, got, w);
	}
	bpf_object__close(obj);
}

/* As nobody, in a child: tracefs unreadable, so the ids are uebpf's. */
static void test_unprivileged(void)
{
	char copy[] = "/tmp/uebpf-systp-XXXXXX";
	pid_t child;
	int status, fd;

	if (geteuid()) {
		printf("unprivileged: running as a user already\n");
		count_here(obj_path, false, "as user");
		return;
	}
	/* the build tree may lie in a 0700 directory (mktemp -d): nobody reads a copy */
	fd = mkstemp(copy);
	REQUIRE(fd >= 0, "mkstemp: %s", strerror(errno));
	close(fd);
	REQUIRE(!child_copy_file(obj_path, copy, 0644), "copy %s", obj_path);
	fflush(stdout);
	child = fork();
	if (child == 0) {
		if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY)) {
			printf("unprivileged: skipped (cannot become nobody: %s)\n",
			       strerror(errno));
			_exit(SKIP);
		}
		if (!access("/sys/kernel/tracing/events/syscalls/sys_enter_read/id", R_OK)) {
			printf("unprivileged: skipped (nobody can read tracefs here)\n");
			_exit(SKIP);
		}
		passed = failed = 0;
		count_here(copy, false, "nobody, links");
		count_here(copy, true, "nobody, ioctl");
		fflush(stdout);
		_exit(check_summary());
	}
	EXPECT(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
		       (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == SKIP),
	       "the unprivileged child failed (status 0x%x)", status);
	unlink(copy);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: test_systp_inproc SYSTP_OBJ SYSTP_RAW_OBJ\n");
		return 2;
	}
	obj_path = argv[1];
	raw_path = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);
	unsetenv("UEBPF_REGISTRY");
	test_table();
	test_kernel_ids();
	count_here(obj_path, false, "links");
	count_here(obj_path, true, "ioctl");
	count_here(raw_path, false, "raw");
	test_unprivileged();
	return check_summary();
}
