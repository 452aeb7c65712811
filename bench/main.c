// SPDX-License-Identifier: MIT
/*
 * uebpf-bench: opens every engine on every case, checks that they all agree
 * on every answer, then times the cases one after another and reports.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* Engines of the report: uebpf's by enum uebpf_engine, then these two. */
enum {
	ENG_KERNEL = BENCH_NUEBPF_ENGINES,
	ENG_NATIVE,
	NENGINES,
};

static const char *engine_name(int e)
{
	if (e < BENCH_NUEBPF_ENGINES)
		return bench_uebpf_engine_names[e];
	return e == ENG_KERNEL ? "kernel" : "native";
}

static const struct bench_timing full_timing = {
	.slice_ns = 3e6,
	.budget_ns = 6000000000u,
	.min_rounds = 20,
};

/* For a CI smoke test: enough to exercise every path, too little to mean anything. */
static const struct bench_timing quick_timing = {
	.slice_ns = 1e6,
	.budget_ns = 20000000u,
	.min_rounds = 3,
};

struct options {
	const char *csv;
	const struct bench_timing *timing;
	bool want[NENGINES];
	uint64_t probe_runs;
};

/* One case and its engines, in engine order; NULL where an engine is absent. */
struct slot {
	const struct bench_case *c;
	struct bench_impl *impl[NENGINES];
};

static void usage(FILE *f)
{
	fprintf(f, "usage: uebpf-bench [--csv PATH] [--quick] [--engines LIST] [--no-kernel]\n"
		   "       uebpf-bench --insns-probe RUNS\n"
		   "LIST: comma-separated engines among interp, jit, aot, kernel, native\n");
}

static int parse_engines(char *list, bool *want)
{
	memset(want, 0, NENGINES * sizeof(*want));
	for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
		size_t e = 0;

		while (e < NENGINES && strcmp(tok, engine_name((int)e)))
			e++;
		if (e == NENGINES) {
			fprintf(stderr, "uebpf-bench: unknown engine '%s'\n", tok);
			return -EINVAL;
		}
		want[e] = true;
	}
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"csv", required_argument, NULL, 'c'},
		{"quick", no_argument, NULL, 'q'},
		{"engines", required_argument, NULL, 'e'},
		{"no-kernel", no_argument, NULL, 'k'},
		{"insns-probe", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool no_kernel = false;
	char *end;
	int opt;

	*o = (struct options){.timing = &full_timing};
	for (size_t e = 0; e < NENGINES; e++)
		o->want[e] = true;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			o->csv = optarg;
			break;
		case 'q':
			o->timing = &quick_timing;
			break;
		case 'e':
			if (parse_engines(optarg, o->want))
				return -EINVAL;
			break;
		case 'k':
			no_kernel = true;
			break;
		case 'p':
			errno = 0;
			o->probe_runs = strtoull(optarg, &end, 10);
			if (errno || *end || !o->probe_runs) {
				fprintf(stderr, "uebpf-bench: --insns-probe wants a run count\n");
				return -EINVAL;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "uebpf-bench: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (no_kernel)
		o->want[ENG_KERNEL] = false;
	return 0;
}

/*
 * Open the wanted engines on every case. A uebpf engine missing from this
 * build is left out, and so is the kernel when it refuses: both with a word
 * on stdout. A uebpf engine that is built but cannot load a program fails.
 */
static int open_all(struct slot *slots, size_t n, const struct options *o)
{
	bool use[NENGINES];
	char err[2048];

	memcpy(use, o->want, sizeof(use));
	for (int e = 0; e < BENCH_NUEBPF_ENGINES; e++) {
		if (use[e] && !bench_uebpf_engine_built(e)) {
			printf("engine    %s: not in this build, left out\n", engine_name(e));
			use[e] = false;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct slot *s = &slots[i];

		for (int e = 0; e < BENCH_NUEBPF_ENGINES; e++) {
			if (!use[e])
				continue;
			s->impl[e] = bench_uebpf_open(e, s->c, err, sizeof(err));
			if (!s->impl[e]) {
				fprintf(stderr, "uebpf-bench: %s cannot load %s: %s\n",
					engine_name(e), s->c->test, err);
				return -EINVAL;
			}
		}
		if (use[ENG_KERNEL]) {
			s->impl[ENG_KERNEL] = bench_kernel_open(s->c, err, sizeof(err));
			if (!s->impl[ENG_KERNEL]) {
				printf("engine    kernel: left out: %s\n", err);
				use[ENG_KERNEL] = false;
			}
		}
		if (use[ENG_NATIVE]) {
			s->impl[ENG_NATIVE] = bench_native_open(s->c);
			if (!s->impl[ENG_NATIVE]) {
				fprintf(stderr, "uebpf-bench: out of memory\n");
				return -ENOMEM;
			}
		}
	}
	/* a kernel that refused a later case is left out of the earlier ones too */
	for (size_t i = 0; i < n && !use[ENG_KERNEL]; i++) {
		bench_impl_free(slots[i].impl[ENG_KERNEL]);
		slots[i].impl[ENG_KERNEL] = NULL;
	}
	printf("engines  ");
	for (int e = 0; e < NENGINES; e++) {
		if (use[e])
			printf(" %s", engine_name(e));
	}
	printf("\n");
	for (int e = 0; e < NENGINES; e++) {
		if (use[e])
			return 0;
	}
	fprintf(stderr, "uebpf-bench: no engine left to run\n");
	return -ENOENT;
}

/* Every engine's answer to every case, before any timing. */
static int verify_all(const struct slot *slots, size_t n)
{
	char err[512];
	int ret;

	for (size_t i = 0; i < n; i++) {
		for (int e = 0; e < NENGINES; e++) {
			if (!slots[i].impl[e])
				continue;
			ret = bench_check(slots[i].impl[e], err, sizeof(err));
			if (ret) {
				fprintf(stderr, "uebpf-bench: not timing anything: %s\n", err);
				return ret;
			}
		}
	}
	printf("checked   every engine returns the native twin's answer:");
	for (size_t i = 0; i < n; i++) {
		if (slots[i].c->param)
			printf(" %zu B 0x%04" PRIx64, slots[i].c->param, slots[i].c->expect);
	}
	printf("\n");
	return 0;
}

static double ratio(const struct bench_stats *st, const struct bench_impl *ref,
		    const struct bench_stats *ref_st)
{
	return ref && ref_st->median > 0 ? st->median / ref_st->median : NAN;
}

/* Time one case and append its rows. */
static int time_slot(struct slot *s, const struct bench_timing *t, struct bench_row *rows,
		     size_t *nrows)
{
	struct bench_impl *impls[NENGINES];
	struct bench_stats st[NENGINES];
	size_t n = 0, first = *nrows;
	char err[512];
	int ret;

	for (int e = 0; e < NENGINES; e++) {
		if (s->impl[e])
			impls[n++] = s->impl[e];
	}
	ret = bench_time_case(impls, n, t, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "uebpf-bench: %s\n", err);
		return ret;
	}
	for (int e = 0; e < NENGINES; e++) {
		if (s->impl[e])
			bench_stats(s->impl[e], &st[e]);
	}
	for (int e = 0; e < NENGINES; e++) {
		if (!s->impl[e])
			continue;
		rows[(*nrows)++] = (struct bench_row){
			.test = s->c->test,
			.param = s->c->param,
			.engine = engine_name(e),
			.st = st[e],
			.ratio_native = ratio(&st[e], s->impl[ENG_NATIVE], &st[ENG_NATIVE]),
			.ratio_kernel = ratio(&st[e], s->impl[ENG_KERNEL], &st[ENG_KERNEL]),
		};
	}
	bench_report_rows(stdout, rows + first, *nrows - first);
	return 0;
}

static int bench(const struct options *o, struct slot *slots, size_t n, struct bench_row *rows)
{
	const struct bench_timing *t = o->timing;
	bool want_uebpf[BENCH_NUEBPF_ENGINES];
	size_t nrows = 0;
	char err[512];
	int ret;

	ret = open_all(slots, n, o);
	if (!ret)
		ret = verify_all(slots, n);
	if (ret)
		return ret;
	printf("timing    slices of ~%.0f ms taking turns for %.2f s per test; thread CPU time, "
	       "the kernel's test_run duration (whole ns)\n\n",
	       t->slice_ns / 1e6, (double)t->budget_ns / 1e9);
	bench_report_head(stdout, "bytes");
	for (size_t i = 0; i < n; i++) {
		ret = time_slot(&slots[i], t, rows, &nrows);
		if (ret)
			return ret;
	}
	for (int e = 0; e < BENCH_NUEBPF_ENGINES; e++)
		want_uebpf[e] = o->want[e] && bench_uebpf_engine_built(e);
	ret = bench_compile(want_uebpf, o->want[ENG_KERNEL], t == &quick_timing, rows, &nrows);
	if (ret)
		return ret;
	if (o->csv) {
		ret = bench_report_csv(o->csv, rows, nrows, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "uebpf-bench: %s\n", err);
			return ret;
		}
		printf("\nwrote %s\n", o->csv);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct bench_case *cases;
	struct slot *slots;
	struct bench_row *rows;
	size_t n;
	int ret;

	if (parse_options(argc, argv, &o)) {
		usage(stderr);
		return 2;
	}
	if (o.probe_runs)
		return bench_insns_probe(o.probe_runs) ? 1 : 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	bench_print_system(stdout);
	cases = bench_cases(&n);
	if (!cases) {
		fprintf(stderr, "uebpf-bench: out of memory\n");
		return 1;
	}
	slots = calloc(n, sizeof(*slots));
	rows = calloc(n * NENGINES + BENCH_NUEBPF_ENGINES + 2, sizeof(*rows));
	if (slots && rows) {
		for (size_t i = 0; i < n; i++)
			slots[i].c = &cases[i];
		ret = bench(&o, slots, n, rows);
	} else {
		fprintf(stderr, "uebpf-bench: out of memory\n");
		ret = -ENOMEM;
	}
	for (size_t i = 0; slots && i < n; i++) {
		for (int e = 0; e < NENGINES; e++)
			bench_impl_free(slots[i].impl[e]);
	}
	free(rows);
	free(slots);
	bench_cases_free(cases, n);
	return ret ? 1 : 0;
}
