// SPDX-License-Identifier: MIT
/*
 * PROG_ARRAY tail calls inside target processes (tail.bpf.c): on_work(i)
 * tail-calls slot i % 4 of a PROG_ARRAY whose slots the loader filled with
 * its own program fds, and one target goes on through a second PROG_ARRAY.
 * Through `uebpf trace` (slots from the object's .values), and through
 * `uebpf load` of an unmodified libbpf loader that also fills a slot at run
 * time + `uebpf start` of the victim; the same loader on the kernel's
 * uprobes must print the same maps (skipped, with the reason, where it
 * cannot run).
 *
 * usage: test_tail UEBPF TAIL_LOADER VICTIM OBJ
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

#define N 50 /* work(i) for i < N, per thread */
#define THREADS 2

static const char *uebpf, *tail_loader, *victim, *obj;

/* map_dump's text for a count map holding THREADS for each i < N with i % 4 in mods. */
static char *expect_map(const char *name, const char *mods)
{
	size_t cap = 64 * (N + 2), at = 0;
	char *s = malloc(cap);
	int n = 0;

	for (int i = 0; i < N; i++)
		n += strchr(mods, '0' + i % 4) != NULL;
	at += (size_t)snprintf(s + at, cap - at,
			       "map %s (hash, key 4, value 8 bytes, %d entries)\n", name, n);
	for (int i = 0; i < N; i++)
		if (strchr(mods, '0' + i % 4))
			at += (size_t)snprintf(s + at, cap - at, "  %d => %d\n", i, THREADS);
	return s;
}

/* slot2: whether slot 2 holds tail_c (the loader's run-time update). */
static void expect_maps(const char *out, bool slot2, const char *what)
{
	const struct {
		const char *name, *mods;
	} maps[] = {
		{"a_args", "0"},
		{"b_args", "1"},
		{"c_args", slot2 ? "2" : ""},
		{"d_args", "1"},
		{"miss_args", slot2 ? "3" : "23"},
	};

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		char *want = expect_map(maps[i].name, maps[i].mods);

		EXPECT(strstr(out, want), "%s: map %s: want\n%s", what, maps[i].name, want);
		free(want);
	}
	if (failed)
		printf("--- output of %s ---\n%s---\n", what, out);
}

static void test_trace(const char *engine)
{
	char what[64];
	char *argv[] = {(char *)uebpf,	"trace",  "--engine", (char *)engine,
			(char *)obj,	"--prog", "on_work",  "--",
			(char *)victim, "50",	  "2",	      NULL};
	int status;
	char *out = child_run(argv, NULL, &status);

	snprintf(what, sizeof(what), "trace --engine %s", engine);
	EXPECT(status == 0, "%s: exit %d", what, status);
	expect_maps(out, false, what);
	free(out);
}

/* The loader (under `uebpf load` when reg is set), then the victim (under `uebpf start`). */
static char *load_and_run(const char *reg, int *status)
{
	char *load_argv[] = {(char *)uebpf,	  "load",      "--registry", (char *)reg,
			     (char *)tail_loader, (char *)obj, NULL};
	char *plain_argv[] = {(char *)tail_loader, (char *)obj, NULL};
	char *start_argv[] = {(char *)uebpf,  "start", "--registry", (char *)reg,
			      (char *)victim, "50",    "2",	     NULL};
	char *victim_argv[] = {(char *)victim, "50", "2", NULL};
	struct child l;
	char *vout, *out;
	int vstatus;

	out = child_start_ready(reg ? load_argv : plain_argv, &l, status);
	if (out)
		return out;
	vout = child_run(reg ? start_argv : victim_argv, NULL, &vstatus);
	EXPECT(vstatus == 0 && strstr(vout, "sum "), "victim: %d: %s", vstatus, vout);
	free(vout);
	return child_finish(&l, status);
}

static void test_load_start(void)
{
	char reg[64], dir[REG_PATH_MAX], err[512];
	char *ours, *kernel;
	struct reg *r;
	int status;

	snprintf(reg, sizeof(reg), "tail-%d", (int)getpid());
	ours = load_and_run(reg, &status);
	EXPECT(status == 0, "load + start: exit %d: %s", status, ours);
	expect_maps(ours, true, "load + start");
	if (!reg_path(reg, dir, sizeof(dir), err, sizeof(err)) &&
	    !reg_open(dir, false, &r, err, sizeof(err))) {
		EXPECT(!reg_remove(r, err, sizeof(err)), "%s", err);
		reg_close(r);
	}
	kernel = load_and_run(NULL, &status);
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

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: test_tail UEBPF TAIL_LOADER VICTIM OBJ\n");
		return 2;
	}
	uebpf = argv[1];
	tail_loader = argv[2];
	victim = argv[3];
	obj = argv[4];
	test_trace("jit");
	test_trace("interp");
	test_load_start();
	return check_summary();
}
