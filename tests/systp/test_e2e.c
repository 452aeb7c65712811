// SPDX-License-Identifier: MIT
/*
 * Syscall tracepoints end to end: target.c's known calls (100 getpid, 50
 * writes, 20 reads, and a forked child's that the pid filter must leave
 * out) counted by systp.bpf.c and systp_raw.bpf.c through an unmodified
 * libbpf loader, on the kernel's tracepoints (root, tracefs: else skipped
 * with the reason) and on uebpf's under `uebpf load` with the agent in the
 * target, by every attach path (bpf_program__attach, _attach_tracepoint,
 * perf_event_open + BPF_LINK_CREATE or the ioctls, a pid given to
 * perf_event_open, BPF_RAW_TRACEPOINT_OPEN) and through `uebpf start`; the
 * loader's output must be the expected counts in every case, the kernel's
 * too. Then `uebpf trace` on the same object.
 *
 * usage: test_systp_e2e UEBPF LOADER TARGET AGENT OBJ RAW_OBJ
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "child.h"
#include "registry/registry.h"

#define SKIP 77

static const char *uebpf, *loader, *target, *agent, *obj, *raw_obj;
/* a sanitizer runtime preloaded into the target makes system calls of its own */
static bool sanitized;
static char registry[64];

/* What the loader prints for a correct run. */
static const char counts[] = "enter 0 20\nexit 0 20\nenter 1 50\nexit 1 50\nenter 39 100\n"
			     "exit 39 100\n";
static const char checks[] = "check 0 50\ncheck 1 50\ncheck 2 20\ncheck 3 20\ncheck 4 100\n"
			     "check 5 50\ncheck 6 %d\ncheck 7 0\n";
static const char raw_checks[] = "check 0 50\ncheck 1 100\ncheck 2 0\n";

/* The LD_PRELOAD the target gets: the sanitizer runtimes of an ASan build, then the agent. */
static char *agent_preload(void)
{
	const char *old = getenv("LD_PRELOAD");
	char *v;

	if (asprintf(&v, "%s%s%s", old && *old ? old : "", old && *old ? ":" : "", agent) < 0)
		abort();
	return v;
}

/* cookies: the loader gave the programs the target's pid as their attach cookie */
static void expect_output(const char *out, int status, bool raw, bool cookies, const char *what)
{
	char want[512], c[256];
	const char *at = out;
	unsigned nr, want_nr;
	long long n, want_n;
	int used;

	snprintf(c, sizeof(c), checks, cookies ? 100 : 0);
	snprintf(want, sizeof(want), "%s%s", counts, raw ? raw_checks : c);
	if (sanitized) {
		/* the runtime's own calls can only add to the counts; what must be 0 stays 0 */
		for (const char *w = want; *w; w = strchr(w, '\n') + 1) {
			bool ok = sscanf(w, "%*s %u %lld", &want_nr, &want_n) == 2 &&
				  sscanf(at, "%*s %u %lld\n%n", &nr, &n, &used) == 2 &&
				  nr == want_nr && (want_n ? n >= want_n : !n);

			EXPECT(ok, "%s (sanitized): %.40s, want at least %.20s", what, at, w);
			if (!ok)
				return;
			at += used;
		}
		EXPECT(status == 0 && !*at, "%s: status %d:\n%s", what, status, out);
		return;
	}
	EXPECT(status == 0 && !strcmp(out, want), "%s: status %d, output:\n%s\nwant:\n%s", what,
	       status, out, want);
}

static bool kernel_tracing(void)
{
	FILE *f;

	if (geteuid()) {
		printf("kernel: skipped (kernel tracepoint programs need root)\n");
		return false;
	}
	f = fopen("/sys/kernel/tracing/events/raw_syscalls/sys_enter/id", "re");
	if (!f) {
		printf("kernel: skipped (no tracefs at /sys/kernel/tracing)\n");
		return false;
	}
	fclose(f);
	return true;
}

/* The same loader and objects on the kernel's tracepoints: the same counts. */
static void test_kernel(void)
{
	const char *objs[] = {obj, obj, raw_obj}, *modes[] = {"auto", "link", "auto"};
	char what[64];
	int status;

	if (!kernel_tracing())
		return;
	for (int i = 0; i < 3; i++) {
		char *argv[] = {(char *)loader, (char *)objs[i], (char *)modes[i], "-",
				(char *)target, "--wait",	 "--fork",	   NULL};
		char *out = child_run(argv, NULL, &status);

		if (objs[i] == raw_obj && status && strstr(out, "load")) {
			printf("kernel tp_btf: skipped (the kernel refused to load it: %s)\n", out);
			free(out);
			continue;
		}
		snprintf(what, sizeof(what), "kernel%s %s", objs[i] == raw_obj ? " raw," : "",
			 modes[i]);
		expect_output(out, status, objs[i] == raw_obj, !strcmp(modes[i], "link"), what);
		free(out);
	}
}

/*
 * Under `uebpf load`, the target with the agent preloaded (or under `uebpf
 * start`); env: for syshook (UEBPF_SYSHOOK: its rewritten sites only, or
 * Syscall User Dispatch only), or NULL.
 */
static void test_uebpf(const char *path, const char *mode, bool start, const char *env)
{
	char *preload = agent_preload(), what[64];
	const char *old = getenv("LD_PRELOAD");
	int status;
	char *argv_direct[] = {(char *)uebpf,  "load",	     "--registry", registry,
			       (char *)loader, (char *)path, (char *)mode, preload,
			       (char *)target, "--wait",     "--fork",	   NULL};
	/* the loader's child execs `uebpf start`, which preloads the agent */
	char *argv_start[] = {(char *)uebpf,
			      "load",
			      "--registry",
			      registry,
			      (char *)loader,
			      (char *)path,
			      (char *)mode,
			      (char *)(old ? old : ""),
			      (char *)uebpf,
			      "start",
			      "--registry",
			      registry,
			      "--",
			      (char *)target,
			      "--wait",
			      "--fork",
			      NULL};
	char *out = child_run(start ? argv_start : argv_direct, env, &status);

	snprintf(what, sizeof(what), "uebpf %s%s%s %s", path == raw_obj ? "raw, " : "", mode,
		 start ? ", uebpf start" : "", env ? env : "");
	expect_output(out, status, path == raw_obj, !strcmp(mode, "link"), what);
	free(out);
	free(preload);
}

/* The count of key in map NAME as map_dump prints it, or -1. */
static long long dumped(const char *out, const char *map, unsigned key)
{
	char head[64], line[32];
	const char *at, *end;

	snprintf(head, sizeof(head), "map %s (", map);
	at = strstr(out, head);
	if (!at)
		return -1;
	end = strstr(at + 1, "\nmap ");
	snprintf(line, sizeof(line), "\n  %u => ", key);
	at = strstr(at, line);
	if (!at || (end && at > end))
		return -1;
	return atoll(at + strlen(line));
}

/* `uebpf trace OBJ -- TARGET`: target_pid 0, every call of the target counted. */
/* n calls where want were made: exactly, or at least with a sanitizer runtime */
static bool counted(long long n, long long want)
{
	return sanitized ? n >= want : n == want;
}

static void test_trace(void)
{
	char *argv[] = {(char *)uebpf, "trace", (char *)obj, "--", (char *)target, NULL};
	const unsigned keys[] = {39, 1, 0};
	const long long want[] = {100, 50, 20};
	int status;
	char *out = child_run(argv, NULL, &status);

	EXPECT(status == 0, "uebpf trace: status %d:\n%s", status, out);
	for (int i = 0; i < 3; i++) {
		EXPECT(counted(dumped(out, "enter_counts", keys[i]), want[i]) &&
			       counted(dumped(out, "exit_counts", keys[i]), want[i]),
		       "uebpf trace: call %u: entries %lld, exits %lld, want %lld", keys[i],
		       dumped(out, "enter_counts", keys[i]), dumped(out, "exit_counts", keys[i]),
		       want[i]);
	}
	EXPECT(counted(dumped(out, "checks", 4), 100) && counted(dumped(out, "checks", 0), 50) &&
		       dumped(out, "checks", 6) == 0 && dumped(out, "checks", 7) == 0,
	       "uebpf trace: checks:\n%s", out);
	free(out);
}

static void remove_registry(void)
{
	char path[REG_PATH_MAX], err[256];
	struct reg *r;

	if (!reg_path(registry, path, sizeof(path), err, sizeof(err)) &&
	    !reg_open(path, false, &r, err, sizeof(err))) {
		EXPECT(!reg_remove(r, err, sizeof(err)), "removing %s: %s", path, err);
		reg_close(r);
	}
}

int main(int argc, char **argv)
{
	static const char *const modes[] = {"auto", "tp", "link", "ioctl", "pid"};

	if (argc != 7) {
		fprintf(stderr, "usage: test_systp_e2e UEBPF LOADER TARGET AGENT OBJ RAW_OBJ\n");
		return 2;
	}
	uebpf = argv[1];
	loader = argv[2];
	target = argv[3];
	agent = argv[4];
	obj = argv[5];
	raw_obj = argv[6];
	setvbuf(stdout, NULL, _IOLBF, 0);
	sanitized = getenv("UEBPF_TEST_SANITIZED");
	snprintf(registry, sizeof(registry), "systp-e2e-%d", (int)getpid());
	test_kernel();
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		test_uebpf(obj, modes[i], false, NULL);
	test_uebpf(obj, "auto", true, NULL);
	test_uebpf(obj, "auto", false, "UEBPF_SYSHOOK=rewrite");
	test_uebpf(obj, "auto", false, "UEBPF_SYSHOOK=sud");
	test_uebpf(raw_obj, "auto", false, NULL);
	test_uebpf(raw_obj, "link", false, NULL);
	test_trace();
	remove_registry();
	return check_summary();
}
