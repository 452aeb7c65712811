// SPDX-License-Identifier: MIT
/*
 * The traced program of the agent tests: usage victim N THREADS [DLOPEN_LIB
 * [EXIT]]. Each of THREADS threads calls work(i) and lib_work(i) for i in
 * 0..N-1, and, when DLOPEN_LIB is given, that library's lib_work(i) too,
 * dlopened after start. So a probe on work sees each argument THREADS
 * times, and a return probe each value i * 3 + 1 THREADS times. Exits with
 * EXIT (0 by default) after printing the sum of what the calls returned.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

int lib_work(int x);

static int n;
static int (*dl_work)(int);

__attribute__((noipa)) int work(int i)
{
	return i * 3 + 1;
}

static void *thread(void *arg)
{
	long long sum = 0;

	for (int i = 0; i < n; i++) {
		sum += work(i) + lib_work(i);
		if (dl_work)
			sum += dl_work(i);
	}
	*(long long *)arg = sum;
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[64];
	long long sums[64], total = 0;
	int threads;

	if (argc < 3 || (n = atoi(argv[1])) < 0 || (threads = atoi(argv[2])) < 1 || threads > 64) {
		fprintf(stderr, "usage: victim N THREADS [DLOPEN_LIB [EXIT]]\n");
		return 2;
	}
	if (argc > 3) {
		void *h = dlopen(argv[3], RTLD_NOW);

		dl_work = h ? (int (*)(int))dlsym(h, "lib_work") : NULL;
		if (!dl_work) {
			fprintf(stderr, "victim: %s: %s\n", argv[3], dlerror());
			return 2;
		}
	}
	for (int i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, thread, &sums[i])) {
			fprintf(stderr, "victim: cannot start a thread\n");
			return 2;
		}
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		total += sums[i];
	}
	printf("sum %lld\n", total);
	return argc > 4 ? atoi(argv[4]) : 0;
}
