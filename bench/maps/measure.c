// SPDX-License-Identifier: MIT
/*
 * Measuring the rows of the map benchmark with whatever bpf() the
 * executable has (see maps_bench.h). Each row: one warm-up run, then
 * batches of BPF_PROG_TEST_RUN with a repeat count, whose duration (the
 * mean ns per run, as the kernel and uebpf both report it) divided by the
 * operations per run gives ns per operation; the fastest batch is kept.
 * Short batches, the fastest kept: the kernel's test runs leave out the
 * time the thread spends preempted, uebpf's (a clock around the loop) do
 * not, and on a loaded machine a long batch is preempted more often than
 * not, which would charge uebpf's slower rows the other processes' time.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errbuf.h"
#include "maps_bench.h"

#define NKEYS 1024 /* keys the loader puts in each map, as maps.bpf.c expects */

const struct maps_row maps_rows[] = {
	{"loop", "empty loop (per iteration)", 0},
	{"array_lookup", "ARRAY lookup", 1},
	{"array_update", "ARRAY update", 1},
	{"percpu_array_lookup", "PERCPU_ARRAY lookup", 1},
	{"percpu_array_update", "PERCPU_ARRAY update", 1},
	{"hash_lookup", "HASH lookup", 0.5},
	{"hash_update", "HASH update", 1},
	{"hash_insert_delete", "HASH insert+delete (pair)", 1},
	{"percpu_hash_lookup", "PERCPU_HASH lookup", 0.5},
	{"percpu_hash_update", "PERCPU_HASH update", 1},
	{"lru_hash_lookup", "LRU_HASH lookup", 0.5},
	{"lru_hash_update", "LRU_HASH update", 1},
	{"lpm_lookup", "LPM_TRIE lookup", 0.5},
	{"lpm_update", "LPM_TRIE update", 1},
	{"ringbuf_output", "RINGBUF output (8 bytes)", 1},
};
const unsigned maps_nrows = sizeof(maps_rows) / sizeof(maps_rows[0]);

struct lpm_key {
	uint32_t prefixlen;
	uint32_t addr;
};

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static int fill(struct bpf_object *obj, const char *name, bool percpu, char *err, size_t err_len)
{
	int fd = bpf_object__find_map_fd_by_name(obj, name), cpus = libbpf_num_possible_cpus();
	uint64_t *val;
	int ret = 0;

	if (fd < 0 || cpus < 1) {
		errbuf_set(err, err_len, "map %s missing from the object", name);
		return -ENOENT;
	}
	val = calloc((size_t)(percpu ? cpus : 1), sizeof(*val));
	if (!val)
		return -ENOMEM;
	for (uint32_t k = 0; k < NKEYS && !ret; k++) {
		val[0] = k;
		if (!strcmp(name, "lpm")) {
			struct lpm_key lk = {24, 0x0a | (k >> 8) << 8 | (k & 255) << 16};

			ret = bpf_map_update_elem(fd, &lk, val, BPF_ANY);
		} else {
			ret = bpf_map_update_elem(fd, &k, val, BPF_ANY);
		}
	}
	free(val);
	if (ret)
		errbuf_set(err, err_len, "filling map %s: %s", name, strerror(-ret));
	return ret;
}

static int measure_row(struct bpf_object *obj, const struct maps_row *row,
		       const struct maps_timing *t, struct maps_result *res, char *err,
		       size_t err_len)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, row->prog);
	uint8_t pkt[64] = {0};
	double ns[64];
	unsigned nb = t->batches < 64 ? t->batches : 64;
	int fd, ret;

	if (!prog) {
		errbuf_set(err, err_len, "program %s missing from the object", row->prog);
		return -ENOENT;
	}
	fd = bpf_program__fd(prog);
	for (unsigned b = 0; b <= nb; b++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt),
			    .repeat = b ? (int)t->repeat : 1);

		ret = bpf_prog_test_run_opts(fd, &o);
		if (ret) {
			errbuf_set(err, err_len, "test run of %s: %s", row->prog, strerror(-ret));
			return ret;
		}
		/* the warm-up run says what one run does */
		if (!b)
			res->retval = o.retval;
		else
			ns[b - 1] = (double)o.duration / MAPS_OPS;
	}
	res->ns_per_op = ns[0];
	for (unsigned b = 1; b < nb; b++)
		res->ns_per_op = ns[b] < res->ns_per_op ? ns[b] : res->ns_per_op;
	res->ok = true;
	return 0;
}

int maps_measure(const char *path, const struct maps_timing *t, struct maps_result *res, char *err,
		 size_t err_len)
{
	static const char *const plain[] = {"arr", "hash", "lru", "lpm"};
	static const char *const percpu[] = {"parr", "phash"};
	struct bpf_object *obj;
	int ret;

	memset(res, 0, maps_nrows * sizeof(*res));
	libbpf_set_print(quiet);
	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		errbuf_set(err, err_len, "%s: %s", path, strerror(errno));
		return -errno;
	}
	ret = bpf_object__load(obj);
	if (ret) {
		errbuf_set(err, err_len, "%s: load failed: %s", path, strerror(-ret));
		goto out;
	}
	for (unsigned i = 0; i < 4 && !ret; i++)
		ret = fill(obj, plain[i], false, err, err_len);
	for (unsigned i = 0; i < 2 && !ret; i++)
		ret = fill(obj, percpu[i], true, err, err_len);
	for (unsigned i = 0; i < maps_nrows && !ret; i++)
		ret = measure_row(obj, &maps_rows[i], t, &res[i], err, err_len);
out:
	bpf_object__close(obj);
	return ret;
}
