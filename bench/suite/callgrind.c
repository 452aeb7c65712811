// SPDX-License-Identifier: MIT
/*
 * Exact counts: host instructions per run, from callgrind, free of the
 * machine's timing noise. The suite runs again in a child process under
 * valgrind --tool=callgrind (the CLI's callgrind pass, suite_options'
 * insns_runs), which dumps callgrind's counters once per instance and run
 * count (run.c: count_insns), each dump labelled
 * "SUITE_INSNS_LABEL TEST_INDEX SIZE ENGINE RUNS THREADS". Here the dumps
 * are read back: an instance's instructions per run are the difference
 * between its 2N-run and N-run dumps over N runs on each of its threads. The kernel's runs are out
 * of callgrind's sight; uprobe and verifier tests are left out (patching code under valgrind's
 * translation is not what they measure).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "suite.h"

extern char **environ;

struct dump {
	size_t test;
	uint32_t size;
	int engine;
	uint64_t runs;
	size_t threads; /* each ran runs runs */
	double ir;
};

struct dumps {
	struct dump *d;
	size_t n;
};

/* The label and the instruction total of one dump file; 0, or -ENOENT when not ours. */
static int read_dump(const char *path, struct dump *d)
{
	FILE *f = fopen(path, "r");
	char line[512], engine[16];
	bool labelled = false, counted = false;
	unsigned long long runs, ir;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && !(labelled && counted)) {
		const char *label = strstr(line, SUITE_INSNS_LABEL " ");

		if (!strncmp(line, "desc: Trigger: Client Request: ", 31) && label &&
		    sscanf(label + strlen(SUITE_INSNS_LABEL), "%zu %u %15s %llu %zu", &d->test,
			   &d->size, engine, &runs, &d->threads) == 5 &&
		    d->threads) {
			d->engine = suite_engine_parse(engine);
			d->runs = runs;
			labelled = d->engine >= 0;
		} else if ((sscanf(line, "summary: %llu", &ir) == 1 ||
			    sscanf(line, "totals: %llu", &ir) == 1)) {
			d->ir = (double)ir;
			counted = true;
		}
	}
	fclose(f);
	return labelled && counted ? 0 : -ENOENT;
}

/* Every labelled dump in dir, each file removed once read. */
static int read_dumps(const char *dir, struct dumps *out)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	char path[4096];

	if (!dp)
		return -errno;
	while ((e = readdir(dp))) {
		struct dump d;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (!read_dump(path, &d)) {
			struct dump *more = realloc(out->d, (out->n + 1) * sizeof(*more));

			if (!more) {
				closedir(dp);
				return -ENOMEM;
			}
			out->d = more;
			out->d[out->n++] = d;
		}
		unlink(path);
	}
	closedir(dp);
	return 0;
}

static int dump_order(const void *pa, const void *pb)
{
	const struct dump *a = pa, *b = pb;

	if (a->test != b->test)
		return a->test < b->test ? -1 : 1;
	if (a->size != b->size)
		return a->size < b->size ? -1 : 1;
	return a->engine - b->engine;
}

static const struct dump *find(const struct dumps *ds, const struct dump *like, uint64_t runs)
{
	for (size_t i = 0; i < ds->n; i++) {
		const struct dump *d = &ds->d[i];

		if (d->test == like->test && d->size == like->size && d->engine == like->engine &&
		    d->runs == runs)
			return d;
	}
	return NULL;
}

static int run_child(char *const argv[], const char *dir, char *err, size_t err_len)
{
	char out[4200];
	size_t n = 0;
	pid_t pid;
	int status, ret;

	while (argv[n])
		n++;
	char *vg[n + 6];

	snprintf(out, sizeof(out), "--callgrind-out-file=%s/cg.out", dir);
	vg[0] = "valgrind";
	vg[1] = "--tool=callgrind";
	vg[2] = "--smc-check=all";
	vg[3] = "-q";
	vg[4] = out;
	memcpy(vg + 5, argv, (n + 1) * sizeof(*vg));
	ret = posix_spawnp(&pid, "valgrind", NULL, NULL, vg, environ);
	if (ret) {
		errbuf_set(err, err_len, "cannot run valgrind: %s (it is in scripts/setup.sh)",
			   strerror(ret));
		return -ret;
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		errbuf_set(err, err_len, "the run under callgrind failed (status %d)", status);
		return -ECHILD;
	}
	return 0;
}

int suite_callgrind(char *const argv[], const struct suite *s, uint64_t runs,
		    struct suite_results *out, char *err, size_t err_len)
{
	char dir[] = "/tmp/uebpf-callgrind-XXXXXX";
	struct dumps ds = {0};
	size_t first = out->n;
	int ret;

	if (!runs) {
		errbuf_set(err, err_len, "no runs to count");
		return -EINVAL;
	}
#ifdef __SANITIZE_ADDRESS__
	errbuf_set(err, err_len, "this is a sanitizer build, which valgrind cannot run");
	return -ENOTSUP;
#endif
	if (!mkdtemp(dir)) {
		errbuf_set(err, err_len, "cannot make a directory for callgrind: %s",
			   strerror(errno));
		return -errno;
	}
	ret = run_child(argv, dir, err, err_len);
	if (read_dumps(dir, &ds) && !ret) {
		errbuf_set(err, err_len, "cannot read callgrind's dumps in %s", dir);
		ret = -EIO;
	}
	rmdir(dir);
	if (ds.n)
		qsort(ds.d, ds.n, sizeof(*ds.d), dump_order);
	for (size_t i = 0; !ret && i < ds.n; i++) {
		const struct dump *one = &ds.d[i], *two = find(&ds, one, 2 * runs);
		struct suite_result r = {.size = one->size, .engine = one->engine};

		if (one->runs != runs || !two || one->test >= s->ntests)
			continue;
		r.test = s->tests[one->test].name;
		r.insns = (two->ir - one->ir) / (double)runs / (double)one->threads;
		r.ratio_kernel = r.ratio_native = NAN;
		benchlib_stats_compute(NULL, 0, &r.st);
		for (int c = 0; c < SUITE_MAX_CPUS; c++)
			r.cpu_ns[c] = NAN;
		if (suite_results_add(out, &r)) {
			errbuf_set(err, err_len, "out of memory");
			ret = -ENOMEM;
		}
	}
	free(ds.d);
	for (size_t i = first; !ret && i < out->n; i++) {
		for (size_t j = first; j < out->n; j++) {
			const struct suite_result *a = &out->rows[i], *b = &out->rows[j];

			if (b->engine == SUITE_NATIVE && b->size == a->size &&
			    !strcmp(a->test, b->test) && b->insns > 0)
				out->rows[i].ratio_native = a->insns / b->insns;
		}
	}
	if (!ret && out->n == first) {
		errbuf_set(err, err_len,
			   "callgrind counted nothing (no test runs on these engines)");
		ret = -ENOENT;
	}
	return ret;
}
