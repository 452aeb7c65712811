// SPDX-License-Identifier: MIT
/*
 * Timing on a machine whose speed swings by 2x within tens of milliseconds:
 * the engines of a case take turns in short slices, round after round, so
 * every engine sees the fast and the slow moments alike, and the statistics
 * of the slices (median, min, p95) are compared rather than one long run.
 * In-process slices are timed in thread CPU time, which leaves out the time
 * the thread was preempted.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"
#include "benchlib.h"
#include "common/errbuf.h"

/* test_run's repeat is an int; a batch never needs more. */
#define MAX_BATCH (1ull << 30)

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct bench_impl *bench_impl_new(const char *engine, const struct bench_case *c)
{
	struct bench_impl *impl = calloc(1, sizeof(*impl));

	if (impl) {
		impl->engine = engine;
		impl->c = c;
	}
	return impl;
}

void bench_impl_free(struct bench_impl *impl)
{
	if (!impl)
		return;
	impl->close(impl);
	free(impl->samples);
	free(impl);
}

static int run_checked(struct bench_impl *impl, uint64_t n, double *ns, char *err, size_t err_len)
{
	uint64_t r0 = 0;
	int ret = impl->run(impl, n, ns, &r0);

	if (ret) {
		errbuf_set(err, err_len, "%s (%zu B) on %s: run failed (%d)", impl->c->test,
			   impl->c->param, impl->engine, ret);
		return ret;
	}
	if (r0 != impl->c->expect) {
		errbuf_set(err, err_len,
			   "%s (%zu B) on %s: wrong answer 0x%" PRIx64
			   ", the native twin's is 0x%" PRIx64,
			   impl->c->test, impl->c->param, impl->engine, r0, impl->c->expect);
		return -EDOM;
	}
	return 0;
}

int bench_check(struct bench_impl *impl, char *err, size_t err_len)
{
	double ns;

	return run_checked(impl, 1, &ns, err, err_len);
}

/* Double the batch until it takes a quarter of a slice, then size it to a slice. */
static int calibrate(struct bench_impl *impl, double slice_ns, char *err, size_t err_len)
{
	uint64_t n = 1;
	double ns;
	int ret;

	for (;;) {
		ret = run_checked(impl, n, &ns, err, err_len);
		if (ret)
			return ret;
		if (ns * (double)n >= slice_ns / 4 || n >= MAX_BATCH)
			break;
		n *= 2;
	}
	impl->batch = ns > 0 ? (uint64_t)(slice_ns / ns) : n;
	if (impl->batch < 1)
		impl->batch = 1;
	if (impl->batch > MAX_BATCH)
		impl->batch = MAX_BATCH;
	return 0;
}

static int add_sample(struct bench_impl *impl, double ns)
{
	if (impl->nsamples == impl->cap) {
		size_t cap = impl->cap ? 2 * impl->cap : 256;
		double *s = realloc(impl->samples, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		impl->samples = s;
		impl->cap = cap;
	}
	impl->samples[impl->nsamples++] = ns;
	impl->runs += impl->batch;
	return 0;
}

int bench_time_case(struct bench_impl **impls, size_t n, const struct bench_timing *t, char *err,
		    size_t err_len)
{
	uint64_t start;
	double ns;
	int ret;

	for (size_t i = 0; i < n; i++) {
		ret = calibrate(impls[i], t->slice_ns, err, err_len);
		if (ret)
			return ret;
	}
	start = wall_ns();
	/* each round starts with the next engine, so none is always first after another */
	for (size_t round = 0; round < t->min_rounds || wall_ns() - start < t->budget_ns; round++) {
		for (size_t i = 0; i < n; i++) {
			struct bench_impl *impl = impls[(round + i) % n];

			ret = run_checked(impl, impl->batch, &ns, err, err_len);
			if (ret)
				return ret;
			if (add_sample(impl, ns)) {
				errbuf_set(err, err_len, "out of memory");
				return -ENOMEM;
			}
		}
	}
	return 0;
}

void bench_stats(struct bench_impl *impl, struct bench_stats *st)
{
	struct benchlib_stats all;

	*st = (struct bench_stats){.runs = impl->runs};
	if (!impl->nsamples)
		return;
	benchlib_stats_compute(impl->samples, impl->nsamples, &all);
	st->median = all.median;
	st->min = all.min;
	st->p95 = all.p95;
}
