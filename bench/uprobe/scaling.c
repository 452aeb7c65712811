// SPDX-License-Identifier: MIT
/*
 * Scaling: N threads calling one probed function, against N threads calling
 * it unprobed, in the same run. The probe path takes no lock (probe.h), so
 * what a probe adds per call should not grow with the threads; a lock, or a
 * cache line every call writes, would make it grow (a spinning one in CPU
 * time, a sleeping one in the throughput).
 *
 * Each measurement starts N threads at a barrier; they call the function
 * until told to stop after SCALE_WALL_MS, each timing itself in thread CPU
 * time (preemption by the other threads, or by other processes, does not
 * count). Per case and thread count: ns per call per thread (the mean of
 * the threads' CPU time over their calls), calls per µs of wall time summed
 * over the threads, and both as ratios to one thread. Cases and thread
 * counts take turns, round after round, and each figure is the median of
 * its rounds, so load from elsewhere falls on all of them alike.
 *
 * Threads are not pinned. With more threads than CPUs the throughput cannot
 * grow past the CPU count, but the per-thread CPU cost still must not grow.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "maps/maps.h"
#include "uebpf/uebpf.h"

#include "bench_uprobe.h"

#define SCALE_WALL_MS 100
#define SCALE_BATCH 256
#define SCALE_ROUNDS_MAX 16

static const int scale_threads[] = {1, 2, 4};
#define NTHREADS N(scale_threads)

/* The 4-instruction program of the plain rows. */
static const struct bpf_insn prog_base[] = {
	MOV_IMM(0, 0),
	ADD_IMM(0, 1),
	MUL_IMM(0, 3),
	EXIT(),
};
/* Look up key 0 of a PERCPU_ARRAY (maps[0]) and increment this CPU's value. */
static const struct bpf_insn prog_percpu[] = {
	ST_W(10, -4, 0), LD_MAP(1, 0),	MOV_REG(2, 10),	 ADD_IMM(2, -4), CALL(1), JEQ_IMM(0, 0, 3),
	LDX_DW(1, 0, 0), ADD_IMM(1, 1), STX_DW(0, 1, 0), MOV_IMM(0, 0),	 EXIT(),
};
/* Look up key 0 of a HASH (maps[0]) and read its value. */
static const struct bpf_insn prog_hash[] = {
	ST_W(10, -4, 0),  LD_MAP(1, 0),	   MOV_REG(2, 10), ADD_IMM(2, -4), CALL(1),
	JEQ_IMM(0, 0, 1), LDX_DW(0, 0, 0), MOV_IMM(0, 0),  EXIT(),
};

struct scale_case {
	const char *name;
	struct uebpf_vm *vm; /* NULL: the unprobed call */
	int retprobe;
	double ns[NTHREADS][SCALE_ROUNDS_MAX];	 /* per call per thread */
	double tput[NTHREADS][SCALE_ROUNDS_MAX]; /* calls per µs, all threads */
};

struct worker {
	pthread_t thread;
	uint64_t calls;
	uint64_t cpu_ns;
};

static pthread_barrier_t scale_start;
static atomic_bool scale_stop;
static long scale_word = 42;

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	victim_fn volatile fn = bench_push;
	uint64_t calls = 0, t0;

	pthread_barrier_wait(&scale_start);
	t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	while (!atomic_load_explicit(&scale_stop, memory_order_relaxed)) {
		for (int i = 0; i < SCALE_BATCH; i++)
			fn((long)&scale_word);
		calls += SCALE_BATCH;
	}
	w->cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
	w->calls = calls;
	return NULL;
}

/* n threads for wall_ms: ns per call per thread into *ns, calls per µs into *tput. */
static void run_threads(int n, unsigned wall_ms, double *ns, double *tput)
{
	struct worker w[8];
	struct timespec d = {.tv_sec = wall_ms / 1000, .tv_nsec = (long)(wall_ms % 1000) * 1000000};
	uint64_t t0, wall, calls = 0;
	double per = 0;

	atomic_store(&scale_stop, false);
	pthread_barrier_init(&scale_start, NULL, (unsigned)n + 1);
	for (int i = 0; i < n; i++) {
		if (pthread_create(&w[i].thread, NULL, work, &w[i])) {
			fprintf(stderr, "uebpf-bench-uprobe: cannot start threads\n");
			exit(1);
		}
	}
	pthread_barrier_wait(&scale_start);
	t0 = clock_ns(CLOCK_MONOTONIC);
	nanosleep(&d, NULL);
	atomic_store(&scale_stop, true);
	for (int i = 0; i < n; i++)
		pthread_join(w[i].thread, NULL);
	wall = clock_ns(CLOCK_MONOTONIC) - t0;
	pthread_barrier_destroy(&scale_start);
	for (int i = 0; i < n; i++) {
		calls += w[i].calls;
		per += w[i].calls ? (double)w[i].cpu_ns / (double)w[i].calls : 0;
	}
	*ns = per / n;
	*tput = (double)calls * 1000.0 / (double)wall;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double s[SCALE_ROUNDS_MAX];

	memcpy(s, v, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	return s[n / 2];
}

static void measure_round(struct scale_case *c, int round, unsigned wall_ms)
{
	struct uebpf_probe *p = NULL;
	char err[256];

	if (c->vm && uebpf_uprobe_attach_addr(c->vm, (void *)bench_push, c->retprobe, &p, err,
					      sizeof(err))) {
		fprintf(stderr, "uebpf-bench-uprobe: %s: %s\n", c->name, err);
		exit(1);
	}
	for (size_t t = 0; t < NTHREADS; t++)
		run_threads(scale_threads[t], wall_ms, &c->ns[t][round], &c->tput[t][round]);
	if (p)
		uebpf_probe_detach(p, err, sizeof(err));
}

static void report(struct scale_case *cases, size_t ncases, int rounds, unsigned wall_ms,
		   const char *csv)
{
	FILE *f = csv ? fopen(csv, "w") : NULL;
	double base[NTHREADS];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (csv && !f)
		fprintf(stderr, "uebpf-bench-uprobe: %s: %m\n", csv);
	for (size_t t = 0; t < NTHREADS; t++)
		base[t] = median(cases[0].ns[t], rounds);
	printf("\nscaling: N threads calling bench_push, %ld CPUs online (threads not pinned; "
	       "4 threads oversubscribe a 2-CPU machine), median of %d rounds of %u ms\n",
	       cpus, rounds, wall_ms);
	printf("%-40s %3s %12s %9s %10s %8s %8s\n", "case", "N", "ns/call/thr", "added ns",
	       "calls/us", "tput/1", "ns/1");
	if (f)
		fprintf(f, "case,threads,cpus,ns_per_call_per_thread,added_ns,calls_per_us,"
			   "throughput_vs_1_thread,ns_vs_1_thread\n");
	for (size_t i = 0; i < ncases; i++) {
		double ns1 = median(cases[i].ns[0], rounds), tp1 = median(cases[i].tput[0], rounds);

		for (size_t t = 0; t < NTHREADS; t++) {
			double ns = median(cases[i].ns[t], rounds);
			double tp = median(cases[i].tput[t], rounds);

			printf("%-40s %3d %12.1f %9.1f %10.1f %8.2f %8.2f\n", cases[i].name,
			       scale_threads[t], ns, ns - base[t], tp, tp / tp1, ns / ns1);
			if (f)
				fprintf(f, "\"%s\",%d,%ld,%.2f,%.2f,%.2f,%.3f,%.3f\n",
					cases[i].name, scale_threads[t], cpus, ns, ns - base[t], tp,
					tp / tp1, ns / ns1);
		}
	}
	printf("added ns at N threads / added ns at 1 thread (1.0: no contention on the probe "
	       "path):\n");
	for (size_t i = 1; i < ncases; i++) {
		double a1 = median(cases[i].ns[0], rounds) - base[0];

		printf("  %-40s", cases[i].name);
		for (size_t t = 1; t < NTHREADS; t++)
			printf("  N=%d: %5.2f", scale_threads[t],
			       a1 > 0 ? (median(cases[i].ns[t], rounds) - base[t]) / a1 : 0);
		printf("\n");
	}
	if (f)
		fclose(f);
}

void scaling_run(int slices, const char *csv)
{
	struct map_attr pcpu1 = {.type = BPF_MAP_TYPE_PERCPU_ARRAY,
				 .key_size = 4,
				 .value_size = 8,
				 .max_entries = 1};
	struct map_attr pcpu8 = pcpu1;
	struct map_attr hash = {
		.type = BPF_MAP_TYPE_HASH, .key_size = 4, .value_size = 8, .max_entries = 64};
	struct map *m_pcpu1, *m_pcpu8, *m_hash;
	uint32_t key = 0;
	uint64_t val = 7;
	char err[256];
	int rounds = slices / 3 < 1		     ? 1
		     : slices / 3 > SCALE_ROUNDS_MAX ? SCALE_ROUNDS_MAX
						     : slices / 3;
	unsigned wall_ms = slices == 1 ? 20 : SCALE_WALL_MS;

	pcpu8.max_entries = 8;
	if (map_create(&pcpu1, &m_pcpu1, err, sizeof(err)) ||
	    map_create(&pcpu8, &m_pcpu8, err, sizeof(err)) ||
	    map_create(&hash, &m_hash, err, sizeof(err)) ||
	    map_update(m_hash, &key, &val, BPF_ANY)) {
		fprintf(stderr, "uebpf-bench-uprobe: scaling maps: %s\n", err);
		exit(1);
	}
	struct scale_case cases[] = {
		{.name = "no probe"},
		{.name = "uprobe, 4 insns", .vm = bench_prog(prog_base, N(prog_base), NULL, 0)},
		{.name = "uretprobe, 4 insns",
		 .vm = bench_prog(prog_base, N(prog_base), NULL, 0),
		 .retprobe = 1},
		{.name = "uprobe, PERCPU_ARRAY(1) increment",
		 .vm = bench_prog(prog_percpu, N(prog_percpu), &m_pcpu1, 1)},
		{.name = "uprobe, PERCPU_ARRAY(8) increment",
		 .vm = bench_prog(prog_percpu, N(prog_percpu), &m_pcpu8, 1)},
		{.name = "uprobe, HASH lookup",
		 .vm = bench_prog(prog_hash, N(prog_hash), &m_hash, 1)},
	};

	for (int r = 0; r < rounds; r++)
		for (size_t i = 0; i < N(cases); i++)
			measure_round(&cases[i], r, wall_ms);
	report(cases, N(cases), rounds, wall_ms, csv);
	for (size_t i = 0; i < N(cases); i++)
		uebpf_vm_destroy(cases[i].vm);
	map_close(m_pcpu1);
	map_close(m_pcpu8);
	map_close(m_hash);
}
