// SPDX-License-Identifier: MIT
/*
 * Running a suite. For each test (and each data size of it), every engine
 * gets its own instance: the object loaded into uebpf on the interpreter,
 * the JIT and the AOT tier, into the kernel through the helper process, and
 * the native twin. Then, batch after batch, each instance runs the test's
 * iteration_count runs in slices of about slice_ns, the instances taking
 * turns slice by slice and each batch starting with the next one, so every
 * engine meets the machine's fast and slow moments alike. A batch gives
 * one sample per engine: the CPU ns of its kept slices over their runs.
 *
 * The quiet filter times a reference loop before and after each slice on
 * the slice's own threads; when the two differ by more than the threshold
 * the CPU changed speed during the slice and the slice is dropped (up to
 * a limit per batch, after which slices are kept whatever the loop says, so
 * a noisy machine slows the run down but never stalls it).
 *
 * Every slice's return values are checked: the native twin's answer where
 * the test names one, else expected_result (0 by default, as
 * bpf_performance expects).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "suite.h"

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND 1
#endif

/* Dropped slices allowed per instance and batch, beyond twice the slices it needs. */
#define QUIET_EXTRA_DROPS 8
/* 2-run calls that measure an instance's fixed cost per call. */
#define FIXED_PROBES 5
/* A slice is at least this many times an instance's fixed cost per call. */
#define FIXED_SHARE 10

struct inst {
	int engine;
	struct suite_obj *obj;
	struct suite_kernel *kernel;
	suite_native_fn native;
	struct suite_workers *workers; /* the native twin's */
	uint64_t slice_n;
	double fixed_ns;  /* CPU ns of a test-run call besides its runs */
	double target_ns; /* length of a slice */
	double *samples;
	size_t nsamples;
	double cpu_ns[SUITE_MAX_CPUS];
	double cpu_runs[SUITE_MAX_CPUS];
	uint64_t slices, dropped;
};

/* Everything one test variant needs while it runs. */
struct variant {
	const struct suite *s;
	const struct suite_options *o;
	const struct suite_test *t;
	size_t test_index;
	uint32_t size; /* 0: the test has no data_sizes (1024 B of data) */
	uint8_t *data;
	size_t len;
	uint32_t expect;
	int cpus[SUITE_MAX_CPUS]; /* where the native twin runs: the test's CPUs */
	size_t ncpus;
	uint64_t native_n;
	struct inst inst[SUITE_NENGINES];
	size_t ninst;
	size_t number, total; /* for the progress line */
};

static bool kernel_skipped; /* said once why; not tried again */

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress(const struct variant *v, const char *what, int engine, bool force)
{
	static double last;
	double now = wall_s();
	char name[160];

	if (!v->o->progress || (!force && now - last < 0.1))
		return;
	last = now;
	if (v->size)
		snprintf(name, sizeof(name), "%s [%u B]", v->t->name, v->size);
	else
		snprintf(name, sizeof(name), "%s", v->t->name);
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "\r\033[K[%zu/%zu] %s: %s %s", v->number, v->total, name, what,
			suite_engine_name(engine));
	else if (force)
		fprintf(stderr, "[%zu/%zu] %s: %s %s\n", v->number, v->total, name, what,
			suite_engine_name(engine));
}

static void progress_done(const struct suite_options *o)
{
	if (o->progress && isatty(STDERR_FILENO))
		fprintf(stderr, "\r\033[K");
}

struct native_arg {
	suite_native_fn fn;
	const uint8_t *data;
	size_t len;
	uint64_t n;
};

static int native_thread(void *p, int cpu, uint32_t *retval, double *ns, char *err, size_t err_len)
{
	struct native_arg *a = p;
	/* through a volatile pointer, so the compiler neither inlines nor hoists the call */
	suite_native_fn volatile fn = a->fn;
	uint64_t r = 0;

	(void)cpu;
	(void)ns;
	(void)err;
	(void)err_len;
	for (uint64_t i = 0; i < a->n; i++)
		r = fn(a->data, a->len);
	*retval = (uint32_t)r;
	return 0;
}

static int slice(struct variant *v, struct inst *in, uint64_t n, bool ref, struct suite_slice *res,
		 char *err, size_t err_len)
{
	struct native_arg a = {in->native, v->data, v->len, n};

	if (in->obj)
		return suite_obj_slice(in->obj, n, ref, res, err, err_len);
	if (in->kernel)
		return suite_kernel_slice(in->kernel, n, ref, res, err, err_len);
	return suite_workers_run(in->workers, native_thread, &a, ref, res, err, err_len);
}

/* The slice's CPU ns, the mean of its threads'. Checks every return value. */
static int slice_checked(struct variant *v, struct inst *in, uint64_t n, bool ref,
			 struct suite_slice *res, double *ns, char *err, size_t err_len)
{
	double sum = 0;
	int ret = slice(v, in, n, ref, res, err, err_len);

	if (ret)
		return ret;
	for (size_t i = 0; i < res->nthreads; i++) {
		if (res->retval[i] != v->expect) {
			errbuf_set(err, err_len,
				   "test '%s'%s on %s: CPU %d returned %u, expected %u%s",
				   v->t->name, v->size ? " (a data size)" : "",
				   suite_engine_name(in->engine), res->cpu[i], res->retval[i],
				   v->expect, v->t->native ? " (the native twin's answer)" : "");
			return -EDOM;
		}
		sum += res->ns[i];
	}
	*ns = sum / (double)res->nthreads;
	return 0;
}

/* The test-run calls a slice of n runs makes: one, or one per batch_size runs. */
static double calls(const struct variant *v, const struct inst *in, uint64_t n)
{
	uint32_t b = v->t->batch_size;

	if (in->native || !b)
		return 1;
	return (double)((n + b - 1) / b);
}

/* What a slice's runs cost, less its calls' fixed part. */
static double runs_ns(const struct variant *v, const struct inst *in, uint64_t n, double ns)
{
	return fmax(ns - in->fixed_ns * calls(v, in, n), 0);
}

/*
 * A test-run call costs a fixed part besides its runs: the kernel sets up
 * the packet and context (and for XDP with repeat > 1, a good deal more),
 * uebpf's emulation maps a buffer below 4 GiB and unmaps it, which in a
 * multi-threaded process on a VM means a TLB shootdown. That part is
 * hundreds of microseconds here and varies from call to call, so:
 * it is measured (the least time of a few 2-run calls, less the two runs)
 * and taken off every slice, so that what is reported is the cost of a
 * run whatever the iteration count; and slices are made long enough that
 * its variation is small against them (FIXED_SHARE times the fixed part,
 * and at least slice_ns of runs). The number of runs per slice is found by
 * doubling until the runs take a quarter of that length twice in a row.
 * With batch_size, a slice makes several calls, each with its fixed part.
 * Uprobe and verifier tests make no test-run call: they have no fixed part.
 */
static int calibrate(struct variant *v, struct inst *in, char *err, size_t err_len)
{
	uint64_t n = 1, cap = v->t->iteration_count;
	struct suite_slice res;
	double ns, per_run, call2 = INFINITY, target;
	int ret;

	/*
	 * A uprobe or syscall test's slice attaches and detaches its probe (for the
	 * instance's slices alone), which takes far longer than its runs: a
	 * slice is a whole batch, and no slice is spent on calibration.
	 */
	if (v->t->measure == SUITE_UPROBE || v->t->measure == SUITE_URETPROBE ||
	    v->t->measure == SUITE_SYSCALL) {
		in->slice_n = cap;
		in->target_ns = INFINITY;
		return 0;
	}
	for (int i = 0; i < FIXED_PROBES && v->t->measure == SUITE_TEST_RUN; i++) {
		ret = slice_checked(v, in, cap < 2 ? 1 : 2, false, &res, &ns, err, err_len);
		if (ret)
			return ret;
		call2 = fmin(call2, ns);
	}
	in->fixed_ns = isinf(call2) ? 0 : call2;
	target = fmax(v->o->slice_ns, FIXED_SHARE * in->fixed_ns);
	for (int above = 0;; n *= 2) {
		ret = slice_checked(v, in, n, false, &res, &ns, err, err_len);
		if (ret)
			return ret;
		/* twice in a row, so that one slow call does not stop it early */
		above = runs_ns(v, in, n, ns) >= target / 4 ? above + 1 : 0;
		if (above == 2 || n >= cap)
			break;
	}
	in->target_ns = target;
	per_run = fmax(runs_ns(v, in, n, ns), 1) / (double)n;
	if (!isinf(call2))
		in->fixed_ns = fmax(call2 - (cap < 2 ? 1 : 2) * per_run, 0);
	if (n >= cap && runs_ns(v, in, n, ns) < in->fixed_ns) {
		progress_done(v->o);
		fprintf(stderr,
			"uebpf bench: test '%s' on %s: %llu runs take less than one test-run "
			"call's own cost (%.0f us), so its figure is mostly that cost's noise; "
			"raise iteration_count\n",
			v->t->name, suite_engine_name(in->engine), (unsigned long long)cap,
			in->fixed_ns / 1e3);
	}
	in->slice_n = (uint64_t)(target / per_run);
	if (in->slice_n < 1)
		in->slice_n = 1;
	if (in->slice_n > cap)
		in->slice_n = cap;
	return 0;
}

static bool noisy(const struct suite_slice *res, double threshold)
{
	for (size_t i = 0; i < res->nthreads; i++) {
		double a = res->ref_before[i], b = res->ref_after[i];

		if (fabs(a - b) > threshold * fmin(a, b))
			return true;
	}
	return false;
}

static int open_inst(struct variant *v, int e, char *err, size_t err_len)
{
	struct inst *in = &v->inst[v->ninst];
	uint32_t size = v->size ? v->size : SUITE_DEFAULT_DATA;
	char why[512];
	int ret = 0;

	memset(in, 0, sizeof(*in));
	in->engine = e;
	progress(v, "loading on", e, true);
	if (e == SUITE_NATIVE) {
		in->native = suite_native_find(v->t->native);
		ret = suite_workers_open(v->cpus, v->ncpus, &in->workers, why, sizeof(why));
	} else if (e == SUITE_KERNEL) {
		ret = suite_kernel_open(v->o->kernel_helper, v->s->path, v->test_index, size,
					v->t->elf_path, &in->kernel, why, sizeof(why));
		if (ret == -EPERM) {
			progress_done(v->o);
			fprintf(stderr, "uebpf bench: kernel column skipped: %s\n", why);
			kernel_skipped = true;
			return 0;
		}
	} else {
		setenv("UEBPF_ENGINE", suite_engine_name(e), 1);
		ret = suite_obj_open(v->t, size, false, &in->obj, why, sizeof(why));
	}
	if (ret) {
		errbuf_set(err, err_len, "test '%s' on %s: %s", v->t->name, suite_engine_name(e),
			   why);
		return ret;
	}
	v->ninst++; /* close_insts closes it from here on */
	in->samples = calloc(v->o->batches, sizeof(*in->samples));
	if (!in->samples) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	return v->o->insns_runs ? 0 : calibrate(v, in, err, err_len);
}

static void close_insts(struct variant *v)
{
	for (size_t i = 0; i < v->ninst; i++) {
		suite_obj_close(v->inst[i].obj);
		suite_kernel_close(v->inst[i].kernel);
		suite_workers_close(v->inst[i].workers);
		free(v->inst[i].samples);
	}
	v->ninst = 0;
}

struct batch_state {
	uint64_t left;
	double ns; /* sum of kept slices' ns per run, weighted by their runs */
	uint64_t runs;
	uint64_t drops;
};

/* One slice of instance in; updates its batch state. */
static int one_slice(struct variant *v, struct inst *in, struct batch_state *b, char *err,
		     size_t err_len)
{
	uint64_t n = b->left < in->slice_n ? b->left : in->slice_n;
	uint64_t drop_limit = 2 * (v->t->iteration_count / in->slice_n + 1) + QUIET_EXTRA_DROPS;
	bool ref = v->o->quiet_filter && b->drops < drop_limit;
	struct suite_slice res;
	double ns, per_run;
	int ret;

	progress(v, "running", in->engine, false);
	ret = slice_checked(v, in, n, ref, &res, &ns, err, err_len);
	if (ret)
		return ret;
	in->slices++;
	if (ref && noisy(&res, v->o->quiet_threshold)) {
		in->dropped++;
		b->drops++;
		return 0;
	}
	per_run = runs_ns(v, in, n, ns) / (double)n;
	b->left -= n;
	b->ns += per_run * (double)n;
	b->runs += n;
	for (size_t i = 0; i < res.nthreads; i++) {
		in->cpu_ns[res.cpu[i]] += runs_ns(v, in, n, res.ns[i]);
		in->cpu_runs[res.cpu[i]] += (double)n;
	}
	return 0;
}

static int run_batches(struct variant *v, char *err, size_t err_len)
{
	struct batch_state b[SUITE_NENGINES];
	bool busy = true;
	int ret;

	for (unsigned batch = 0; batch < v->o->batches; batch++) {
		for (size_t i = 0; i < v->ninst; i++)
			b[i] = (struct batch_state){.left = v->t->iteration_count};
		busy = true;
		for (size_t round = batch; busy; round++) {
			busy = false;
			for (size_t k = 0; k < v->ninst; k++) {
				size_t i = (round + k) % v->ninst;

				if (!b[i].left)
					continue;
				ret = one_slice(v, &v->inst[i], &b[i], err, err_len);
				if (ret)
					return ret;
				busy |= b[i].left > 0;
			}
		}
		for (size_t i = 0; i < v->ninst; i++) {
			struct inst *in = &v->inst[i];
			double per_run = b[i].ns / (double)b[i].runs;

			in->samples[in->nsamples++] = per_run;
			/*
			 * A calibration misled by a slow call makes slices short, and
			 * the fixed cost's variation then weighs on each run: size the
			 * next batch's slices by this batch's runs.
			 */
			in->slice_n = (uint64_t)fmin(in->target_ns / fmax(per_run, 0.01),
						     (double)v->t->iteration_count);
			if (!in->slice_n)
				in->slice_n = 1;
		}
	}
	return 0;
}

static int collect(struct variant *v, struct suite_results *out, char *err, size_t err_len)
{
	size_t first = out->n;
	double kernel = NAN, native = NAN;

	for (size_t i = 0; i < v->ninst; i++) {
		struct inst *in = &v->inst[i];
		struct suite_result r = {.test = v->t->name,
					 .size = v->size,
					 .engine = in->engine,
					 .samples = in->samples,
					 .nsamples = in->nsamples,
					 .slices = in->slices,
					 .dropped = in->dropped,
					 .insns = NAN};

		for (int c = 0; c < SUITE_MAX_CPUS; c++)
			r.cpu_ns[c] = in->cpu_runs[c] > 0 ? in->cpu_ns[c] / in->cpu_runs[c] : NAN;
		benchlib_stats_compute(in->samples, in->nsamples, &r.st);
		if (in->engine == SUITE_KERNEL)
			kernel = r.st.median;
		if (in->engine == SUITE_NATIVE)
			native = r.st.median;
		if (suite_results_add(out, &r)) {
			errbuf_set(err, err_len, "out of memory");
			return -ENOMEM;
		}
	}
	for (size_t i = first; i < out->n; i++) {
		out->rows[i].ratio_kernel = kernel > 0 ? out->rows[i].st.median / kernel : NAN;
		out->rows[i].ratio_native = native > 0 ? out->rows[i].st.median / native : NAN;
	}
	progress_done(v->o);
	if (v->o->table) {
		suite_table_rows(v->o->table, out->rows + first, out->n - first);
		fflush(v->o->table);
	}
	return 0;
}

/*
 * The callgrind pass (suite_callgrind runs this process under callgrind):
 * after a first slice that warms it up, each instance runs insns_runs
 * runs, then twice as many, each between two dumps of callgrind's counters,
 * the second labelled with what ran. What
 * the two have in common (waking the slice's threads, the test-run calls'
 * fixed part) cancels out in their difference, which is the instructions
 * of insns_runs runs on each of the test's CPUs.
 */
static int count_insns(struct variant *v, char *err, size_t err_len)
{
#ifdef HAVE_CALLGRIND
	struct suite_slice res;
	char label[128];
	double ns;
	int ret;

	for (size_t i = 0; i < v->ninst; i++) {
		/* a first slice, not counted, so that neither counted one pays first-use costs */
		ret = slice_checked(v, &v->inst[i], v->o->insns_runs, false, &res, &ns, err,
				    err_len);
		if (ret)
			return ret;
		for (uint64_t n = v->o->insns_runs; n <= 2 * v->o->insns_runs; n *= 2) {
			snprintf(label, sizeof(label), "%s %zu %u %s %llu %zu", SUITE_INSNS_LABEL,
				 v->test_index, v->size, suite_engine_name(v->inst[i].engine),
				 (unsigned long long)n, v->ncpus);
			/* a dump zeroes every thread's counters (CALLGRIND_ZERO_STATS only this
			 * one's) */
			CALLGRIND_DUMP_STATS_AT(SUITE_INSNS_LABEL "-before");
			ret = slice_checked(v, &v->inst[i], n, false, &res, &ns, err, err_len);
			CALLGRIND_DUMP_STATS_AT(label);
			if (ret)
				return ret;
		}
	}
	return 0;
#else
	(void)v;
	errbuf_set(err, err_len, "this build has no valgrind headers: no instruction counts");
	return -ENOTSUP;
#endif
}

static bool wants(const struct variant *v, int e)
{
	if (!v->o->engines[e] || !v->t->engines[e])
		return false;
	if (e == SUITE_KERNEL)
		return !kernel_skipped;
	if (e == SUITE_NATIVE)
		return v->t->native != NULL;
	return true;
}

static int run_variant(struct variant *v, struct suite_results *out, char *err, size_t err_len)
{
	uint32_t size = v->size ? v->size : SUITE_DEFAULT_DATA;
	int cpu_prog[SUITE_MAX_CPUS], ncpus = suite_ncpus();
	int ret;

	ret = suite_cpu_plan(v->t, ncpus, cpu_prog, err, err_len);
	if (ret)
		return ret;
	v->ncpus = 0;
	for (int c = 0; c < ncpus; c++)
		if (cpu_prog[c] >= 0)
			v->cpus[v->ncpus++] = c;
	v->data = malloc(size);
	if (!v->data) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	suite_fill_data(v->data, size);
	v->len = v->t->pass_data ? size : 0;
	v->expect = (uint32_t)v->t->expected_result;
	if (v->t->native)
		v->expect = (uint32_t)suite_native_find(v->t->native)(v->data, v->len);
	for (int e = 0; e < SUITE_NENGINES && !ret; e++)
		if (wants(v, e))
			ret = open_inst(v, e, err, err_len);
	if (!ret && !v->ninst) {
		errbuf_set(err, err_len, "test '%s': no engine left to run it on", v->t->name);
		ret = -EINVAL;
	}
	if (!ret && v->o->insns_runs)
		ret = count_insns(v, err, err_len);
	else if (!ret)
		ret = run_batches(v, err, err_len);
	if (!ret && !v->o->insns_runs)
		ret = collect(v, out, err, err_len);
	progress_done(v->o);
	close_insts(v);
	free(v->data);
	return ret;
}

void suite_options_default(struct suite_options *o)
{
	memset(o, 0, sizeof(*o));
	o->engines[SUITE_INTERP] = o->engines[SUITE_JIT] = o->engines[SUITE_AOT] = true;
	o->batches = 10;
	o->slice_ns = 2e6;
	o->quiet_threshold = 0.1;
	o->progress = true;
}

int suite_run(const struct suite *s, const struct suite_options *o, struct suite_results *out,
	      char *err, size_t err_len)
{
	size_t total = 0, number = 0;
	int ret = 0;

	if (!o->batches) {
		errbuf_set(err, err_len, "at least one batch is needed");
		return -EINVAL;
	}
	kernel_skipped = false;
	/* trace_printk's lines: nowhere, unless asked (the kernel's go to its trace buffer) */
	setenv("UEBPF_TRACE_PIPE", "/dev/null", 0);
	out->ncpus = suite_ncpus();
	for (size_t i = 0; i < s->ntests; i++)
		total += s->tests[i].nsizes ? s->tests[i].nsizes : 1;
	for (size_t i = 0; i < s->ntests && !ret; i++) {
		const struct suite_test *t = &s->tests[i];
		size_t nv = t->nsizes ? t->nsizes : 1;

		if (o->insns_runs && t->measure != SUITE_TEST_RUN) {
			fprintf(stderr,
				"uebpf bench: test '%s' measures no test run, skipped under "
				"callgrind\n",
				t->name);
			number += nv;
			continue;
		}
		if (t->platform && strcmp(t->platform, "Linux") && strcmp(t->platform, "uebpf")) {
			fprintf(stderr, "uebpf bench: test '%s' is for %s, skipped\n", t->name,
				t->platform);
			number += nv;
			continue;
		}
		for (size_t j = 0; j < nv && !ret; j++) {
			struct variant v = {.s = s,
					    .o = o,
					    .t = t,
					    .test_index = i,
					    .size = t->nsizes ? t->data_sizes[j] : 0,
					    .number = ++number,
					    .total = total};

			ret = run_variant(&v, out, err, err_len);
		}
	}
	return ret;
}
