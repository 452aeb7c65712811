// SPDX-License-Identifier: MIT
/*
 * The traced program of the cross-process rings test: rings_target
 * BATCHES PER_BATCH calls emit(i) for i = 0, 1, ... in BATCHES batches of
 * PER_BATCH, pausing 200 ms between batches so that the loader reading
 * the records is likely asleep when the next batch comes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

__attribute__((noipa)) int emit(int i)
{
	return i + 1;
}

int main(int argc, char **argv)
{
	struct timespec pause = {0, 200 * 1000 * 1000};
	int batches, per, i = 0;
	long sum = 0;

	if (argc != 3 || (batches = atoi(argv[1])) < 1 || (per = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: rings_target BATCHES PER_BATCH\n");
		return 2;
	}
	for (int b = 0; b < batches; b++) {
		if (b)
			nanosleep(&pause, NULL);
		for (int k = 0; k < per; k++, i++)
			sum += emit(i);
	}
	printf("sum %ld\n", sum);
	return 0;
}
