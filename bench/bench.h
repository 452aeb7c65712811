/* SPDX-License-Identifier: MIT */
/*
 * uebpf-bench: the same programs run by each uebpf engine, by the kernel and
 * as native C, timed side by side in one process so that they share the
 * machine's moods.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "isa/isa.h"
#include "uebpf/uebpf.h"

/* progs/fletcher16.s counts its loop down from this: no input may be longer. */
#define BENCH_FLETCHER16_CAP 4096

/* The programs' text, generated from progs/ by progs/embed.cmake. */
extern const char bench_text_baseline[];
extern const char bench_text_fletcher16[];
extern const char bench_text_fletcher16_uebpf[];
extern const char bench_text_fletcher16_kernel[];

enum bench_prog {
	BENCH_PROG_BASELINE,
	BENCH_PROG_FLETCHER16,
};

/* Who runs a program decides its prologue: how it finds its input. */
enum bench_target {
	BENCH_TARGET_UEBPF,  /* r1 = data, r2 = length */
	BENCH_TARGET_KERNEL, /* r1 = struct __sk_buff */
};

/* Assemble a program for a target into *insns (malloc'd, *n slots). */
int bench_prog_build(enum bench_prog prog, enum bench_target target, struct isa_insn **insns,
		     size_t *n, char *err, size_t err_len);

/* One line of the report: a program on one input. */
struct bench_case {
	const char *test;
	enum bench_prog prog;
	size_t param; /* input bytes; 0 when the test takes none */
	uint8_t *data;
	size_t len;
	uint64_t expect; /* the native twin's answer */
};

/* The cases in report order; *n of them. Returns NULL when out of memory. */
struct bench_case *bench_cases(size_t *n);
void bench_cases_free(struct bench_case *cases, size_t n);

/*
 * An engine ready to run one case. run executes the case n times and gives
 * the time per run in ns and the last result; it returns 0 or a negative
 * errno. The samples are the ns per run of each timed slice.
 */
struct bench_impl {
	const char *engine;
	const struct bench_case *c;
	int (*run)(struct bench_impl *impl, uint64_t n, double *ns, uint64_t *r0);
	void (*close)(struct bench_impl *impl);
	void *priv;

	uint64_t batch; /* runs per slice */
	uint64_t runs;
	double *samples;
	size_t nsamples;
	size_t cap;
};

/* A zeroed impl for engine and c, or NULL; bench_impl_free calls close. */
struct bench_impl *bench_impl_new(const char *engine, const struct bench_case *c);
void bench_impl_free(struct bench_impl *impl);

/* uebpf engines, indexed by enum uebpf_engine. */
#define BENCH_NUEBPF_ENGINES 3
extern const char *const bench_uebpf_engine_names[BENCH_NUEBPF_ENGINES];

/* Whether this build of the library has engine e. */
bool bench_uebpf_engine_built(enum uebpf_engine e);
/* A VM of engine e with prog loaded, or NULL with the reason in err. */
struct uebpf_vm *bench_uebpf_load(enum uebpf_engine e, enum bench_prog prog, char *err,
				  size_t err_len);
struct bench_impl *bench_uebpf_open(enum uebpf_engine e, const struct bench_case *c, char *err,
				    size_t err_len);

/* The kernel via BPF_PROG_TEST_RUN; NULL with the reason in err when it cannot. */
struct bench_impl *bench_kernel_open(const struct bench_case *c, char *err, size_t err_len);

/* The native twins, built -O2 in native.c and always called through a pointer. */
typedef uint64_t (*bench_native_fn)(const uint8_t *data, const uint8_t *end);
uint64_t bench_native_baseline(const uint8_t *data, const uint8_t *end);
uint64_t bench_native_fletcher16(const uint8_t *data, const uint8_t *end);
bench_native_fn bench_native_twin(enum bench_prog prog);
struct bench_impl *bench_native_open(const struct bench_case *c);

/* How long to time: slices of slice_ns each, for budget_ns per case. */
struct bench_timing {
	double slice_ns;
	uint64_t budget_ns;
	unsigned min_rounds;
};

/* Run impl once: 0 if it returns its case's expected answer, else a negative errno and why. */
int bench_check(struct bench_impl *impl, char *err, size_t err_len);

/*
 * Time impls (all of one case) in round-robin slices, checking every result
 * against the case's expected answer. Returns 0, or a negative errno with a
 * message in err.
 */
int bench_time_case(struct bench_impl **impls, size_t n, const struct bench_timing *t, char *err,
		    size_t err_len);

struct bench_stats {
	double median;
	double min;
	double p95;
	uint64_t runs;
};

/* Statistics of impl's slices (ns per run). */
void bench_stats(struct bench_impl *impl, struct bench_stats *st);

/* A row of the table and of the CSV; ratios are NAN when there is no reference. */
struct bench_row {
	const char *test;
	size_t param;
	const char *engine;
	struct bench_stats st;
	double ratio_native;
	double ratio_kernel;
};

/* The table's head; param_name names the column of bench_row.param. */
void bench_report_head(FILE *f, const char *param_name);
void bench_report_rows(FILE *f, const struct bench_row *rows, size_t n);
int bench_report_csv(const char *path, const struct bench_row *rows, size_t n, char *err,
		     size_t err_len);

/* The machine, kernel, compiler and BPF JIT setting, for the report's header. */
void bench_print_system(FILE *f);

/*
 * Load time per 1000 instructions of the engines in want_uebpf (by enum
 * uebpf_engine) and, with kernel, of BPF_PROG_LOAD: appends rows (at most
 * BENCH_NUEBPF_ENGINES + 2) and prints them. Returns 0 or a negative errno.
 */
int bench_compile(const bool *want_uebpf, bool kernel, bool quick, struct bench_row *rows,
		  size_t *nrows);

/* --insns-probe: the interpreter, then the native twin, runs times each on 2560 B. */
int bench_insns_probe(uint64_t runs);

#endif
