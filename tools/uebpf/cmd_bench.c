// SPDX-License-Identifier: MIT
/*
 * uebpf bench SUITE.yaml: run a benchmark suite (bench/suite) on uebpf's
 * engines, the kernel and native twins; print the table, write CSV and
 * HTML, compare with a baseline.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "suite.h"

static const char bench_usage[] =
	"Usage: uebpf bench SUITE.yaml [--engine E] [--kernel] [--native] [--csv OUT]\n"
	"                   [--ext-csv OUT] [--history FILE] [--compare BASELINE.csv]\n"
	"                   [--html OUT.html] [--batches N] [--iterations N] [--slice-ms N]\n"
	"                   [--quiet-filter] [--obj-dir DIR] [--callgrind[=RUNS]]\n"
	"\n"
	"Run a suite in bpf_performance's YAML format: each test's programs are\n"
	"loaded from its ELF object by libbpf into uebpf and test-run\n"
	"(BPF_PROG_TEST_RUN, iteration_count runs per batch) on each engine, the\n"
	"engines taking turns in short slices timed by each thread's CPU clock.\n"
	"Prints per test and engine the median, mean, stddev, p95 and min ns per\n"
	"run over the batches, and the ratios to the kernel and the native twin.\n"
	"\n"
	"  --engine E        interp, jit, aot or all (default); repeat or give a\n"
	"                    comma-separated list for several\n"
	"  --kernel          also run the same object in the kernel (needs root)\n"
	"  --native          also run the native C twins the suite names\n"
	"  --csv OUT         bpf_performance's CSV (one test per engine: NAME [engine])\n"
	"  --ext-csv OUT     the extended CSV: statistics and batch samples, with\n"
	"                    machine, kernel, compiler and commit in '#' lines\n"
	"  --history FILE    append the extended rows to FILE (the HTML report then\n"
	"                    charts the history)\n"
	"  --compare BASE    Mann-Whitney U on the batch samples against the last\n"
	"                    run in the extended CSV BASE; exit 1 when a test got\n"
	"                    slower (p < 0.01 and the median moved over 5%)\n"
	"  --html OUT        a self-contained HTML report with SVG charts\n"
	"  --batches N       batches per test (default 10)\n"
	"  --iterations N    override every test's iteration_count\n"
	"  --slice-ms N      length of a slice (default 2 ms)\n"
	"  --quiet-filter    drop slices during which a reference loop's time changed\n"
	"                    by more than 10%\n"
	"  --obj-dir DIR     where to look for objects not next to the suite (default:\n"
	"                    $UEBPF_BENCH_OBJ_DIR, else this build's suite objects)\n"
	"  --callgrind[=N]   instead of timing, count host instructions per run with\n"
	"                    valgrind's callgrind (exact: RUNS and 2 RUNS runs, 200 by\n"
	"                    default, the difference over RUNS) on uebpf's engines\n"
	"                    and, with --native, the native twins; --ext-csv gets\n"
	"                    'insns' rows\n"
	"\n"
	"Exit status: 0, 1 when the suite is bad, a run fails or --compare found a\n"
	"regression, 2 for a bad command line.\n";

struct bench_opts {
	struct suite_options run;
	bool engine_given;
	const char *suite, *csv, *ext_csv, *history, *compare, *html, *obj_dir;
	uint64_t iterations;
	uint64_t callgrind; /* runs counted; 0: a timed run */
	bool help;
	int argc;
	char **argv;
};

static int parse_count(const char *arg, uint64_t max, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(arg, &end, 10);
	return errno || *end || !isdigit((unsigned char)arg[0]) || !*v || *v > max ? -EINVAL : 0;
}

static int parse_engines(struct bench_opts *o, const char *arg)
{
	char list[256];

	if (!o->engine_given) {
		o->run.engines[SUITE_INTERP] = o->run.engines[SUITE_JIT] =
			o->run.engines[SUITE_AOT] = false;
		o->engine_given = true;
	}
	/* a copy: argv stays whole for the callgrind pass's command line */
	snprintf(list, sizeof(list), "%s", arg);
	for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
		int e = suite_engine_parse(tok);

		if (!strcmp(tok, "all")) {
			o->run.engines[SUITE_INTERP] = o->run.engines[SUITE_JIT] =
				o->run.engines[SUITE_AOT] = true;
		} else if (e >= 0 && e <= SUITE_AOT) {
			o->run.engines[e] = true;
		} else {
			return cli_usage_error("bench",
					       "unknown engine '%s' (interp, jit, aot, all; the "
					       "kernel and native twins have --kernel, --native)",
					       tok);
		}
	}
	return CLI_OK;
}

static int parse_opts(int argc, char **argv, struct bench_opts *o)
{
	static const struct option opts[] = {
		{"engine", required_argument, NULL, 'e'},
		{"kernel", no_argument, NULL, 'k'},
		{"native", no_argument, NULL, 'n'},
		{"csv", required_argument, NULL, 'c'},
		{"ext-csv", required_argument, NULL, 'x'},
		{"history", required_argument, NULL, 'H'},
		{"compare", required_argument, NULL, 'C'},
		{"html", required_argument, NULL, 'w'},
		{"batches", required_argument, NULL, 'b'},
		{"iterations", required_argument, NULL, 'i'},
		{"slice-ms", required_argument, NULL, 's'},
		{"quiet-filter", no_argument, NULL, 'q'},
		{"obj-dir", required_argument, NULL, 'o'},
		{"callgrind", optional_argument, NULL, 'g'},
		{"insns-child", required_argument, NULL, 'I'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	uint64_t v;
	int opt, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'e':
			ret = parse_engines(o, optarg);
			if (ret)
				return ret;
			break;
		case 'k':
			o->run.engines[SUITE_KERNEL] = true;
			break;
		case 'n':
			o->run.engines[SUITE_NATIVE] = true;
			break;
		case 'c':
			o->csv = optarg;
			break;
		case 'x':
			o->ext_csv = optarg;
			break;
		case 'H':
			o->history = optarg;
			break;
		case 'C':
			o->compare = optarg;
			break;
		case 'w':
			o->html = optarg;
			break;
		case 'b':
			if (parse_count(optarg, 100000, &v))
				return cli_usage_error("bench", "invalid batch count '%s'", optarg);
			o->run.batches = (unsigned)v;
			break;
		case 'i':
			if (parse_count(optarg, UINT32_MAX, &o->iterations))
				return cli_usage_error("bench", "invalid iteration count '%s'",
						       optarg);
			break;
		case 's':
			if (parse_count(optarg, 10000, &v))
				return cli_usage_error("bench", "invalid slice length '%s'",
						       optarg);
			o->run.slice_ns = (double)v * 1e6;
			break;
		case 'q':
			o->run.quiet_filter = true;
			break;
		case 'o':
			o->obj_dir = optarg;
			break;
		case 'g':
			o->callgrind = 200;
			if (optarg && parse_count(optarg, 1000000, &o->callgrind))
				return cli_usage_error("bench", "invalid run count '%s'", optarg);
			break;
		case 'I':
			if (parse_count(optarg, 1000000, &o->run.insns_runs))
				return cli_usage_error("bench", "invalid run count '%s'", optarg);
			break;
		case 'h':
			o->help = true;
			return CLI_OK;
		default:
			return cli_bad_option("bench", opt, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("bench", "expected one SUITE.yaml, got %d arguments",
				       argc - optind);
	o->suite = argv[optind];
	return CLI_OK;
}

static void print_system(const struct suite_results *r)
{
	printf("machine   %s\nkernel    %s\ncompiler  %s (native twins)\ncommit    %s\n\n",
	       r->sys.machine, r->sys.kernel, r->sys.compiler, r->sys.commit);
}

static int write_outputs(const struct bench_opts *o, const struct suite *s,
			 const struct suite_results *r)
{
	struct suite_history h = {0};
	char err[512];
	int ret = 0;

	if (o->csv)
		ret = suite_csv_write_bpf(o->csv, r, err, sizeof(err));
	if (!ret && o->ext_csv)
		ret = suite_csv_write_ext(o->ext_csv, r, true, false, err, sizeof(err));
	if (!ret && o->history)
		ret = suite_csv_write_ext(o->history, r, true, true, err, sizeof(err));
	if (!ret && o->html && o->history)
		ret = suite_history_read(o->history, &h, err, sizeof(err));
	if (!ret && o->html)
		ret = suite_html_write(o->html, s, r, o->history ? &h : NULL, err, sizeof(err));
	suite_history_free(&h);
	return ret ? cli_error("bench", "%s", err) : CLI_OK;
}

static int compare(const struct bench_opts *o, const struct suite_results *cur,
		   const struct suite_results *base)
{
	struct suite_compare_opts co = {.alpha = 0.01, .min_shift = 0.05};
	char err[512];
	int regressions;

	if (suite_compare(cur, base, &co, stdout, &regressions, err, sizeof(err)))
		return cli_error("bench", "--compare %s: %s", o->compare, err);
	return regressions ? CLI_FAIL : CLI_OK;
}

/*
 * The callgrind pass: this executable under callgrind with --insns-child,
 * the suite and the options that choose what runs (engines, native twins,
 * objects); not the kernel, out of callgrind's sight.
 */
static int callgrind(struct bench_opts *o, const struct suite *s, struct suite_results *res)
{
	char exe[4096], runs[32], err[1024];
	char *argv[o->argc + 4];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t n = 0;
	int ret;

	if (len <= 0)
		return cli_error("bench", "cannot find this executable: %s", strerror(errno));
	exe[len] = '\0';
	snprintf(runs, sizeof(runs), "%llu", (unsigned long long)o->callgrind);
	argv[n++] = exe;
	argv[n++] = "bench";
	argv[n++] = (char *)o->suite;
	argv[n++] = "--insns-child";
	argv[n++] = runs;
	for (int i = 1; i < o->argc; i++) {
		const char *a = o->argv[i];

		/* only the options that choose what runs: engines, native twins, objects */
		if (!strncmp(a, "--engine", 8) || !strcmp(a, "--native") ||
		    !strncmp(a, "--obj-dir", 9)) {
			argv[n++] = o->argv[i];
			if (!strchr(a, '=') && strcmp(a, "--native") && i + 1 < o->argc)
				argv[n++] = o->argv[++i];
		}
	}
	argv[n] = NULL;
	ret = suite_callgrind(argv, s, o->callgrind, res, err, sizeof(err));
	if (ret)
		return cli_error("bench", "--callgrind: %s", err);
	suite_insns_table(stdout, res->rows, res->n);
	return CLI_OK;
}

static int bench(struct bench_opts *o)
{
	struct suite_results res = {0}, base = {0};
	struct suite s;
	char err[1024];
	const char *obj_dir = o->obj_dir ?: getenv("UEBPF_BENCH_OBJ_DIR") ?: UEBPF_SUITE_OBJ_DIR;
	int ret;

	if (suite_parse_file(o->suite, &s, err, sizeof(err)))
		return cli_error("bench", "%s", err);
	ret = suite_resolve(&s, obj_dir, err, sizeof(err));
	if (!ret && o->compare)
		ret = suite_csv_read(o->compare, &base, err, sizeof(err));
	if (ret) {
		suite_free(&s);
		suite_results_free(&base);
		return cli_error("bench", "%s", err);
	}
	for (size_t i = 0; i < s.ntests && o->iterations; i++)
		s.tests[i].iteration_count = o->iterations;
	suite_sysinfo_get(&res.sys);
	if (o->callgrind) {
		print_system(&res);
		ret = callgrind(o, &s, &res);
		if (!ret && o->ext_csv &&
		    suite_csv_write_ext(o->ext_csv, &res, false, false, err, sizeof(err)))
			ret = cli_error("bench", "%s", err);
		suite_results_free(&res);
		suite_results_free(&base);
		suite_free(&s);
		return ret;
	}
	if (o->run.insns_runs)
		o->run.engines[SUITE_KERNEL] = false;
	else
		print_system(&res);
	if (!o->run.insns_runs) {
		suite_table_head(stdout);
		o->run.table = stdout;
	}
	ret = suite_run(&s, &o->run, &res, err, sizeof(err));
	if (ret)
		ret = cli_error("bench", "%s", err);
	else if (!o->run.insns_runs)
		ret = write_outputs(o, &s, &res);
	if (!ret && o->compare)
		ret = compare(o, &res, &base);
	suite_results_free(&res);
	suite_results_free(&base);
	suite_free(&s);
	return ret;
}

int cmd_bench(int argc, char **argv)
{
	struct bench_opts o = {0};
	int ret;

	suite_options_default(&o.run);
	o.run.kernel_helper = getenv("UEBPF_SUITE_KERNEL") ?: UEBPF_SUITE_KERNEL_HELPER;
	o.argc = argc;
	o.argv = argv;
	ret = parse_opts(argc, argv, &o);
	if (ret)
		return ret;
	if (o.help) {
		fputs(bench_usage, stdout);
		return CLI_OK;
	}
	return bench(&o);
}
