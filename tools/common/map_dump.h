/* SPDX-License-Identifier: MIT */
/*
 * map_dump: a map's entries through bpf(), kernel's or uebpf's alike, in
 * one canonical text form, so that the output of two runs (uebpf and the
 * kernel) can be compared line for line: the entries sorted by key, keys
 * and values of 1, 2, 4 or 8 bytes in decimal (little-endian unsigned),
 * others in hex; a per-CPU value is the sum over CPUs when it is 8 bytes,
 * else every CPU's copy in hex. Maps without keys (ring buffer, queue,
 * stack) print their header only.
 *
 *   map NAME (TYPE, key K, value V bytes, N entries)
 *     KEY => VALUE
 */
#ifndef UEBPF_TOOLS_MAP_DUMP_H
#define UEBPF_TOOLS_MAP_DUMP_H

#include <stdio.h>

struct bpf_map;

/* 0, or a negative errno when the map could not be read (a message is printed). */
int map_dump(FILE *out, const struct bpf_map *m);

#endif
