// SPDX-License-Identifier: MIT
/*
 * A target that runs while probes come and go, for the agent's following
 * test: reads commands on stdin, one per line, and answers each on stdout:
 *   w N   call work(i) for i in 0..N-1; answer "ok SUM"
 *   s     make the agent sync with its registry now (uebpf_agent_start is
 *         idempotent); answer "synced RET"
 * It ends at end of input.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((noipa)) int work(int i)
{
	return i * 3 + 1;
}

int main(void)
{
	char line[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		if (line[0] == 'w') {
			long long sum = 0;
			int n = atoi(line + 1);

			for (int i = 0; i < n; i++)
				sum += work(i);
			printf("ok %lld\n", sum);
		} else if (line[0] == 's') {
			int (*start)(const char *) =
				(int (*)(const char *))dlsym(RTLD_DEFAULT, "uebpf_agent_start");

			printf("synced %d\n", start ? start(getenv("UEBPF_REGISTRY")) : -1);
		}
	}
	return 0;
}
