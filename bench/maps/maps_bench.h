/* SPDX-License-Identifier: MIT */
/*
 * The map benchmark (`make bench`): map operations measured from inside a
 * program (maps.bpf.c, OPS per run), the same clang-built object run by
 * the kernel and by each uebpf engine through BPF_PROG_TEST_RUN.
 *
 * libbpf loads the object in both cases; what answers its bpf() calls is
 * decided at link time, so the two sides are two executables built from
 * the same measuring code (measure.c): uebpf-bench-maps, plain, measures
 * the kernel and drives the run; uebpf-bench-maps-worker, with uebpf's
 * syscall() linked in, measures the engine UEBPF_ENGINE names and prints
 * its rows for the driver to read.
 */
#ifndef UEBPF_BENCH_MAPS_H
#define UEBPF_BENCH_MAPS_H

#include <stdbool.h>
#include <stdint.h>

#define MAPS_OPS 1000 /* operations per run, as in maps.bpf.c */

struct maps_row {
	const char *prog;  /* program in maps.bpf.c */
	const char *label; /* what the report calls it */
	double target;	   /* JIT/AOT at most this times the kernel; 0: no target */
};

extern const struct maps_row maps_rows[];
extern const unsigned maps_nrows;

struct maps_result {
	bool ok;
	uint32_t retval;  /* operations that succeeded in one run */
	double ns_per_op; /* the fastest batch's */
};

/* How long to measure: batches per row, runs per batch. */
struct maps_timing {
	unsigned batches;
	unsigned repeat;
};

/*
 * Load obj with libbpf (through whatever bpf() this executable has), fill
 * its maps and measure every row into res (maps_nrows entries). 0, or a
 * negative errno with a message in err; ENOENT... from libbpf as they come.
 */
int maps_measure(const char *obj, const struct maps_timing *t, struct maps_result *res, char *err,
		 size_t err_len);

#endif
