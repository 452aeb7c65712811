// SPDX-License-Identifier: MIT
/*
 * Rings across processes: rings_loader under `uebpf load` reads, with
 * libbpf's perf_buffer and ring_buffer, the records rings_probe.bpf.o's
 * uprobe writes inside rings_target run by `uebpf start`; every record
 * must arrive in order, each wait ended by the target's wakeup (or data
 * already there), never by its 20 s timeout. The same loader and target
 * on the kernel's uprobes and perf buffers must print the same summary
 * (skipped, with the reason, where the kernel refuses).
 *
 * usage: test_rings_xproc UEBPF LOADER TARGET OBJ
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "child.h"
#include "registry/registry.h"

#define BATCHES "3"
#define PER "20"
#define SUMMARY "perf 60 ring 60 lost 0 in order\n"

static const char *uebpf, *loader, *target, *obj;

/* The loader (under `uebpf load` when reg is set), then the target; the loader's output. */
static char *load_and_run(const char *reg, int *status)
{
	char *load_argv[] = {(char *)uebpf, "load",  "--registry", (char *)reg, (char *)loader,
			     (char *)obj,   BATCHES, PER,	   NULL};
	char *plain_argv[] = {(char *)loader, (char *)obj, BATCHES, PER, NULL};
	char *start_argv[] = {(char *)uebpf,  "start", "--registry", (char *)reg,
			      (char *)target, BATCHES, PER,	     NULL};
	char *target_argv[] = {(char *)target, BATCHES, PER, NULL};
	struct child l, t;
	int tstatus;
	char *tout;

	tout = child_start_ready(reg ? load_argv : plain_argv, &l, status);
	if (tout)
		return tout;
	if (!child_spawn(reg ? start_argv : target_argv, NULL, &t)) {
		*status = -1;
		return child_finish(&l, &tstatus);
	}
	tout = child_finish(&t, &tstatus);
	EXPECT(tstatus == 0 && strstr(tout, "sum 1830"), "target: exit %d: %s", tstatus, tout);
	free(tout);
	return child_finish(&l, status);
}

int main(int argc, char **argv)
{
	char reg[64], dir[REG_PATH_MAX], err[512];
	char *ours, *kernel;
	struct reg *r;
	int status;

	if (argc != 5) {
		fprintf(stderr, "usage: test_rings_xproc UEBPF LOADER TARGET OBJ\n");
		return 2;
	}
	uebpf = argv[1], loader = argv[2], target = argv[3], obj = argv[4];
	snprintf(reg, sizeof(reg), "rings-%d", (int)getpid());
	ours = load_and_run(reg, &status);
	EXPECT(status == 0 && !strcmp(ours, SUMMARY), "uebpf: exit %d:\n%s--- want ---\n%s", status,
	       ours, SUMMARY);
	if (!reg_path(reg, dir, sizeof(dir), err, sizeof(err)) &&
	    !reg_open(dir, false, &r, err, sizeof(err))) {
		EXPECT(!reg_remove(r, err, sizeof(err)), "%s", err);
		reg_close(r);
	}
	kernel = load_and_run(NULL, &status);
	if (status && strstr(kernel, "cannot")) {
		printf("SKIP kernel comparison: the kernel refuses the loader here: %s", kernel);
	} else {
		EXPECT(status == 0 && !strcmp(kernel, ours),
		       "kernel: exit %d:\n%s--- uebpf ---\n%s", status, kernel, ours);
		printf("kernel: %s", kernel);
	}
	free(ours);
	free(kernel);
	return check_summary();
}
