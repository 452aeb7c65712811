// SPDX-License-Identifier: MIT
/*
 * USDT probes end to end: an unmodified libbpf loader (loader.c) attaches
 * usdt.bpf.o's SEC("usdt/...") program with bpf_program__attach_usdt under
 * `uebpf load`; in usdt_target, run by `uebpf start`, the probe's semaphore
 * must go from 0 to 1 while it is attached (so the target fires it) and
 * back to 0 once the loader is gone, and the program must see the three
 * arguments (a register, a computed value, a pointer it reads through),
 * which libbpf's usdt.bpf.h finds through the attachment's BPF cookie. The
 * same loader and target on the kernel's uprobes must leave the same maps
 * (skipped, with the reason, where the kernel cannot).
 *
 * usage: test_usdt UEBPF LOADER TARGET OBJ
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "child.h"
#include "registry/registry.h"

#define FIRES 8

static const char *uebpf, *loader, *target, *obj;

static void expect_maps(const char *out, const char *what)
{
	static const long words[4] = {1111, 2222, 3333, 4444};
	char xs[1024], ws[1024];
	int a, b;

	a = snprintf(xs, sizeof(xs), "map xs (hash, key 4, value 8 bytes, %d entries)\n", FIRES);
	b = snprintf(ws, sizeof(ws), "map words (hash, key 4, value 8 bytes, %d entries)\n", FIRES);
	for (int i = 0; i < FIRES; i++) {
		a += snprintf(xs + a, sizeof(xs) - (size_t)a, "  %d => %d\n", i, i * 10);
		b += snprintf(ws + b, sizeof(ws) - (size_t)b, "  %d => %ld\n", i, words[i % 4]);
	}
	EXPECT(strstr(out, xs), "%s: want\n%s", what, xs);
	EXPECT(strstr(out, ws), "%s: want\n%s", what, ws);
}

/* One run: with a registry (uebpf) or plain (the kernel); the loader's output, or NULL. */
static char *run(bool kernel, const char *reg)
{
	char *start_argv[] = {(char *)uebpf, "start",	     "--registry",
			      (char *)reg,   (char *)target, NULL};
	char *load_argv[] = {(char *)uebpf,  "load",	  "--registry", (char *)reg,
			     (char *)loader, (char *)obj, NULL};
	char *plain_target[] = {(char *)target, NULL};
	char *plain_loader[] = {(char *)loader, (char *)obj, NULL};
	const char *what = kernel ? "kernel" : "uebpf";
	struct child t, l;
	char *out;
	int status;
	bool ok;

	ok = child_spawn(kernel ? plain_target : start_argv, NULL, &t);
	REQUIRE(ok, "start the target");
	EXPECT(child_ask(&t, "q\n", "sem 0"), "%s: semaphore before any probe", what);
	EXPECT(child_ask(&t, "f 3\n", "fired 0"), "%s: fired without a probe", what);
	if (!child_spawn(kernel ? plain_loader : load_argv, NULL, &l) ||
	    !child_wait_line(&l, "ready", "loader")) {
		out = child_finish(&l, &status);
		if (kernel) {
			printf("SKIP kernel comparison: the loader cannot attach USDT probes here: "
			       "%s",
			       out);
		} else {
			EXPECT(0, "uebpf load: exit %d: %s", status, out);
		}
		free(out);
		free(child_finish(&t, &status));
		return NULL;
	}
	if (!kernel)
		EXPECT(child_ask(&t, "s\n", "synced 0"), "sync");
	EXPECT(child_ask(&t, "q\n", "sem 1"), "%s: semaphore while attached", what);
	EXPECT(child_ask(&t, "f 8\n", "fired 8"), "%s: fired while attached", what);
	out = child_finish(&l, &status);
	EXPECT(status == 0, "%s: loader: exit %d: %s", what, status, out);
	expect_maps(out, what);
	if (!kernel)
		EXPECT(child_ask(&t, "s\n", "synced 0"), "sync");
	EXPECT(child_ask(&t, "q\n", "sem 0"), "%s: semaphore after the loader ended", what);
	EXPECT(child_ask(&t, "f 3\n", "fired 0"), "%s: fired after detach", what);
	free(child_finish(&t, &status));
	EXPECT(status == 0, "%s: target: exit %d", what, status);
	if (failed)
		printf("--- loader output (%s) ---\n%s---\n", what, out);
	return out;
}

int main(int argc, char **argv)
{
	char reg[64], dir[REG_PATH_MAX], err[512];
	char *ours, *kernel;
	struct reg *r;
	bool ok;

	if (argc != 5) {
		fprintf(stderr, "usage: test_usdt UEBPF LOADER TARGET OBJ\n");
		return 2;
	}
	uebpf = argv[1];
	loader = argv[2];
	target = argv[3];
	obj = argv[4];
	/* a dead child must fail a check, not end the test */
	signal(SIGPIPE, SIG_IGN);
	snprintf(reg, sizeof(reg), "usdt-%d", (int)getpid());
	ok = !reg_path(reg, dir, sizeof(dir), err, sizeof(err)) &&
	     !reg_open(dir, true, &r, err, sizeof(err));
	REQUIRE(ok, "%s", err);
	ours = run(false, reg);
	EXPECT(!reg_remove(r, err, sizeof(err)), "%s", err);
	reg_close(r);
	kernel = run(true, NULL);
	if (ours && kernel) {
		EXPECT(!strcmp(kernel, ours),
		       "kernel and uebpf differ:\n--- kernel\n%s--- uebpf\n%s", kernel, ours);
		printf("kernel USDT probes: same maps as uebpf\n");
	}
	free(ours);
	free(kernel);
	return check_summary();
}
