// SPDX-License-Identifier: MIT
/*
 * Differential test against the kernel: random programs from proggen run in
 * a uebpf engine and in the kernel must leave the same 64-bit r0.
 *
 *   test_kernel_diff [--seed S] [--count N] [--engine interp|jit|aot]
 *
 * Program i uses seed S + i, so `--seed S+i --count 1` reproduces it alone.
 * A program the verifier rejects is a failure too: the generator promises
 * programs the kernel accepts, and a test that quietly ran fewer of them
 * would prove less. Exits 0 when all agree, 1 on any failure, and 77 (skip)
 * when the kernel cannot load programs or the engine is not built.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "isa/asm.h"
#include "kernel_run.h"
#include "proggen.h"
#include "uebpf/uebpf.h"

#define KDIFF_SKIP 77
#define KDIFF_COUNT 3000
#define KDIFF_BODY_MIN 40
#define KDIFF_BODY_MAX 120
#define KDIFF_MEM_LEN 64
#define KDIFF_LOG_LEN (64 * 1024)
/* Failures past this many get one line each, so a broken engine cannot flood the log. */
#define KDIFF_DETAILED 20

struct kdiff {
	uint64_t seed;
	unsigned long count;
	enum uebpf_engine engine;
	const char *engine_name;

	struct isa_insn *prog; /* room for the longest program plus one slot */
	size_t cap;
	char log[KDIFF_LOG_LEN];

	unsigned long passed, failed, kernel_ran, rejected;
};

/* the kernel, not uebpf, would be the one to get these programs wrong otherwise */
static const struct proggen_opts kdiff_gen_opts = {.avoid_kernel_bugs = true};

static const struct {
	const char *name;
	enum uebpf_engine engine;
} kdiff_engines[] = {
	{"interp", UEBPF_ENGINE_INTERP},
	{"jit", UEBPF_ENGINE_JIT},
	{"aot", UEBPF_ENGINE_AOT},
};

static int kdiff_usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--seed S] [--count N] [--engine interp|jit|aot]\n", argv0);
	return 2;
}

static int kdiff_engine(struct kdiff *k, const char *name)
{
	for (size_t e = 0; e < sizeof(kdiff_engines) / sizeof(kdiff_engines[0]); e++) {
		if (!strcmp(name, kdiff_engines[e].name)) {
			k->engine = kdiff_engines[e].engine;
			k->engine_name = kdiff_engines[e].name;
			return 0;
		}
	}
	return -1;
}

static int kdiff_number(const char *text, unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(text, &end, 0);
	return errno || !*text || *end ? -1 : 0;
}

static int kdiff_parse(struct kdiff *k, int argc, char **argv)
{
	unsigned long long v;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	k->seed = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	k->count = KDIFF_COUNT;
	kdiff_engine(k, "interp");

	for (int i = 1; i < argc; i += 2) {
		const char *val = argv[i + 1];

		if (!val)
			return -1;
		if (!strcmp(argv[i], "--seed") && !kdiff_number(val, &v))
			k->seed = v;
		else if (!strcmp(argv[i], "--count") && !kdiff_number(val, &v))
			k->count = (unsigned long)v;
		else if (strcmp(argv[i], "--engine") || kdiff_engine(k, val))
			return -1;
	}
	return 0;
}

/* The body length of a seed's program, from the seed alone so that it reproduces. */
static size_t kdiff_body_len(uint64_t seed)
{
	uint64_t h = (seed ^ (seed >> 31)) * 0x9e3779b97f4a7c15ull;

	return KDIFF_BODY_MIN + (size_t)((h >> 32) % (KDIFF_BODY_MAX - KDIFF_BODY_MIN + 1));
}

static int kdiff_uebpf(const struct kdiff *k, size_t n, uint64_t *r0, char *err, size_t len)
{
	uint8_t mem[KDIFF_MEM_LEN] = {0};
	struct uebpf_vm *vm = uebpf_vm_create();
	int ret;

	if (!vm) {
		snprintf(err, len, "uebpf_vm_create failed");
		return -ENOMEM;
	}
	ret = uebpf_vm_set_engine(vm, k->engine);
	if (ret)
		snprintf(err, len, "uebpf_vm_set_engine(%s): %s", k->engine_name, strerror(-ret));
	else
		ret = uebpf_vm_load(vm, k->prog, n * sizeof(*k->prog), err, len);
	if (!ret)
		ret = uebpf_vm_run(vm, mem, sizeof(mem), r0, err, len);
	uebpf_vm_destroy(vm);
	return ret;
}

/* One kernel run of k->prog[0..n); k->log says why when it could not run. */
static int kdiff_kernel_once(struct kdiff *k, size_t n, uint32_t *retval)
{
	int fd, ret;

	fd = kernel_prog_load(k->prog, n, k->log, sizeof(k->log));
	if (fd < 0) {
		k->rejected++;
		return fd;
	}
	ret = kernel_prog_run(fd, retval);
	close(fd);
	if (ret)
		snprintf(k->log, sizeof(k->log), "BPF_PROG_TEST_RUN: %s", strerror(-ret));
	return ret;
}

/*
 * The kernel hands back only the low 32 bits of r0, so the program runs
 * twice: as generated, then with r0 >>= 32 before its final exit.
 */
static int kdiff_kernel(struct kdiff *k, size_t n, uint64_t *r0)
{
	static const struct isa_insn high[] = {
		{.opcode = ISA_ALU64 | ISA_RSH | ISA_K, .imm = 32},
		{.opcode = ISA_OP_EXIT},
	};
	uint32_t lo, hi;
	int ret;

	ret = kdiff_kernel_once(k, n, &lo);
	if (ret)
		return ret;
	memcpy(&k->prog[n - 1], high, sizeof(high));
	ret = kdiff_kernel_once(k, n + 1, &hi);
	memcpy(&k->prog[n - 1], &high[1], sizeof(high[1]));
	if (ret)
		return ret;
	*r0 = (uint64_t)hi << 32 | lo;
	return 0;
}

static void kdiff_print_prog(const struct kdiff *k, size_t n)
{
	char *text = isa_disassemble(k->prog, n);

	if (!text) {
		printf("  (out of memory for the disassembly)\n");
		return;
	}
	printf("%s", text);
	free(text);
}

static void kdiff_fail(struct kdiff *k, uint64_t seed, size_t n, const char *what,
		       const char *detail)
{
	k->failed++;
	printf("FAIL seed %" PRIu64 " (%zu insns): %s\n", seed, n, what);
	if (k->failed > KDIFF_DETAILED)
		return;
	if (*detail)
		printf("%s\n", detail);
	if (!n)
		return;
	printf("--- program (reproduce: --seed %" PRIu64 " --count 1) ---\n", seed);
	kdiff_print_prog(k, n);
	printf("---\n");
}

static void kdiff_one(struct kdiff *k, uint64_t seed)
{
	char err[256], what[160];
	uint64_t mine, theirs;
	long n;
	int ret;

	n = proggen_generate(seed, kdiff_body_len(seed), &kdiff_gen_opts, k->prog, k->cap - 1);
	if (n < 0) {
		kdiff_fail(k, seed, 0, "proggen_generate failed", strerror((int)-n));
		return;
	}

	ret = kdiff_kernel(k, (size_t)n, &theirs);
	if (ret) {
		kdiff_fail(k, seed, (size_t)n, "the kernel did not run the program", k->log);
		return;
	}
	k->kernel_ran++;

	ret = kdiff_uebpf(k, (size_t)n, &mine, err, sizeof(err));
	if (ret) {
		snprintf(what, sizeof(what), "uebpf (%s) failed: %s", k->engine_name,
			 strerror(-ret));
		kdiff_fail(k, seed, (size_t)n, what, err);
		return;
	}
	if (mine != theirs) {
		snprintf(what, sizeof(what),
			 "r0 differs: uebpf (%s) 0x%016" PRIx64 ", kernel 0x%016" PRIx64,
			 k->engine_name, mine, theirs);
		kdiff_fail(k, seed, (size_t)n, what, "");
		return;
	}
	k->passed++;
}

/* Whether the engine exists in this build: jit and aot may not yet. */
static bool kdiff_engine_available(const struct kdiff *k, char *why, size_t len)
{
	struct uebpf_vm *vm = uebpf_vm_create();
	int ret;

	if (!vm) {
		snprintf(why, len, "uebpf_vm_create failed");
		return false;
	}
	ret = uebpf_vm_set_engine(vm, k->engine);
	uebpf_vm_destroy(vm);
	if (ret)
		snprintf(why, len, "engine %s: %s", k->engine_name, strerror(-ret));
	return !ret;
}

int main(int argc, char **argv)
{
	static struct kdiff k;
	struct timespec t0, t1;
	char why[256];
	double secs;
	int status;

	if (kdiff_parse(&k, argc, argv))
		return kdiff_usage(argv[0]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!kernel_bpf_available(why, sizeof(why)) ||
	    !kdiff_engine_available(&k, why, sizeof(why))) {
		printf("SKIP: %s\n", why);
		return KDIFF_SKIP;
	}
	k.cap = proggen_max_len(KDIFF_BODY_MAX, &kdiff_gen_opts) + 1;
	k.prog = calloc(k.cap, sizeof(*k.prog));
	if (!k.prog) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}

	printf("kernel-diff: engine %s, seed %" PRIu64 ", %lu programs\n", k.engine_name, k.seed,
	       k.count);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long i = 0; i < k.count; i++)
		kdiff_one(&k, k.seed + i);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	free(k.prog);

	printf("kernel ran %lu of %lu programs (%lu loads rejected) in %.1f s\n", k.kernel_ran,
	       k.count, k.rejected, secs);
	status = k.failed ? 1 : 0;
	/* a runner that silently stopped running programs must not pass */
	if (k.kernel_ran * 10 < k.count * 9) {
		printf("FAIL: fewer than 90%% of the programs ran in the kernel\n");
		status = 1;
	}
	printf("%lu passed, %lu failed\n", k.passed, k.failed);
	return status;
}
