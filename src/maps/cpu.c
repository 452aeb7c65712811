// SPDX-License-Identifier: MIT
/*
 * CPUs for per-CPU maps. The count is that of possible CPUs, as the kernel
 * sizes per-CPU values (and libbpf expects), so buffers agree with it. The
 * current CPU is read where the kernel keeps it for this thread, the rseq
 * area glibc registers (a load, no call); without rseq, sched_getcpu(),
 * which glibc answers from the vDSO.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stddef.h>
#include <sys/rseq.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "maps/internal.h"

/* "0-3,8-11": the highest CPU listed, plus one. */
static uint32_t parse_possible(const char *s)
{
	unsigned long hi = 0, v;
	char *end;

	while (*s) {
		v = strtoul(s, &end, 10);
		if (end == s)
			break;
		if (v + 1 > hi)
			hi = v + 1;
		s = end;
		if (*s == '-' || *s == ',')
			s++;
	}
	return hi > MAP_MAX_CPUS ? MAP_MAX_CPUS : (uint32_t)hi;
}

uint32_t map_possible_cpus(void)
{
	static uint32_t cached;
	uint32_t n = __atomic_load_n(&cached, __ATOMIC_RELAXED);
	char buf[256];
	FILE *f;

	if (n)
		return n;
	f = fopen("/sys/devices/system/cpu/possible", "re");
	if (f) {
		if (fgets(buf, sizeof(buf), f))
			n = parse_possible(buf);
		fclose(f);
	}
	if (!n) {
		long c = sysconf(_SC_NPROCESSORS_CONF);

		n = c < 1 ? 1 : c > MAP_MAX_CPUS ? MAP_MAX_CPUS : (uint32_t)c;
	}
	__atomic_store_n(&cached, n, __ATOMIC_RELAXED);
	return n;
}

uint32_t map_cpu_now(void)
{
	int cpu = -1;

	if (__rseq_size)
		cpu = *(const volatile int32_t *)((const char *)__builtin_thread_pointer() +
						  __rseq_offset + offsetof(struct rseq, cpu_id));
	/* negative: rseq not registered on this thread */
	if (cpu < 0)
		cpu = sched_getcpu();
	return cpu < 0 ? 0 : (uint32_t)cpu;
}

uint32_t map_this_cpu(const struct map *m)
{
	uint32_t cpu = map_cpu_now();

	/* a map made on a machine, or in a container, with fewer CPUs */
	return cpu < m->info.nr_cpus ? cpu : cpu % m->info.nr_cpus;
}
