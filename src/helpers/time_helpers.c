// SPDX-License-Identifier: MIT
/*
 * Clocks, randomness and CPUs: bpf_ktime_get_ns (CLOCK_MONOTONIC),
 * ktime_get_boot_ns (CLOCK_BOOTTIME), ktime_get_coarse_ns
 * (CLOCK_MONOTONIC_COARSE), all answered by the vDSO; get_prandom_u32, a
 * per-thread generator seeded from getrandom; get_smp_processor_id and
 * get_numa_node_id from getcpu, which glibc answers from rseq or the vDSO.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/random.h>
#include <time.h>

#include "helpers/helpers.h"
#include "helpers/internal.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

HELPER(ktime_get_ns)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
	return clock_ns(CLOCK_MONOTONIC);
}

HELPER(ktime_get_boot_ns)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
	return clock_ns(CLOCK_BOOTTIME);
}

HELPER(ktime_get_coarse_ns)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
	return clock_ns(CLOCK_MONOTONIC_COARSE);
}

/*
 * xorshift64*: fast, and like the kernel's prandom not for secrets. Zero is
 * its one bad state, and means "not seeded yet".
 */
__thread uint64_t helpers_prandom_state;

HELPER(get_prandom_u32)
{
	uint64_t x = helpers_prandom_state;

	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
	while (!x) {
		if (getrandom(&x, sizeof(x), GRND_NONBLOCK) != sizeof(x))
			x = clock_ns(CLOCK_MONOTONIC) ^ (uintptr_t)&helpers_prandom_state;
	}
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	helpers_prandom_state = x;
	return (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
}

HELPER(get_smp_processor_id)
{
	int cpu = sched_getcpu();

	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
	return cpu < 0 ? 0 : (uint32_t)cpu;
}

HELPER(get_numa_node_id)
{
	unsigned cpu, node;

	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
	return getcpu(&cpu, &node) ? 0 : node;
}
