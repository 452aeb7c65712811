// SPDX-License-Identifier: MIT
/*
 * uebpf's engines as engines of the benchmark: one VM per case, run through
 * the public API exactly as an embedder calls it, so the figures include
 * what a call costs and not only the program. Programs are verified first, as
 * the kernel verifies its copy, so that both run proven accesses unchecked.
 */
#include <errno.h>
#include <stdlib.h>

#include "bench.h"
#include "benchlib.h"
#include "common/errbuf.h"

const char *const bench_uebpf_engine_names[BENCH_NUEBPF_ENGINES] = {
	[UEBPF_ENGINE_INTERP] = "interp",
	[UEBPF_ENGINE_JIT] = "jit",
	[UEBPF_ENGINE_AOT] = "aot",
};

bool bench_uebpf_engine_built(enum uebpf_engine e)
{
	struct uebpf_vm *vm = uebpf_vm_create();
	bool built = vm && uebpf_vm_set_engine(vm, e) == 0;

	uebpf_vm_destroy(vm);
	return built;
}

struct uebpf_vm *bench_uebpf_load(enum uebpf_engine e, enum bench_prog prog, char *err,
				  size_t err_len)
{
	struct uebpf_vm *vm = uebpf_vm_create();
	struct isa_insn *insns = NULL;
	size_t n;
	int ret;

	if (!vm) {
		errbuf_set(err, err_len, "out of memory");
		return NULL;
	}
	ret = uebpf_vm_set_engine(vm, e);
	if (ret)
		errbuf_set(err, err_len, "engine unavailable (%d)", ret);
	/* verified, as the kernel's copy is: proven accesses run unchecked on both */
	else if ((ret = uebpf_vm_set_verify(vm, UEBPF_PROG_RAW_MEM)))
		errbuf_set(err, err_len, "cannot turn verification on (%d)", ret);
	else
		ret = bench_prog_build(prog, BENCH_TARGET_UEBPF, &insns, &n, err, err_len);
	if (!ret)
		ret = uebpf_vm_load(vm, insns, n * sizeof(*insns), err, err_len);
	free(insns);
	if (ret) {
		uebpf_vm_destroy(vm);
		return NULL;
	}
	return vm;
}

static int uebpf_run(struct bench_impl *impl, uint64_t n, double *ns, uint64_t *r0)
{
	const struct uebpf_vm *vm = impl->priv;
	uint8_t *data = impl->c->data;
	size_t len = impl->c->len;
	uint64_t t0 = benchlib_thread_ns();

	for (uint64_t i = 0; i < n; i++) {
		int ret = uebpf_vm_run(vm, data, len, r0, NULL, 0);

		if (ret)
			return ret;
	}
	*ns = (double)(benchlib_thread_ns() - t0) / (double)n;
	return 0;
}

static void uebpf_close(struct bench_impl *impl)
{
	uebpf_vm_destroy(impl->priv);
}

struct bench_impl *bench_uebpf_open(enum uebpf_engine e, const struct bench_case *c, char *err,
				    size_t err_len)
{
	struct bench_impl *impl = bench_impl_new(bench_uebpf_engine_names[e], c);

	if (!impl) {
		errbuf_set(err, err_len, "out of memory");
		return NULL;
	}
	impl->priv = bench_uebpf_load(e, c->prog, err, err_len);
	if (!impl->priv) {
		free(impl);
		return NULL;
	}
	impl->run = uebpf_run;
	impl->close = uebpf_close;
	return impl;
}
