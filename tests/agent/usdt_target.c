// SPDX-License-Identifier: MIT
/*
 * The USDT test's target: a probe uebpftest:tick with a semaphore, fired
 * only while the semaphore says someone listens, as sys/sdt.h users do.
 * Reads commands on stdin, answers each on stdout:
 *   f N   for i in 0..N-1, fire tick(i, i * 10, &words[i % 4]) when
 *         enabled; answer "fired K" (how many fired)
 *   q     answer "sem V" (the semaphore's value)
 *   s     make the agent sync with its registry now; answer "synced RET"
 */
#define _GNU_SOURCE
#define _SDT_HAS_SEMAPHORES 1
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sdt.h>

unsigned short uebpftest_tick_semaphore __attribute__((section(".probes"), used));

static long words[4] = {1111, 2222, 3333, 4444};

int main(void)
{
	char line[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		if (line[0] == 'f') {
			int n = atoi(line + 1), fired = 0;

			for (int i = 0; i < n; i++) {
				if (__atomic_load_n(&uebpftest_tick_semaphore, __ATOMIC_RELAXED)) {
					STAP_PROBE3(uebpftest, tick, i, (long)i * 10,
						    &words[i % 4]);
					fired++;
				}
			}
			printf("fired %d\n", fired);
		} else if (line[0] == 'q') {
			printf("sem %u\n",
			       __atomic_load_n(&uebpftest_tick_semaphore, __ATOMIC_RELAXED));
		} else if (line[0] == 's') {
			int (*start)(const char *) =
				(int (*)(const char *))dlsym(RTLD_DEFAULT, "uebpf_agent_start");

			printf("synced %d\n", start ? start(getenv("UEBPF_REGISTRY")) : -1);
		}
	}
	return 0;
}
