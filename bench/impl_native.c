// SPDX-License-Identifier: MIT
/*
 * The native twins as an engine of the benchmark: a slice is a loop of
 * indirect calls, timed in thread CPU time.
 */
#include <stdlib.h>

#include "bench.h"
#include "benchlib.h"

/* Volatile: the optimizer must not learn which twin it calls, however this file is built. */
struct native {
	bench_native_fn volatile fn;
};

bench_native_fn bench_native_twin(enum bench_prog prog)
{
	return prog == BENCH_PROG_FLETCHER16 ? bench_native_fletcher16 : bench_native_baseline;
}

static int native_run(struct bench_impl *impl, uint64_t n, double *ns, uint64_t *r0)
{
	struct native *nat = impl->priv;
	bench_native_fn fn = nat->fn;
	const uint8_t *data = impl->c->data, *end = data + impl->c->len;
	uint64_t t0 = benchlib_thread_ns(), v = 0;

	for (uint64_t i = 0; i < n; i++)
		v = fn(data, end);
	*ns = (double)(benchlib_thread_ns() - t0) / (double)n;
	*r0 = v;
	return 0;
}

static void native_close(struct bench_impl *impl)
{
	free(impl->priv);
}

struct bench_impl *bench_native_open(const struct bench_case *c)
{
	struct bench_impl *impl = bench_impl_new("native", c);
	struct native *nat = malloc(sizeof(*nat));

	if (!impl || !nat) {
		free(impl);
		free(nat);
		return NULL;
	}
	nat->fn = bench_native_twin(c->prog);
	impl->priv = nat;
	impl->run = native_run;
	impl->close = native_close;
	return impl;
}
