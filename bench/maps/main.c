// SPDX-License-Identifier: MIT
/*
 * uebpf-bench-maps: the map benchmark of `make bench`. Measures the kernel
 * in this process (plain libbpf, the real bpf()), then each uebpf engine
 * in a worker process (maps_bench.h says why two executables), and prints
 * ns per operation, the ratio of each engine to the kernel and whether the
 * JIT and AOT engines meet the targets; --csv writes the same.
 * Every engine's runs must do what the kernel's do (same successful
 * operations per run), else the exit status is 1. Without the privilege to
 * load into the kernel, uebpf's engines are measured alone.
 *
 * uebpf's programs are verified, as the kernel verifies its copy;
 * --no-verify loads them with UEBPF_VERIFY=0, keeping run-time memory checks.
 *
 *   uebpf-bench-maps [--csv PATH] [--quick] [--no-verify] [--obj OBJ] [--worker PATH]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "maps_bench.h"

#define NROWS_MAX 32

enum { ENG_KERNEL, ENG_INTERP, ENG_JIT, ENG_AOT, NENG };

static const char *const eng_names[NENG] = {"kernel", "interp", "jit", "aot"};

/* Run the worker for one engine and read its rows; 0 or -1 with a message printed. */
static int run_worker(const char *worker, const char *obj, const struct maps_timing *t,
		      const char *engine, bool verify, struct maps_result *res)
{
	char cmd[4096], line[256], prog[64];
	unsigned retval;
	double ns;
	FILE *p;
	int status;

	snprintf(cmd, sizeof(cmd),
		 "UEBPF_ENGINE=%s UEBPF_AOT_FALLBACK=0 UEBPF_VERIFY=%d '%s' '%s' %u %u", engine,
		 verify, worker, obj, t->batches, t->repeat);
	p = popen(cmd, "r");
	if (!p) {
		fprintf(stderr, "uebpf-bench-maps: cannot run %s: %s\n", worker, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), p)) {
		if (sscanf(line, "%63s %u %lf", prog, &retval, &ns) != 3)
			continue;
		for (unsigned i = 0; i < maps_nrows; i++) {
			if (strcmp(prog, maps_rows[i].prog))
				continue;
			res[i] = (struct maps_result){true, retval, ns};
		}
	}
	status = pclose(p);
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "uebpf-bench-maps: the %s worker failed\n", engine);
		return -1;
	}
	return 0;
}

static const char *verdict(const struct maps_row *row, const struct maps_result *k,
			   const struct maps_result *jit, const struct maps_result *aot)
{
	if (!row->target || !k->ok || !jit->ok || !aot->ok)
		return "";
	return jit->ns_per_op <= row->target * k->ns_per_op &&
			       aot->ns_per_op <= row->target * k->ns_per_op
		       ? "met"
		       : "MISSED";
}

static void report(FILE *out, struct maps_result res[NENG][NROWS_MAX])
{
	fprintf(out, "%-28s %9s %9s %9s %9s %8s %8s %8s  %s\n", "operation (ns/op)", "kernel",
		"interp", "jit", "aot", "jit/k", "aot/k", "target", "");
	for (unsigned i = 0; i < maps_nrows; i++) {
		const struct maps_row *row = &maps_rows[i];
		const struct maps_result *k = &res[ENG_KERNEL][i];

		fprintf(out, "%-28s", row->label);
		for (unsigned e = 0; e < NENG; e++) {
			if (res[e][i].ok)
				fprintf(out, " %9.2f", res[e][i].ns_per_op);
			else
				fprintf(out, " %9s", "-");
		}
		for (unsigned e = ENG_JIT; e <= ENG_AOT; e++) {
			if (k->ok && res[e][i].ok && k->ns_per_op > 0)
				fprintf(out, " %8.2f", res[e][i].ns_per_op / k->ns_per_op);
			else
				fprintf(out, " %8s", "-");
		}
		if (row->target)
			fprintf(out, " %7s%.1f", "<=", row->target);
		else
			fprintf(out, " %8s", "");
		fprintf(out, "  %s\n", verdict(row, k, &res[ENG_JIT][i], &res[ENG_AOT][i]));
	}
}

static int write_csv(const char *path, struct maps_result res[NENG][NROWS_MAX])
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "uebpf-bench-maps: %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f, "op,engine,ns_per_op,ratio_kernel,ops_ok_per_run,target_ratio\n");
	for (unsigned i = 0; i < maps_nrows; i++) {
		const struct maps_result *k = &res[ENG_KERNEL][i];

		for (unsigned e = 0; e < NENG; e++) {
			const struct maps_result *r = &res[e][i];

			if (!r->ok)
				continue;
			fprintf(f, "%s,%s,%.3f,", maps_rows[i].prog, eng_names[e], r->ns_per_op);
			if (k->ok && k->ns_per_op > 0)
				fprintf(f, "%.3f", r->ns_per_op / k->ns_per_op);
			fprintf(f, ",%u,", r->retval);
			if (maps_rows[i].target && (e == ENG_JIT || e == ENG_AOT))
				fprintf(f, "%.1f", maps_rows[i].target);
			fputc('\n', f);
		}
	}
	return fclose(f) ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"csv", required_argument, NULL, 'c'},
		{"quick", no_argument, NULL, 'q'},
		{"obj", required_argument, NULL, 'o'},
		{"worker", required_argument, NULL, 'w'},
		{"no-verify", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	static struct maps_result res[NENG][NROWS_MAX];
	struct maps_timing t = {30, 10};
	const char *csv = NULL, *obj = BENCH_MAPS_OBJ, *worker = BENCH_MAPS_WORKER;
	char err[512] = "";
	bool verify = true;
	int opt, bad = 0;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			csv = optarg;
			break;
		case 'q':
			t = (struct maps_timing){1, 2};
			break;
		case 'o':
			obj = optarg;
			break;
		case 'w':
			worker = optarg;
			break;
		case 'v':
			verify = false;
			break;
		case 'h':
			printf("usage: uebpf-bench-maps [--csv PATH] [--quick] [--no-verify] [--obj "
			       "OBJ] "
			       "[--worker PATH]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (maps_nrows > NROWS_MAX)
		return 1;
	if (maps_measure(obj, &t, res[ENG_KERNEL], err, sizeof(err)))
		printf("kernel: not measured (%s)\n", err);
	for (unsigned e = ENG_INTERP; e < NENG; e++)
		if (run_worker(worker, obj, &t, eng_names[e], verify, res[e]))
			bad = 1;
	for (unsigned i = 0; i < maps_nrows; i++) {
		for (unsigned e = ENG_INTERP; e < NENG; e++) {
			const struct maps_result *k = &res[ENG_KERNEL][i], *r = &res[e][i];

			if (k->ok && r->ok && k->retval != r->retval) {
				fprintf(stderr,
					"uebpf-bench-maps: %s on %s: %u operations succeeded per "
					"run, the kernel's %u\n",
					maps_rows[i].prog, eng_names[e], r->retval, k->retval);
				bad = 1;
			}
		}
	}
	printf("Map operations from inside a program, %u per run, fastest of %u batches of %u "
	       "runs (timings on a shared machine: compare ratios)\n",
	       MAPS_OPS, t.batches, t.repeat);
	report(stdout, res);
	if (csv && write_csv(csv, res))
		bad = 1;
	return bad;
}
