// SPDX-License-Identifier: MIT
/*
 * The native twins of the eBPF programs: what a C compiler makes of the same
 * algorithm. Built -O2 in a file of their own and called only through a
 * pointer, so the caller can neither inline nor fold them.
 */
#include "bench.h"

__attribute__((noinline)) uint64_t bench_native_baseline(const uint8_t *data, const uint8_t *end)
{
	(void)data;
	(void)end;
	return 0;
}

__attribute__((noinline)) uint64_t bench_native_fletcher16(const uint8_t *data, const uint8_t *end)
{
	uint64_t s1 = 0, s2 = 0;

	for (const uint8_t *p = data; p < end; p++) {
		s1 += *p;
		s2 += s1;
	}
	return ((s2 % 255) << 8) | (s1 % 255);
}
