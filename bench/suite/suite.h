/* SPDX-License-Identifier: MIT */
/*
 * suite: the benchmark suite runner behind `uebpf bench SUITE.yaml`.
 *
 * A suite is a YAML file in bpf_performance's format (tests of ELF objects,
 * programs pinned to CPUs, BPF_PROG_TEST_RUN with a repeat count) plus
 * uebpf's own keys under `uebpf:`. This library parses it, runs every test
 * on uebpf's engines, the kernel and native C twins, alternating them in
 * short slices, computes statistics per test and engine, writes CSV (the
 * bpf_performance columns and an extended form with the batch samples),
 * compares a run with a baseline (Mann-Whitney U) and draws an HTML report
 * with inline SVG charts.
 */
#ifndef UEBPF_BENCH_SUITE_H
#define UEBPF_BENCH_SUITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "benchlib.h"

#define SUITE_MAX_CPUS 64

/* The columns of a result: uebpf's engines by enum uebpf_engine, then kernel and native. */
enum suite_engine {
	SUITE_INTERP,
	SUITE_JIT,
	SUITE_AOT,
	SUITE_KERNEL,
	SUITE_NATIVE,
	SUITE_NENGINES,
};

const char *suite_engine_name(int engine);
/* The engine called name, or -EINVAL. */
int suite_engine_parse(const char *name);

/*
 * What a test measures (uebpf.measure): BPF_PROG_TEST_RUN runs (the
 * default, as bpf_performance does); a call of the runner's victim function
 * with the test's program attached as a uprobe or a uretprobe (the kernel
 * column with a kernel uprobe, the native column without a probe); or the
 * verification of the test's programs, as the verifier itself reports it
 * ("verification time" of log_level 4), per load; or a getpid() call with
 * the test's program attached to a syscall tracepoint by its section (the
 * kernel column with the kernel's tracepoint, the native column untraced).
 */
enum suite_measure { SUITE_TEST_RUN, SUITE_UPROBE, SUITE_URETPROBE, SUITE_VERIFY, SUITE_SYSCALL };

/* uebpf.user_pointer: the runner writes, at this byte of the packet, the address of
 * a word of its own memory holding SUITE_USER_WORD (for bpf_probe_read_user). */
#define SUITE_USER_PTR_OFF 16
#define SUITE_USER_WORD 0x0123456789abcdefull

/* The function uprobe tests probe: returns x + 1; a push %rbp prologue (victim.S). */
long suite_victim(long x);
#define SUITE_VICTIM "suite_victim"

/* program_cpu_assignment: one program and where it runs. */
enum suite_cpus { SUITE_CPUS_ALL, SUITE_CPUS_REMAINING, SUITE_CPUS_LIST };

struct suite_assign {
	char *prog;
	int line;
	enum suite_cpus kind;
	int cpus[SUITE_MAX_CPUS];
	size_t ncpus;
};

struct suite_test {
	char *name;
	char *description; /* NULL when absent, like every optional string */
	char *elf_file;	   /* as written in the suite */
	char *elf_path;	   /* where it was found (suite_resolve) */
	int line;	   /* of the test's first key */
	int elf_line;
	uint64_t iteration_count;
	char *prep_prog; /* map_state_preparation */
	int prep_line;
	uint64_t prep_iterations;
	struct suite_assign *assign;
	size_t nassign;
	char *platform; /* run here when absent, Linux or uebpf (bpf_performance skips uebpf) */
	char *program_type;
	uint32_t batch_size; /* runs per BPF_PROG_TEST_RUN call; 0: a slice's runs in one call */
	bool pass_data;	     /* default true: 1024 B of data in, as bpf_performance does */
	bool pass_context;
	bool has_expected;
	uint64_t expected_result; /* every program's return value; 0 when not given */
	/* uebpf: extensions */
	bool engines[SUITE_NENGINES]; /* those the test allows; all unless uebpf.engines */
	char *native;		      /* name of a native C twin */
	uint32_t *data_sizes;	      /* a variant per size; none: one variant of 1024 B */
	size_t nsizes;
	enum suite_measure measure;
	bool user_pointer;
};

struct suite {
	char *path;
	struct suite_test *tests;
	size_t ntests;
};

/*
 * Parse a suite's text; path names it in messages and locates relative
 * elf_file paths. Messages are "PATH:LINE: what". Returns 0 or -EINVAL.
 */
int suite_parse(const char *text, size_t len, const char *path, struct suite *s, char *err,
		size_t err_len);
int suite_parse_file(const char *path, struct suite *s, char *err, size_t err_len);
void suite_free(struct suite *s);

/*
 * Find every test's object (absolute, else next to the suite, else in the
 * current directory, else in obj_dir) and check that it opens and has every
 * program the test names. Returns 0, -ENOENT or -EINVAL with a message.
 */
int suite_resolve(struct suite *s, const char *obj_dir, char *err, size_t err_len);

/* A test's input for one variant: size bytes of a fixed pattern. */
void suite_fill_data(uint8_t *data, size_t size);
#define SUITE_DEFAULT_DATA 1024

/* --- running (run.c) --- */

struct suite_options {
	bool engines[SUITE_NENGINES]; /* wanted: the kernel and native only when asked */
	unsigned batches;
	double slice_ns; /* target length of one slice */
	bool quiet_filter;
	double quiet_threshold;	   /* relative change of the reference loop that drops a slice */
	bool progress;		   /* the progress line on stderr */
	FILE *table;		   /* each test's rows as it ends, or NULL */
	const char *kernel_helper; /* executable that runs the kernel column */
	uint64_t insns_runs;	   /* the callgrind pass (suite_callgrind's child): runs counted */
};

void suite_options_default(struct suite_options *o);

/* One test variant on one engine. */
struct suite_result {
	char *test;    /* the test's name */
	uint32_t size; /* the data size of the variant; 0 for a test without data_sizes */
	int engine;
	double *samples; /* ns per run, one per batch */
	size_t nsamples;
	double cpu_ns[SUITE_MAX_CPUS]; /* mean ns per run on each CPU used; NAN elsewhere */
	struct benchlib_stats st;
	double ratio_kernel, ratio_native; /* median over theirs; NAN without them */
	double insns; /* host instructions per run (callgrind); NAN if not counted */
	uint64_t slices, dropped;
};

struct suite_sysinfo {
	char machine[256];
	char kernel[160];
	char compiler[128];
	char commit[64];
	char timestamp[32]; /* ISO 8601, UTC */
};

void suite_sysinfo_get(struct suite_sysinfo *si);

struct suite_results {
	struct suite_sysinfo sys;
	struct suite_result *rows;
	size_t n;
	int ncpus; /* CPUs the CSV has columns for */
};

void suite_results_free(struct suite_results *r);
/* Append a row (its strings and samples are copied). Returns 0 or -ENOMEM. */
int suite_results_add(struct suite_results *r, const struct suite_result *row);

/*
 * Run every test of s (resolved) as o says, appending to out. A test that
 * fails to load or run on an engine stops the run with a message; an engine
 * that cannot run at all here (the kernel without privilege) is skipped
 * with its reason printed on stderr.
 */
int suite_run(const struct suite *s, const struct suite_options *o, struct suite_results *out,
	      char *err, size_t err_len);

/* --- the engines' slices (obj.c, native.c, kernel_client.c) --- */

/*
 * What one slice did: per thread (one per CPU it ran on), its CPU time
 * and, with the quiet filter, the reference loop's time before and after.
 */
struct suite_slice {
	size_t nthreads;
	int cpu[SUITE_MAX_CPUS];
	double ns[SUITE_MAX_CPUS]; /* thread CPU ns for the whole slice */
	uint32_t retval[SUITE_MAX_CPUS];
	double ref_before[SUITE_MAX_CPUS], ref_after[SUITE_MAX_CPUS];
};

/* Which CPUs run which program of t: cpu_prog[cpu] indexes t->assign, or -1. */
int suite_cpu_plan(const struct suite_test *t, int ncpus, int *cpu_prog, char *err, size_t err_len);
/* CPUs this process may run on (at most SUITE_MAX_CPUS). */
int suite_ncpus(void);

/*
 * A loaded object (libbpf; the bpf() calls go wherever this process's
 * syscall() sends them). kernel says where they go, for what the two do
 * differently: emptying ring buffers (the kernel's are mmapped, uebpf's
 * read through the maps library).
 */
struct suite_obj;
int suite_obj_open(const struct suite_test *t, uint32_t size, bool kernel, struct suite_obj **out,
		   char *err, size_t err_len);
int suite_obj_slice(struct suite_obj *o, uint64_t n, bool ref, struct suite_slice *res, char *err,
		    size_t err_len);
void suite_obj_close(struct suite_obj *o);

/* A ring buffer map (its fd) emptied after each slice; kernel: as for suite_obj_open. */
struct suite_ring;
int suite_ring_open(int fd, bool kernel, struct suite_ring **out, char *err, size_t err_len);
void suite_ring_drain(struct suite_ring *r);
void suite_ring_close(struct suite_ring *r);

/* Native twins: the C version of a suite program, by name. */
typedef uint64_t (*suite_native_fn)(const uint8_t *data, size_t len);
suite_native_fn suite_native_find(const char *name);

/* The kernel column: a helper process (no interposition) serving slices. */
struct suite_kernel;
/* Returns 0, -EPERM/-ENOSYS with the skip reason, or another -errno with a message. */
int suite_kernel_open(const char *helper, const char *suite_path, size_t test_index, uint32_t size,
		      const char *elf_path, struct suite_kernel **out, char *err, size_t err_len);
int suite_kernel_slice(struct suite_kernel *k, uint64_t n, bool ref, struct suite_slice *res,
		       char *err, size_t err_len);
void suite_kernel_close(struct suite_kernel *k);

/*
 * Threads pinned one to each CPU of cpus, kept for many slices. A slice
 * runs fn on all of them at once, timing each with its thread's CPU clock
 * (and the reference loop around it when ref), and fills res. Returns 0 or
 * the first thread's error.
 */
/* fn may set *ns to its own measure of the slice in ns (the verifier's time); else the CPU clock's.
 */
typedef int (*suite_thread_fn)(void *arg, int cpu, uint32_t *retval, double *ns, char *err,
			       size_t err_len);
struct suite_workers;
int suite_workers_open(const int *cpus, size_t ncpus, struct suite_workers **out, char *err,
		       size_t err_len);
int suite_workers_run(struct suite_workers *pool, suite_thread_fn fn, void *arg, bool ref,
		      struct suite_slice *res, char *err, size_t err_len);
void suite_workers_close(struct suite_workers *pool);

/* --- exact counts (callgrind.c) --- */

/* The label of the callgrind pass's dumps: "LABEL TEST_INDEX SIZE ENGINE RUNS THREADS". */
#define SUITE_INSNS_LABEL "uebpf-insns"

/*
 * Host instructions per run of every test variant on the engines the
 * callgrind pass ran: runs argv (a uebpf bench command line with
 * --insns-child RUNS) under valgrind --tool=callgrind, reads its dumps and
 * appends a row per test variant and engine with insns set (and
 * ratio_native where the native twin was counted). Returns 0 or -errno.
 */
int suite_callgrind(char *const argv[], const struct suite *s, uint64_t runs,
		    struct suite_results *out, char *err, size_t err_len);

/* The callgrind pass's table: instructions per run and the ratio to native. */
void suite_insns_table(FILE *f, const struct suite_result *rows, size_t n);

/* --- output (report.c, csv.c, html.c) --- */

/* The table's head and rows (ns per run, ratios to kernel and native). */
void suite_table_head(FILE *f);
void suite_table_rows(FILE *f, const struct suite_result *rows, size_t n);

/* "NAME" or "NAME [SIZE B]": how a variant is named in the bpf_performance CSV. */
void suite_variant_name(const struct suite_result *r, char *buf, size_t len);

/* bpf_performance's CSV: one row per test variant and engine ("NAME [engine]"). */
int suite_csv_write_bpf(const char *path, const struct suite_results *r, char *err, size_t err_len);
/*
 * The extended CSV: '#' header lines (machine, kernel, compiler, commit),
 * a "stat" row per test variant and engine, and with samples a "sample"
 * row per batch. append: add to the file (the header only if it is new).
 */
int suite_csv_write_ext(const char *path, const struct suite_results *r, bool samples, bool append,
			char *err, size_t err_len);
/*
 * Read an extended CSV: with history, every "stat" row of every run, each
 * run's commit and timestamp in its rows' sys; else the samples of the
 * last run (rows whose samples are the batch values).
 */
struct suite_history {
	struct suite_results *runs;
	size_t n;
};
int suite_csv_read(const char *path, struct suite_results *r, char *err, size_t err_len);
int suite_history_read(const char *path, struct suite_history *h, char *err, size_t err_len);
void suite_history_free(struct suite_history *h);

/* --- comparison (compare.c) --- */

struct suite_compare_opts {
	double alpha;	  /* p below which a shift counts */
	double min_shift; /* relative change of the median below which it does not */
};

/*
 * Compare cur's samples with base's, per test variant and engine present in
 * both, printing what moved to f. *regressions counts significant
 * slowdowns. Returns 0 or -EINVAL when nothing could be compared.
 */
int suite_compare(const struct suite_results *cur, const struct suite_results *base,
		  const struct suite_compare_opts *o, FILE *f, int *regressions, char *err,
		  size_t err_len);

/* The HTML report with its SVG charts; history may be NULL. */
int suite_html_write(const char *path, const struct suite *s, const struct suite_results *r,
		     const struct suite_history *history, char *err, size_t err_len);

#endif
