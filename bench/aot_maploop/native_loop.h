/* SPDX-License-Identifier: MIT */
/* The native twin of the benchmark's loop (native_loop.c). */
#ifndef UEBPF_BENCH_NATIVE_LOOP_H
#define UEBPF_BENCH_NATIVE_LOOP_H

#include <stdint.h>

/* LOOP_N of maploop.bpf.c */
#define MAPLOOP_N 1024

__attribute__((noinline)) uint64_t native_maploop(const uint64_t *values, uint32_t max_entries);

#endif
