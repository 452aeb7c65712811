// SPDX-License-Identifier: MIT
/*
 * Dump of a map's entries in the canonical form map_dump.h describes: read
 * with bpf_map_get_next_key / bpf_map_lookup_elem, each entry formatted into
 * a line, the lines sorted by key.
 */
#include "map_dump.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct line {
	uint8_t *key; /* for sorting */
	char *text;
};

static size_t key_size_for_sort;

static bool small(size_t n)
{
	return n == 1 || n == 2 || n == 4 || n == 8;
}

static uint64_t le_value(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i--;)
		v = v << 8 | p[i];
	return v;
}

/* Keys compare as numbers when small, else bytewise. */
static int cmp_lines(const void *a, const void *b)
{
	const struct line *x = a, *y = b;
	uint64_t u, v;

	if (!small(key_size_for_sort))
		return memcmp(x->key, y->key, key_size_for_sort);
	u = le_value(x->key, key_size_for_sort);
	v = le_value(y->key, key_size_for_sort);
	return u < v ? -1 : u > v;
}

static int put(char *buf, size_t len, size_t *at, const uint8_t *p, size_t n)
{
	int w;

	if (small(n)) {
		w = snprintf(buf + *at, len - *at, "%llu", (unsigned long long)le_value(p, n));
		*at += w > 0 ? (size_t)w : 0;
	} else {
		for (size_t i = 0; i < n && *at + 3 < len; i++)
			*at += (size_t)snprintf(buf + *at, len - *at, "%02x", p[i]);
	}
	return *at < len ? 0 : -ENOSPC;
}

static bool percpu(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static char *format(const uint8_t *key, size_t ks, const uint8_t *val, size_t vs, int cpus)
{
	size_t len = 16 + 2 * ks + (size_t)(cpus > 0 ? cpus : 1) * (2 * vs + 24), at = 0;
	char *buf = malloc(len);
	uint64_t sum = 0;

	if (!buf)
		return NULL;
	at = (size_t)snprintf(buf, len, "  ");
	put(buf, len, &at, key, ks);
	at += (size_t)snprintf(buf + at, len - at, " => ");
	if (cpus <= 0) {
		put(buf, len, &at, val, vs);
	} else if (vs == 8) {
		for (int c = 0; c < cpus; c++)
			sum += le_value(val + (size_t)c * 8, 8);
		snprintf(buf + at, len - at, "%llu", (unsigned long long)sum);
	} else {
		for (int c = 0; c < cpus; c++) {
			size_t stride = (vs + 7) & ~(size_t)7;

			put(buf, len, &at, val + (size_t)c * stride, vs);
			if (c + 1 < cpus)
				at += (size_t)snprintf(buf + at, len - at, " ");
		}
	}
	return buf;
}

int map_dump(FILE *out, const struct bpf_map *m)
{
	size_t ks = bpf_map__key_size(m), vs = bpf_map__value_size(m), n = 0, cap = 0;
	int fd = bpf_map__fd(m), cpus = percpu(bpf_map__type(m)) ? libbpf_num_possible_cpus() : 0;
	size_t vbuf = cpus > 0 ? (size_t)cpus * ((vs + 7) & ~(size_t)7) : vs;
	uint8_t *key = calloc(1, ks + 1), *next = calloc(1, ks + 1), *val = calloc(1, vbuf + 1);
	struct line *lines = NULL;
	bool started = false;
	int ret = 0;

	while (key && next && val && ks && !bpf_map_get_next_key(fd, started ? key : NULL, next)) {
		started = true;
		memcpy(key, next, ks);
		if (bpf_map_lookup_elem(fd, key, val))
			continue;
		if (n == cap) {
			struct line *l = realloc(lines, (cap = cap ? 2 * cap : 64) * sizeof(*l));

			if (!l) {
				ret = -ENOMEM;
				break;
			}
			lines = l;
		}
		lines[n].key = malloc(ks);
		lines[n].text = format(key, ks, val, vs, cpus);
		if (!lines[n].key || !lines[n].text) {
			free(lines[n].key);
			free(lines[n].text);
			ret = -ENOMEM;
			break;
		}
		memcpy(lines[n++].key, key, ks);
	}
	if (!key || !next || !val)
		ret = -ENOMEM;
	fprintf(out, "map %s (%s, key %zu, value %zu bytes, %zu entries)\n", bpf_map__name(m),
		libbpf_bpf_map_type_str(bpf_map__type(m)), ks, vs, n);
	key_size_for_sort = ks;
	if (n)
		qsort(lines, n, sizeof(*lines), cmp_lines);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%s\n", lines[i].text);
		free(lines[i].key);
		free(lines[i].text);
	}
	if (ret)
		fprintf(out, "  (map %s: out of memory)\n", bpf_map__name(m));
	free(lines);
	free(key);
	free(next);
	free(val);
	return ret;
}
