// SPDX-License-Identifier: MIT
/*
 * Load time: how long each engine takes to turn a program into something
 * it can run, per 1000 instructions, next to the kernel's BPF_PROG_LOAD of
 * the same instructions (its verifier and JIT). The program is straight
 * code with stack traffic and short forward branches, which every engine
 * and the kernel's verifier take, so the figure is the cost of translation
 * itself. Timed in wall time: the AOT engine's compiler is another process.
 *
 * Every AOT load gets a program of its own (one immediate differs) so that
 * its cache never answers; a last load of a program already compiled shows
 * what a cached load costs.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "bench.h"
#include "common/errbuf.h"
#include "isa/asm.h"

/* Instructions per loaded program: large enough that fixed costs fade. */
#define COMPILE_INSNS 4000

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The program, its first immediate set to salt. */
static int compile_prog(unsigned salt, struct isa_insn **insns, size_t *n, char *err,
			size_t err_len)
{
	static const char *const body[] = {
		"add %r0, %r1\n",	   "xor %r2, %r0\n",	"lsh %r3, 3\n",
		"mul %r4, %r2\n",	   "stxdw [%r10-8], %r0\n", "ldxdw %r1, [%r10-8]\n",
		"jgt %r0, %r5, +1\n", "mov %r1, 7\n",
	};
	size_t nbody = sizeof(body) / sizeof(body[0]), cap = COMPILE_INSNS * 24 + 256, len;
	char *text = malloc(cap);
	int ret;

	if (!text) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	len = (size_t)snprintf(text, cap,
			       "mov %%r0, %u\nmov %%r1, 1\nmov %%r2, 2\nmov %%r3, 3\n"
			       "mov %%r4, 4\nmov %%r5, 5\n",
			       salt);
	/* the branch of each group skips one instruction: the group ends before exit */
	for (size_t i = 6; i < COMPILE_INSNS - 1; i++) {
		const char *line = body[(i - 6) % nbody];

		if (COMPILE_INSNS - 1 - i < nbody - (i - 6) % nbody)
			line = "add %r0, 1\n";
		len += (size_t)snprintf(text + len, cap - len, "%s", line);
	}
	snprintf(text + len, cap - len, "exit\n");
	ret = isa_assemble(text, insns, n, err, err_len);
	free(text);
	return ret;
}

/* One load of the program salted salt: ns, or a negative errno. */
static int64_t time_uebpf_load(enum uebpf_engine e, unsigned salt, char *err, size_t err_len)
{
	struct uebpf_vm *vm = uebpf_vm_create();
	struct isa_insn *insns = NULL;
	size_t n;
	uint64_t t0;
	int ret;

	if (!vm) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	ret = uebpf_vm_set_engine(vm, e);
	if (!ret)
		ret = compile_prog(salt, &insns, &n, err, err_len);
	if (!ret) {
		t0 = wall_ns();
		ret = uebpf_vm_load(vm, insns, n * sizeof(*insns), err, err_len);
		t0 = wall_ns() - t0;
	}
	free(insns);
	uebpf_vm_destroy(vm);
	return ret ? ret : (int64_t)t0;
}

static int64_t time_kernel_load(unsigned salt, char *err, size_t err_len)
{
	struct isa_insn *insns;
	uint64_t t0;
	size_t n;
	int fd = compile_prog(salt, &insns, &n, err, err_len);

	if (fd)
		return fd;
	t0 = wall_ns();
	/* struct isa_insn and struct bpf_insn are the same 8-byte encoding */
	fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "uebpf_compile", "Dual MIT/GPL",
			   (const struct bpf_insn *)insns, n, NULL);
	t0 = wall_ns() - t0;
	free(insns);
	if (fd < 0) {
		errbuf_set(err, err_len, "BPF_PROG_LOAD: %s", strerror(-fd));
		return fd;
	}
	close(fd);
	return (int64_t)t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Statistics of loads ns per load, as ns per 1000 instructions. */
static void load_stats(double *ns, size_t loads, struct bench_stats *st)
{
	for (size_t i = 0; i < loads; i++)
		ns[i] = ns[i] * 1000.0 / COMPILE_INSNS;
	qsort(ns, loads, sizeof(*ns), cmp_double);
	st->median = ns[loads / 2];
	st->min = ns[0];
	st->p95 = ns[(loads * 95) / 100 < loads ? (loads * 95) / 100 : loads - 1];
	st->runs = loads;
}

/* Time loads loads of engine e (the kernel for e < 0) into *st; salts from *salt. */
static int time_loads(int e, size_t loads, unsigned *salt, struct bench_stats *st, char *err,
		      size_t err_len)
{
	double *ns = calloc(loads, sizeof(*ns));
	int64_t t;

	if (!ns) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < loads; i++) {
		t = e < 0 ? time_kernel_load((*salt)++, err, err_len)
			  : time_uebpf_load((enum uebpf_engine)e, (*salt)++, err, err_len);
		if (t < 0) {
			free(ns);
			return (int)t;
		}
		ns[i] = (double)t;
	}
	load_stats(ns, loads, st);
	free(ns);
	return 0;
}

int bench_compile(const bool *want_uebpf, bool kernel, bool quick, struct bench_row *rows,
		  size_t *nrows)
{
	size_t first = *nrows, kernel_row = SIZE_MAX, loads;
	unsigned salt = (unsigned)getpid() << 8;
	struct bench_stats st;
	char err[512];
	int ret;

	if (kernel) {
		ret = time_loads(-1, quick ? 5 : 20, &salt, &st, err, sizeof(err));
		if (ret) {
			printf("compile   kernel left out: %s\n", err);
		} else {
			kernel_row = *nrows;
			rows[(*nrows)++] = (struct bench_row){"compile", COMPILE_INSNS, "kernel", st,
							       NAN, NAN};
		}
	}
	for (int e = 0; e < BENCH_NUEBPF_ENGINES; e++) {
		if (!want_uebpf[e])
			continue;
		loads = e == UEBPF_ENGINE_AOT ? (quick ? 1 : 3) : (quick ? 5 : 30);
		ret = time_loads(e, loads, &salt, &st, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "uebpf-bench: %s cannot load the compile test: %s\n",
				bench_uebpf_engine_names[e], err);
			return ret;
		}
		rows[(*nrows)++] = (struct bench_row){"compile", COMPILE_INSNS,
						       bench_uebpf_engine_names[e], st, NAN, NAN};
		if (e != UEBPF_ENGINE_AOT)
			continue;
		/* the last salt again: the cache answers */
		salt--;
		ret = time_loads(e, 1, &salt, &st, err, sizeof(err));
		if (ret)
			return ret;
		rows[(*nrows)++] = (struct bench_row){"compile", COMPILE_INSNS, "aot-cached", st,
						       NAN, NAN};
	}
	for (size_t i = first; i < *nrows && kernel_row != SIZE_MAX; i++)
		rows[i].ratio_kernel = rows[i].st.median / rows[kernel_row].st.median;
	printf("\nload time per 1000 instructions (ns), %d-instruction programs, wall time\n",
	       COMPILE_INSNS);
	bench_report_head(stdout, "insns");
	bench_report_rows(stdout, rows + first, *nrows - first);
	return 0;
}
