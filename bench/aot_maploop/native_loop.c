// SPDX-License-Identifier: MIT
/*
 * The native twin of maploop.bpf.c: the same lookups (an index checked
 * against max_entries, the value's address from the map's layout) over
 * the same map memory, compiled at -O2. Apart, so the compiler cannot fold
 * it into the timing loop.
 */
#include <stdint.h>

#include "native_loop.h"

uint64_t native_maploop(const uint64_t *values, uint32_t max_entries)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < MAPLOOP_N; i++) {
		uint32_t k = i & 255;
		const uint64_t *v = k < max_entries ? &values[k] : 0;

		if (v)
			sum += *v;
	}
	return sum;
}
