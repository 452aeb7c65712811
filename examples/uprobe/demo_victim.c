// SPDX-License-Identifier: MIT
/*
 * What `make demo` traces: handle() called 2000 times with work that grows
 * with its argument (a spin of 2^(i % 8) * 64 steps), so its latency
 * histogram has several buckets.
 */
#include <stdio.h>

static volatile unsigned long sink;

__attribute__((noipa)) unsigned long handle(int i)
{
	unsigned long steps = 64ul << (i % 8), x = (unsigned long)i;

	for (unsigned long k = 0; k < steps; k++)
		x = x * 6364136223846793005ul + 1442695040888963407ul;
	return x;
}

int main(void)
{
	for (int i = 0; i < 2000; i++)
		sink += handle(i);
	printf("demo_victim: handled 2000 requests\n");
	return 0;
}
