// SPDX-License-Identifier: MIT
/*
 * A slice's threads: one per CPU the test assigns, pinned there with
 * sched_setaffinity, released together so that programs meant
 * to contend (a writer on CPU 0, readers elsewhere) do. Each thread times
 * itself with its own CPU clock, which leaves out the time it was
 * preempted: on a shared machine that is most of the noise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "suite.h"

/* Iterations of the reference loop: some 20 us of dependent integer work. */
#define REF_ITERS 20000

struct worker {
	pthread_t tid;
	int cpu;
	struct suite_workers *pool;
	double ns, ref_before, ref_after;
	uint32_t retval;
	int ret;
	char err[256];
};

/*
 * The threads live as long as the instance that owns them, so a slice pays
 * neither a thread's creation nor its first touches of memory (its stack,
 * the runtime's thread-local state): only the runs. A slice is a new
 * generation: the main thread sets fn and arg, bumps gen and wakes the
 * workers; each runs once per generation and the last to finish wakes the
 * main thread. (Not pthread barriers: reused back to back, glibc 2.36's
 * left a worker spinning in futex calls here.)
 */
struct suite_workers {
	struct worker w[SUITE_MAX_CPUS];
	size_t n;
	pthread_mutex_t lock;
	pthread_cond_t start, done;
	uint64_t gen;
	size_t pending;
	suite_thread_fn fn;
	void *arg;
	bool ref, quit;
};

/*
 * A fixed amount of work whose time tracks the CPU's speed at the moment:
 * when it differs before and after a slice, the machine changed speed
 * during the slice and the slice is not comparable with the others.
 */
static double ref_loop(void)
{
	double t0 = (double)benchlib_thread_ns();
	uint64_t x = 88172645463325252ull;

	for (int i = 0; i < REF_ITERS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		__asm__ volatile("" : "+r"(x));
	}
	return (double)benchlib_thread_ns() - t0;
}

static void *worker_main(void *p)
{
	struct worker *w = p;
	struct suite_workers *pool = w->pool;
	uint64_t seen = 0;
	int pinned = 0;
	cpu_set_t set;
	double t0, own;

	CPU_ZERO(&set);
	CPU_SET(w->cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		pinned = -errno;
		snprintf(w->err, sizeof(w->err), "cannot run on CPU %d: %s", w->cpu,
			 strerror(errno));
	}
	for (;;) {
		pthread_mutex_lock(&pool->lock);
		while (pool->gen == seen && !pool->quit)
			pthread_cond_wait(&pool->start, &pool->lock);
		seen = pool->gen;
		pthread_mutex_unlock(&pool->lock);
		if (pool->quit)
			return NULL;
		w->ret = pinned;
		if (!w->ret) {
			if (pool->ref)
				w->ref_before = ref_loop();
			own = -1;
			t0 = (double)benchlib_thread_ns();
			w->ret = pool->fn(pool->arg, w->cpu, &w->retval, &own, w->err,
					  sizeof(w->err));
			w->ns = own >= 0 ? own : (double)benchlib_thread_ns() - t0;
			if (pool->ref)
				w->ref_after = ref_loop();
		}
		pthread_mutex_lock(&pool->lock);
		if (!--pool->pending)
			pthread_cond_signal(&pool->done);
		pthread_mutex_unlock(&pool->lock);
	}
}

static void stop(struct suite_workers *pool, size_t started)
{
	pthread_mutex_lock(&pool->lock);
	pool->quit = true;
	pthread_cond_broadcast(&pool->start);
	pthread_mutex_unlock(&pool->lock);
	for (size_t i = 0; i < started; i++)
		pthread_join(pool->w[i].tid, NULL);
	pthread_mutex_destroy(&pool->lock);
	pthread_cond_destroy(&pool->start);
	pthread_cond_destroy(&pool->done);
}

int suite_workers_open(const int *cpus, size_t ncpus, struct suite_workers **out, char *err,
		       size_t err_len)
{
	struct suite_workers *pool;
	size_t started = 0;

	*out = NULL;
	if (!ncpus || ncpus > SUITE_MAX_CPUS) {
		errbuf_set(err, err_len, "a slice needs 1 to %d CPUs", SUITE_MAX_CPUS);
		return -EINVAL;
	}
	pool = calloc(1, sizeof(*pool));
	if (!pool) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->start, NULL);
	pthread_cond_init(&pool->done, NULL);
	pool->n = ncpus;
	for (size_t i = 0; i < ncpus; i++) {
		pool->w[i] = (struct worker){.cpu = cpus[i], .pool = pool};
		if (pthread_create(&pool->w[i].tid, NULL, worker_main, &pool->w[i]))
			break;
		started++;
	}
	if (started < ncpus) {
		stop(pool, started);
		free(pool);
		errbuf_set(err, err_len, "cannot start a thread");
		return -EAGAIN;
	}
	*out = pool;
	return 0;
}

int suite_workers_run(struct suite_workers *pool, suite_thread_fn fn, void *arg, bool ref,
		      struct suite_slice *res, char *err, size_t err_len)
{
	memset(res, 0, sizeof(*res));
	pthread_mutex_lock(&pool->lock);
	pool->fn = fn;
	pool->arg = arg;
	pool->ref = ref;
	pool->pending = pool->n;
	pool->gen++;
	pthread_cond_broadcast(&pool->start);
	while (pool->pending)
		pthread_cond_wait(&pool->done, &pool->lock);
	pthread_mutex_unlock(&pool->lock);
	for (size_t i = 0; i < pool->n; i++) {
		struct worker *w = &pool->w[i];

		if (w->ret) {
			errbuf_set(err, err_len, "CPU %d: %s", w->cpu, w->err);
			return w->ret;
		}
		res->cpu[i] = w->cpu;
		res->ns[i] = w->ns;
		res->retval[i] = w->retval;
		res->ref_before[i] = w->ref_before;
		res->ref_after[i] = w->ref_after;
	}
	res->nthreads = pool->n;
	return 0;
}

void suite_workers_close(struct suite_workers *pool)
{
	if (!pool)
		return;
	stop(pool, pool->n);
	free(pool);
}

int suite_ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > SUITE_MAX_CPUS ? SUITE_MAX_CPUS : (int)n;
}

int suite_cpu_plan(const struct suite_test *t, int ncpus, int *cpu_prog, char *err, size_t err_len)
{
	bool any = false;

	for (int c = 0; c < ncpus; c++)
		cpu_prog[c] = -1;
	for (size_t i = 0; i < t->nassign; i++) {
		const struct suite_assign *a = &t->assign[i];

		for (int c = 0; c < ncpus; c++)
			if (a->kind == SUITE_CPUS_ALL ||
			    (a->kind == SUITE_CPUS_REMAINING && cpu_prog[c] < 0))
				cpu_prog[c] = (int)i;
		for (size_t j = 0; a->kind == SUITE_CPUS_LIST && j < a->ncpus; j++) {
			if (a->cpus[j] >= ncpus) {
				errbuf_set(err, err_len,
					   "line %d: test '%s': program %s on CPU %d, but this "
					   "machine has %d CPUs",
					   a->line, t->name, a->prog, a->cpus[j], ncpus);
				return -EINVAL;
			}
			cpu_prog[a->cpus[j]] = (int)i;
		}
	}
	for (int c = 0; c < ncpus; c++)
		any |= cpu_prog[c] >= 0;
	if (!any) {
		errbuf_set(err, err_len, "test '%s': no program is left a CPU to run on", t->name);
		return -EINVAL;
	}
	return 0;
}
