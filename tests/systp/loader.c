// SPDX-License-Identifier: MIT
/*
 * An unmodified libbpf loader of systp.bpf.c or systp_raw.bpf.c: plain it
 * uses the kernel's tracepoints; under `uebpf load` (the shim preloaded)
 * uebpf's. It starts TARGET stopped before exec (so the programs' pid
 * filter can be set before load), loads and attaches every program (the
 * first one last), lets the target exec (with PRELOAD as its LD_PRELOAD),
 * waits until the first program has counted the target's getppid calls (its
 * hooks run there), sends SIGUSR1 to start the known work, waits for the
 * target and prints what was counted meanwhile: the entries and exits of
 * read, write and getpid, and the checks.
 *
 * usage: loader OBJ MODE PRELOAD TARGET [ARGS...]
 * MODE: auto (bpf_program__attach), tp (bpf_program__attach_tracepoint,
 * _raw_tracepoint, _trace), link (perf_event_open + BPF_LINK_CREATE, or
 * BPF_RAW_TRACEPOINT_OPEN; the target's pid as the cookie), ioctl (perf_event_open +
 * PERF_EVENT_IOC_SET_BPF
 * + ENABLE), pid (as link, with the target's pid given to perf_event_open
 * and the programs' own filter off). PRELOAD: the target's LD_PRELOAD ("-":
 * the loader's environment as it is; "": none).
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "tp_id.h"

#define MAX_PROGS 16
#define MAX_CHECKS 16

static int fail(const char *what)
{
	fprintf(stderr, "loader: %s: %s\n", what, strerror(errno));
	return 1;
}

static pid_t child;

/* perf_event_open of a tracepoint, then the program attached by link or ioctl. */
static int attach_by_hand(struct bpf_program *p, const char *category, const char *name,
			  const char *mode, int *fds)
{
	bool link = strcmp(mode, "ioctl");
	struct perf_event_attr attr = {.type = PERF_TYPE_TRACEPOINT, .size = sizeof(attr)};
	int id = tracepoint_id(category, name), pfd;

	if (id < 0)
		return fail(name);
	attr.config = (unsigned)id;
	pfd = (int)syscall(__NR_perf_event_open, &attr, strcmp(mode, "pid") ? -1 : child,
			   strcmp(mode, "pid") ? 0 : -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0)
		return fail("perf_event_open");
	fds[0] = pfd;
	if (link) {
		LIBBPF_OPTS(bpf_link_create_opts, opts, .perf_event.bpf_cookie = (unsigned)child);

		fds[1] = bpf_link_create(bpf_program__fd(p), pfd, BPF_PERF_EVENT, &opts);
		return fds[1] < 0 ? fail("BPF_LINK_CREATE") : 0;
	}
	if (ioctl(pfd, PERF_EVENT_IOC_SET_BPF, bpf_program__fd(p)) ||
	    ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0))
		return fail("PERF_EVENT_IOC_SET_BPF/ENABLE");
	return 0;
}

static int attach(struct bpf_program *p, const char *mode, struct bpf_link **link, int *fds)
{
	const char *sec = bpf_program__section_name(p);
	char category[64], name[64];
	bool raw = !strncmp(sec, "raw_tp/", 7), btf = !strncmp(sec, "tp_btf/", 7);

	if (!strcmp(mode, "auto")) {
		*link = bpf_program__attach(p);
	} else if (raw || btf) {
		if (!strcmp(mode, "tp"))
			*link = raw ? bpf_program__attach_raw_tracepoint(p, sec + 7)
				    : bpf_program__attach_trace(p);
		else
			return (fds[0] = bpf_raw_tracepoint_open(raw ? sec + 7 : NULL,
								 bpf_program__fd(p))) < 0
				       ? fail("BPF_RAW_TRACEPOINT_OPEN")
				       : 0;
	} else {
		if (sscanf(sec, "tracepoint/%63[^/]/%63s", category, name) != 2) {
			fprintf(stderr, "loader: section %s\n", sec);
			return 1;
		}
		if (!strcmp(mode, "tp"))
			*link = bpf_program__attach_tracepoint(p, category, name);
		else
			return attach_by_hand(p, category, name, mode, fds);
	}
	return *link ? 0 : fail(sec);
}

static long long lookup(struct bpf_object *obj, const char *map, unsigned key)
{
	unsigned long long v = 0;

	if (bpf_map_lookup_elem(bpf_object__find_map_fd_by_name(obj, map), &key, &v))
		return 0;
	return (long long)v;
}

static const unsigned nrs[3] = {SYS_read, SYS_write, SYS_getpid};

static unsigned nchecks(struct bpf_object *obj)
{
	unsigned n = bpf_map__max_entries(bpf_object__find_map_by_name(obj, "checks"));

	return n < MAX_CHECKS ? n : MAX_CHECKS;
}

/* The entries and exits of nrs, then the checks. */
static void take(struct bpf_object *obj, long long *c)
{
	for (int i = 0; i < 3; i++) {
		c[2 * i] = lookup(obj, "enter_counts", nrs[i]);
		c[2 * i + 1] = lookup(obj, "exit_counts", nrs[i]);
	}
	for (unsigned i = 0; i < nchecks(obj); i++)
		c[6 + i] = lookup(obj, "checks", i);
}

int main(int argc, char **argv)
{
	long long before[6 + MAX_CHECKS], after[6 + MAX_CHECKS];
	struct bpf_link *links[MAX_PROGS] = {0};
	int fds[MAX_PROGS][2], go[2], status, n = 0;
	struct bpf_program *progs[MAX_PROGS], *p;
	struct bpf_object *obj;
	struct bpf_map *rodata = NULL, *m;
	int filter;
	char c;

	if (argc < 5) {
		fprintf(stderr, "usage: loader OBJ MODE PRELOAD TARGET [ARGS...]\n");
		return 2;
	}
	if (pipe(go))
		return fail("pipe");
	child = fork();
	if (child == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		if (!*argv[3])
			unsetenv("LD_PRELOAD");
		else if (strcmp(argv[3], "-"))
			setenv("LD_PRELOAD", argv[3], 1);
		execv(argv[4], argv + 4);
		_exit(127);
	}
	close(go[0]);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj)
		return fail(argv[1]);
	bpf_object__for_each_map(m, obj)
	{
		if (strstr(bpf_map__name(m), ".rodata"))
			rodata = m;
	}
	filter = strcmp(argv[2], "pid") ? child : 0;
	if (!rodata || bpf_map__set_initial_value(rodata, &filter, sizeof(filter)))
		return fail("setting target_pid");
	if (bpf_object__load(obj))
		return fail("load");
	bpf_object__for_each_program(p, obj)
	{
		if (n < MAX_PROGS)
			progs[n++] = p;
	}
	memset(fds, -1, sizeof(fds));
	/* the first program last: once it runs in the target, the others do too */
	for (int i = n - 1; i >= 0; i--)
		if (attach(progs[i], argv[2], &links[i], fds[i]))
			return 1;
	if (write(go[1], "g", 1) != 1)
		return fail("starting the target");
	for (int i = 0; i < 20000 && !lookup(obj, "enter_counts", SYS_getppid); i++) {
		struct timespec ms = {.tv_nsec = 1000000};

		nanosleep(&ms, NULL);
	}
	if (!lookup(obj, "enter_counts", SYS_getppid)) {
		fprintf(stderr, "loader: the programs never ran in the target\n");
		kill(child, SIGKILL);
		return 1;
	}
	/* counted from here: what the target did before (its start, the wait) is not */
	take(obj, before);
	kill(child, SIGUSR1);
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status))
		return fail("target");
	take(obj, after);
	for (int i = 0; i < 3; i++) {
		printf("enter %u %lld\n", nrs[i], after[2 * i] - before[2 * i]);
		printf("exit %u %lld\n", nrs[i], after[2 * i + 1] - before[2 * i + 1]);
	}
	for (unsigned i = 0; i < nchecks(obj); i++)
		printf("check %u %lld\n", i, after[6 + i] - before[6 + i]);
	for (int i = 0; i < n; i++) {
		bpf_link__destroy(links[i]);
		for (int j = 0; j < 2; j++)
			if (fds[i][j] >= 0)
				close(fds[i][j]);
	}
	bpf_object__close(obj);
	return 0;
}
