/* SPDX-License-Identifier: MIT */
/*
 * benchlib: what uebpf's benchmarks share, the core `uebpf-bench` and the
 * suite runner behind `uebpf bench` alike: the thread CPU clock they time
 * with, the statistics of their samples (median, mean, stddev, p95, min;
 * the Mann-Whitney U test), the machine's description, the small pieces
 * of their tables and CSV files, and the files they read to attach the
 * kernel's probes.
 */
#ifndef UEBPF_BENCHLIB_H
#define UEBPF_BENCHLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* This thread's CPU time in ns: it leaves out the time the thread was preempted. */
uint64_t benchlib_thread_ns(void);

struct benchlib_stats {
	size_t n;
	double median, mean, stddev, p95, min;
};

/* Statistics of x[0..n) (not modified); all NAN when n is 0. stddev is the sample one. */
void benchlib_stats_compute(const double *x, size_t n, struct benchlib_stats *st);

struct benchlib_mwu {
	double u; /* U of a: pairs (a_i, b_j) with a_i > b_j, ties counted one half */
	double z; /* the normal approximation's z (0 when the exact test was used) */
	double p; /* two-sided */
	bool exact;
};

/*
 * Mann-Whitney U test of a against b. Exact p-value when there are no
 * ties and na * nb <= BENCHLIB_MWU_EXACT_MAX, else the normal approximation
 * with tie and continuity corrections. Returns 0 or -EINVAL (an empty side).
 */
#define BENCHLIB_MWU_EXACT_MAX 2500
int benchlib_mann_whitney(const double *a, size_t na, const double *b, size_t nb,
			  struct benchlib_mwu *r);

/* The CPU's model name from /proc/cpuinfo, or "unknown CPU". */
void benchlib_cpu_model(char *buf, size_t len);

/* The compiler that built the benchmarks (and their native twins). */
const char *benchlib_compiler(void);

/* A table's ratio column: " %9.2f", or " -" aligned where there is no reference (NAN). */
void benchlib_print_ratio(FILE *f, double ratio);

/* path's content (a sysfs or tracefs file) into buf, NUL-terminated. Returns 0 or -errno. */
int benchlib_read_file(const char *path, char *buf, size_t len);

/* The offset in the main executable's file of addr, which it maps: what a uprobe names. */
int benchlib_exe_file_offset(const void *addr, uint64_t *off);

/* mkdir -p of the directory part of path. Returns 0 or -errno. */
int benchlib_make_parent(const char *path);

#endif
