// SPDX-License-Identifier: MIT
/*
 * A program to inject into: inject_victim STATS_FILE MODE, MODE one of
 *   1      the main loop alone (it calls victim_tick, adds floating-point
 *          numbers in registers and sleeps 100 us every 64 ticks), so the
 *          thread is stopped sometimes in user code, sometimes in nanosleep;
 *   3      the main loop, a thread sleeping 20 ms at a time and a thread
 *          blocked in read() on stdin;
 *   churn  the main loop and a thread starting short-lived threads without
 *          pause, so threads appear while the injector stops them.
 * It counts into struct victim_stats (victim.h) and exits 0 when the test
 * sets quit (the reader thread, when stdin reaches its end).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "victim.h"

static struct victim_stats *stats;

#define STAT_ADD(field) __atomic_fetch_add(&stats->field, 1, __ATOMIC_RELAXED)
#define STAT_GET(field) __atomic_load_n(&stats->field, __ATOMIC_ACQUIRE)

__attribute__((noinline)) void victim_tick(void)
{
	STAT_ADD(ticks);
	__asm__ volatile("" ::: "memory");
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One nanosleep of ns, counted as good only if it returned 0 after sleeping it all. */
static void sleep_checked(long ns)
{
	struct timespec req = {0, ns};
	int64_t start = now_ns();

	if (nanosleep(&req, NULL) == 0 && now_ns() - start >= ns)
		STAT_ADD(sleeps);
	else
		STAT_ADD(bad_sleeps);
}

/*
 * Sums kept in xmm registers across a loop with no call in it, where a
 * stop in user code finds them live: they come out right only if the
 * thread's vector state survives whatever ran on it meanwhile.
 */
static bool fp_sums_ok(void)
{
	double a = 0, b = 0;

	for (int j = 0; j < 1000; j++) {
		a += 0.5;
		b += 1.5;
		__asm__ volatile("" : "+x"(a), "+x"(b));
	}
	return a == 500.0 && b == 1500.0;
}

static void *sleeper(void *arg)
{
	(void)arg;
	while (!STAT_GET(quit))
		sleep_checked(20 * 1000 * 1000);
	return NULL;
}

static void *reader(void *arg)
{
	char c;

	(void)arg;
	for (;;) {
		ssize_t n = read(0, &c, 1);

		if (n == 1)
			STAT_ADD(reads);
		else if (n == 0)
			return NULL;
		else
			STAT_ADD(bad_reads);
	}
}

static void *short_lived(void *arg)
{
	victim_tick();
	return arg;
}

static void *spawner(void *arg)
{
	(void)arg;
	while (!STAT_GET(quit)) {
		pthread_t t;

		if (pthread_create(&t, NULL, short_lived, NULL) == 0) {
			STAT_ADD(spawned);
			pthread_join(t, NULL);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t threads[2];
	int nthreads = 0, fd;

	if (argc != 3) {
		fprintf(stderr, "usage: inject_victim STATS_FILE 1|3|churn\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		perror(argv[1]);
		return 2;
	}
	stats = mmap(NULL, sizeof(*stats), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (stats == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	if (!strcmp(argv[2], "3")) {
		pthread_create(&threads[nthreads++], NULL, sleeper, NULL);
		pthread_create(&threads[nthreads++], NULL, reader, NULL);
	} else if (!strcmp(argv[2], "churn")) {
		pthread_create(&threads[nthreads++], NULL, spawner, NULL);
	}
	__atomic_store_n(&stats->ready, 1, __ATOMIC_RELEASE);
	for (uint64_t i = 1; !STAT_GET(quit); i++) {
		victim_tick();
		if (!fp_sums_ok())
			STAT_ADD(fp_bad);
		if (i % 64 == 0)
			sleep_checked(100 * 1000);
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	return 0;
}
