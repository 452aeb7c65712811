// SPDX-License-Identifier: MIT
/*
 * Uprobes end to end, across processes: the victim's calls counted by
 * counter.bpf.o through `uebpf trace` (1 and 4 threads, interp and jit),
 * through `uebpf load` + `uebpf start` with an unmodified libbpf loader,
 * and through the kernel's uprobes with the same loader and object, whose
 * maps must match uebpf's line for line (skipped, with the reason, where
 * kernel uprobes cannot be had). Then every bad input of the commands.
 *
 * usage: test_e2e UEBPF LOADER SKEL_LOADER VICTIM DLLIB OBJ BAD_OBJ
 */
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "child.h"
#include "maps/maps.h"
#include "registry/registry.h"

#define N 50 /* calls per thread, each argument 0..N-1 once */

static const char *uebpf, *loader, *skel_loader, *victim, *dllib, *obj, *bad_obj, *ticker,
	*ticker_obj;

static char *run(int *status, ...)
{
	char *argv[32];
	va_list ap;
	int n = 0;

	va_start(ap, status);
	while (n < 31 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	return child_run(argv, NULL, status);
}

/* What map_dump prints for a counter map: keys key(i) for i < N, each count times. */
static char *expect_counts(const char *name, int mul, int add, int count)
{
	size_t cap = 64 * (N + 2), at = 0;
	char *s = malloc(cap);

	at += (size_t)snprintf(s + at, cap - at,
			       "map %s (hash, key 4, value 8 bytes, %d entries)\n", name, N);
	for (int i = 0; i < N; i++)
		at += (size_t)snprintf(s + at, cap - at, "  %d => %d\n", i * mul + add, count);
	return s;
}

static void expect_maps(const char *out, int threads, const char *what)
{
	static const struct {
		const char *name;
		int mul, add;
	} maps[] = {{"args", 1, 0}, {"rets", 3, 1}, {"lib_args", 1, 0}, {"dl_args", 1, 0}};

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		char *want = expect_counts(maps[i].name, maps[i].mul, maps[i].add, threads);

		EXPECT(strstr(out, want), "%s: map %s: want\n%s", what, maps[i].name, want);
		free(want);
	}
}

static int count_of(const char *out, const char *needle)
{
	int n = 0;

	for (const char *s = out; (s = strstr(s, needle)); s++)
		n++;
	return n;
}

static void test_trace(const char *engine, const char *threads)
{
	char what[64];
	int status, t = atoi(threads);
	char *out = run(&status, uebpf, "trace", obj, "--engine", engine, "--", victim, "50",
			threads, dllib, "3", NULL);

	snprintf(what, sizeof(what), "trace --engine %s, %s threads", engine, threads);
	EXPECT(status == 3, "%s: exit %d, want the victim's 3", what, status);
	expect_maps(out, t, what);
	EXPECT(count_of(out, "bpf_trace_printk: lib_work 0") == t, "%s: %d trace lines", what,
	       count_of(out, "bpf_trace_printk: lib_work 0"));
	EXPECT(count_of(out, "ringbuf events: 8 bytes:") == t, "%s: %d ring buffer records", what,
	       count_of(out, "ringbuf events: 8 bytes:"));
	if (failed)
		printf("--- output ---\n%s---\n", out);
	free(out);
}

/*
 * A loader (under `uebpf load` when reg is set), the victim (under `uebpf
 * start`), then the loader's maps.
 */
static char *load_and_run(const char *reg, const char *tool, int *status)
{
	char *load_argv[] = {(char *)uebpf, "load",	 "--registry", (char *)reg,
			     (char *)tool,  (char *)obj, NULL};
	char *plain_argv[] = {(char *)tool, (char *)obj, NULL};
	struct child l;
	char *vout, *out;
	int vstatus;

	out = child_start_ready(reg ? load_argv : plain_argv, &l, status);
	if (out)
		return out;
	if (reg)
		vout = run(&vstatus, uebpf, "start", "--registry", reg, victim, "50", "4", dllib,
			   NULL);
	else
		vout = run(&vstatus, victim, "50", "4", dllib, NULL);
	EXPECT(vstatus == 0 && strstr(vout, "sum "), "victim: %d: %s", vstatus, vout);
	free(vout);
	return child_finish(&l, status);
}

static char *load_start(const char *tool, const char *what)
{
	char reg[64], dir[REG_PATH_MAX], err[512];
	struct reg *r;
	int status;
	char *out;

	snprintf(reg, sizeof(reg), "e2e-%d", (int)getpid());
	out = load_and_run(reg, tool, &status);
	EXPECT(status == 0, "%s: exit %d: %s", what, status, out);
	expect_maps(out, 4, what);
	if (!reg_path(reg, dir, sizeof(dir), err, sizeof(err)) &&
	    !reg_open(dir, false, &r, err, sizeof(err))) {
		EXPECT(!reg_remove(r, err, sizeof(err)), "%s", err);
		reg_close(r);
	}
	return out;
}

static void test_load_start(void)
{
	char *ours = load_start(loader, "load + start"), *kernel;
	int status;

	free(load_start(skel_loader, "skeleton load + start"));
	kernel = load_and_run(NULL, loader, &status);
	if (status) {
		printf("SKIP kernel comparison: the loader cannot use kernel uprobes here: %s",
		       kernel);
	} else {
		EXPECT(!strcmp(kernel, ours),
		       "kernel and uebpf differ:\n--- kernel\n%s--- uebpf\n%s", kernel, ours);
		printf("kernel uprobes: same maps as uebpf\n");
	}
	free(ours);
	free(kernel);
}

static void test_follow(void)
{
	char name[64], dir[REG_PATH_MAX], err[512];
	char *start_argv[] = {(char *)uebpf, "start", "--registry", name, (char *)ticker, NULL};
	char *load_argv[] = {(char *)uebpf,	 "load", "--registry", name, (char *)loader,
			     (char *)ticker_obj, NULL};
	struct child t, l;
	struct reg *r;
	char *out;
	int status;
	bool ok;

	snprintf(name, sizeof(name), "follow-%d", (int)getpid());
	/* REQUIRE evaluates its condition twice: calls go before it */
	ok = !reg_path(name, dir, sizeof(dir), err, sizeof(err)) &&
	     !reg_open(dir, true, &r, err, sizeof(err));
	REQUIRE(ok, "%s", err);
	ok = child_spawn(start_argv, NULL, &t);
	REQUIRE(ok, "start the ticker");
	EXPECT(child_ask(&t, "w 10\n", "ok 145"), "ticker before any probe");
	ok = child_spawn(load_argv, NULL, &l) && child_wait_line(&l, "ready", "loader");
	REQUIRE(ok, "start the loader");
	/* the watcher would find it within 100 ms; a sync now makes the test exact */
	EXPECT(child_ask(&t, "s\n", "synced 0"), "sync");
	EXPECT(child_ask(&t, "w 10\n", "ok 145") && child_ask(&t, "w 10\n", "ok 145"), "probed calls");
	EXPECT(child_reg_counter(r, "args", 0) == 2, "work(0) counted %lld times, want 2", child_reg_counter(r, "args", 0));
	out = child_finish(&l, &status);
	EXPECT(status == 0 && strstr(out, "map args (hash, key 4, value 8 bytes, 10 entries)\n"
					  "  0 => 2\n"),
	       "loader: %d: %s", status, out);
	free(out);
	/* the loader is gone, and with it its attachments */
	EXPECT(child_ask(&t, "s\n", "synced 0"), "sync");
	EXPECT(child_ask(&t, "w 10\n", "ok 145"), "the function after detach");
	EXPECT(child_reg_counter(r, "args", 0) == 2, "work(0) counted %lld times after detach, want 2",
	       child_reg_counter(r, "args", 0));
	out = child_finish(&t, &status);
	EXPECT(status == 0, "ticker: %d: %s", status, out);
	free(out);
	EXPECT(!reg_remove(r, err, sizeof(err)), "%s", err);
	reg_close(r);
}

static void expect_fail(int want, const char *msg, char *out, int status, const char *what)
{
	EXPECT(status == want && strstr(out, msg), "%s: exit %d, output: %s", what, status, out);
	free(out);
}

static void test_bad_input(void)
{
	int s;
	char *o;

	o = run(&s, uebpf, "trace", NULL);
	expect_fail(2, "no BPF object", o, s, "trace without arguments");
	o = run(&s, uebpf, "trace", obj, NULL);
	expect_fail(2, "no command given", o, s, "trace without a command");
	o = run(&s, uebpf, "trace", obj, "--", NULL);
	expect_fail(2, "no command given", o, s, "trace with an empty command");
	o = run(&s, uebpf, "trace", "/nonexistent.bpf.o", "--", "/bin/true", NULL);
	expect_fail(1, "/nonexistent.bpf.o", o, s, "trace of a missing object");
	o = run(&s, uebpf, "trace", obj, "--prog", "nope", "--", "/bin/true", NULL);
	expect_fail(1, "no program 'nope'", o, s, "trace --prog of a missing program");
	o = run(&s, uebpf, "trace", obj, "--engine", "fast", "--", "/bin/true", NULL);
	expect_fail(2, "unknown engine", o, s, "trace --engine fast");
	o = run(&s, uebpf, "trace", bad_obj, "--", "/bin/true", NULL);
	expect_fail(1, "cannot attach", o, s, "trace of a function that does not exist");
	o = run(&s, uebpf, "trace", obj, "--", "/nonexistent-command", NULL);
	expect_fail(127, "/nonexistent-command", o, s, "trace of a missing command");
	o = run(&s, uebpf, "start", "--registry", "no-such-registry-here", "/bin/true", NULL);
	expect_fail(1, "no registry", o, s, "start on a missing registry");
	o = run(&s, uebpf, "start", NULL);
	expect_fail(2, "no command given", o, s, "start without a command");
	o = run(&s, uebpf, "load", NULL);
	expect_fail(2, "no loader command", o, s, "load without a command");
	o = run(&s, uebpf, "load", "--registry", "bad name", "/bin/true", NULL);
	expect_fail(1, "registry name", o, s, "load with a bad registry name");
}

int main(int argc, char **argv)
{
	if (argc != 10) {
		fprintf(stderr, "usage: test_e2e UEBPF LOADER SKEL_LOADER VICTIM DLLIB OBJ BAD_OBJ "
				"TICKER TICKER_OBJ\n");
		return 2;
	}
	uebpf = argv[1];
	loader = argv[2];
	skel_loader = argv[3];
	victim = argv[4];
	dllib = argv[5];
	obj = argv[6];
	bad_obj = argv[7];
	ticker = argv[8];
	ticker_obj = argv[9];
	test_trace("jit", "1");
	test_trace("jit", "4");
	test_trace("interp", "4");
	test_load_start();
	test_follow();
	test_bad_input();
	return check_summary();
}
