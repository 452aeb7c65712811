// SPDX-License-Identifier: MIT
/*
 * --insns-probe: a run for bench/insns.sh to count under callgrind, which
 * gives instruction counts free of the machine's noise. It prints the eBPF
 * instructions one run executes, then runs the interpreter and the native
 * twin on the 2560-byte Fletcher-16 case, so the script can toggle
 * collection on either one's function.
 */
#include <errno.h>
#include <inttypes.h>

#include "bench.h"

#define PROBE_BYTES 2560

/* Volatile for the same reason as in impl_native.c: the call must stay opaque. */
static bench_native_fn volatile probe_native = bench_native_fletcher16;

static int probe(const struct bench_case *c, uint64_t runs)
{
	struct uebpf_vm *vm;
	uint64_t r0 = 0, insns = 0;
	char err[512];
	int ret;

	vm = bench_uebpf_load(UEBPF_ENGINE_INTERP, c->prog, err, sizeof(err));
	if (!vm) {
		fprintf(stderr, "uebpf-bench: interp: %s\n", err);
		return -EINVAL;
	}
	ret = uebpf_vm_run_counted(vm, c->data, c->len, &r0, &insns, err, sizeof(err));
	if (!ret && r0 != c->expect) {
		snprintf(err, sizeof(err), "checksum 0x%" PRIx64 ", expected 0x%" PRIx64, r0,
			 c->expect);
		ret = -EDOM;
	}
	for (uint64_t i = 0; !ret && i < runs; i++)
		ret = uebpf_vm_run(vm, c->data, c->len, &r0, err, sizeof(err));
	uebpf_vm_destroy(vm);
	if (ret) {
		fprintf(stderr, "uebpf-bench: interp: %s\n", err);
		return ret;
	}
	for (uint64_t i = 0; i < runs; i++)
		probe_native(c->data, c->data + c->len);
	printf("bytes %zu\nruns %" PRIu64 "\nebpf_insns_per_run %" PRIu64 "\n", c->len, runs,
	       insns);
	return 0;
}

int bench_insns_probe(uint64_t runs)
{
	size_t n;
	struct bench_case *cases = bench_cases(&n);
	int ret = -ENOENT;

	if (!cases) {
		fprintf(stderr, "uebpf-bench: out of memory\n");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (cases[i].prog == BENCH_PROG_FLETCHER16 && cases[i].len == PROBE_BYTES)
			ret = probe(&cases[i], runs);
	}
	bench_cases_free(cases, n);
	return ret;
}
