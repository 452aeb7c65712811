// SPDX-License-Identifier: MIT
/*
 * Unit tests of BPF_MAP_TYPE_ARRAY and PERCPU_ARRAY: attribute checks and
 * their messages, zeroed values, update flags and bounds, delete, key
 * iteration, per-CPU copies, access flags and mmap of BPF_F_MMAPABLE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "maps/internal.h"

static struct map_attr attr_of(uint32_t type, uint32_t key_size, uint32_t value_size,
			       uint32_t max_entries, uint32_t flags)
{
	struct map_attr a = {.type = type,
			     .key_size = key_size,
			     .value_size = value_size,
			     .max_entries = max_entries,
			     .flags = flags};

	return a;
}

static void expect_refused(struct map_attr a, int code, const char *part)
{
	struct map *m = NULL;
	char err[256] = "";
	int ret = map_create(&a, &m, err, sizeof(err));

	EXPECT(ret == code, "type %u ks %u vs %u n %u flags 0x%x: %d, want %d (%s)", a.type,
	       a.key_size, a.value_size, a.max_entries, a.flags, ret, code, err);
	EXPECT(strstr(err, part), "message \"%s\" lacks \"%s\"", err, part);
	EXPECT(!m, "no map on failure");
}

static void test_bad_attrs(void)
{
	struct map_attr a;

	expect_refused(attr_of(BPF_MAP_TYPE_ARRAY, 8, 8, 4, 0), -EINVAL, "key_size must be 4");
	expect_refused(attr_of(BPF_MAP_TYPE_ARRAY, 4, 0, 4, 0), -EINVAL, "must not be 0");
	expect_refused(attr_of(BPF_MAP_TYPE_ARRAY, 4, 8, 0, 0), -EINVAL, "must not be 0");
	expect_refused(attr_of(BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_NO_PREALLOC), -EINVAL,
		       "not valid for an array");
	expect_refused(attr_of(BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_NUMA_NODE), -EINVAL,
		       "BPF_F_NUMA_NODE");
	expect_refused(attr_of(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4, BPF_F_MMAPABLE), -EINVAL,
		       "per-CPU array cannot be BPF_F_MMAPABLE");
	expect_refused(attr_of(BPF_MAP_TYPE_ARRAY, 4, 0x80000000u, 4, 0), -E2BIG, "exceeds");
	expect_refused(attr_of(BPF_MAP_TYPE_PERCPU_ARRAY, 4, (32u << 10) + 1, 4, 0), -E2BIG,
		       "per-CPU value_size");
	/* 2^32 entries of 4 MiB: no overflow, refused for memory */
	expect_refused(attr_of(BPF_MAP_TYPE_ARRAY, 4, 4u << 20, UINT32_MAX, 0), -ENOMEM,
		       "more than this machine's memory");
	expect_refused(attr_of(BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_RDONLY | BPF_F_WRONLY), -EINVAL,
		       "exclude each other");
	expect_refused(attr_of(BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG),
		       -EINVAL, "exclude each other");
	expect_refused(attr_of(4242, 4, 8, 4, 0), -EINVAL, "unknown map type 4242");
	expect_refused(attr_of(BPF_MAP_TYPE_BLOOM_FILTER, 0, 8, 16, 0), -EOPNOTSUPP,
		       "bloom_filter (30) is not supported");
	a = attr_of(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	a.map_extra = 1;
	expect_refused(a, -EINVAL, "map_extra");
	a.map_extra = 0;
	strcpy(a.name, "bad-name");
	expect_refused(a, -EINVAL, "character 0x2d");
	memset(a.name, 'a', sizeof(a.name));
	expect_refused(a, -EINVAL, "longer than 15");
	EXPECT_RET(map_create(NULL, NULL, NULL, 0), -EINVAL);
}

static struct map *make(uint32_t type, uint32_t value_size, uint32_t max_entries, uint32_t flags)
{
	struct map_attr a = attr_of(type, 4, value_size, max_entries, flags);
	struct map *m = NULL;
	char err[256] = "";
	int ret;

	strcpy(a.name, "test.array_1");
	ret = map_create(&a, &m, err, sizeof(err));
	REQUIRE(ret == 0, "map_create: %d (%s)", ret, err);
	return m;
}

static void test_array_basic(void)
{
	struct map *m = make(BPF_MAP_TYPE_ARRAY, 5, 10, 0);
	const struct map_info *info = map_info(m);
	uint8_t val[5], zero[5] = {0}, one[5] = {1, 2, 3, 4, 5};
	uint32_t k, next, seen = 0;
	uint8_t *p;

	EXPECT(info->type == BPF_MAP_TYPE_ARRAY && info->key_size == 4 && info->value_size == 5 &&
		       info->max_entries == 10 && info->nr_cpus == 1 &&
		       !strcmp(info->name, "test.array_1"),
	       "info fields");
	EXPECT(map_user_value_size(m) == 5, "user value size %zu", map_user_value_size(m));
	for (k = 0; k < 10; k++) {
		memset(val, 0xff, sizeof(val));
		EXPECT_RET(map_lookup_user(m, &k, val), 0);
		EXPECT(!memcmp(val, zero, 5), "entry %u starts zeroed", k);
	}
	k = 3;
	EXPECT_RET(map_update_user(m, &k, one, BPF_ANY), 0);
	EXPECT_RET(map_lookup_user(m, &k, val), 0);
	EXPECT(!memcmp(val, one, 5), "value written");
	EXPECT_RET(map_update_user(m, &k, one, BPF_NOEXIST), -EEXIST);
	EXPECT_RET(map_update_user(m, &k, zero, BPF_EXIST), 0);
	EXPECT_RET(map_update(m, &k, one, BPF_F_LOCK), -EINVAL);
	EXPECT_RET(map_update(m, &k, one, 3), -EINVAL);
	EXPECT_RET(map_delete(m, &k), -EINVAL);
	EXPECT_RET(map_delete_user(m, &k), -EINVAL);

	/* the program's pointer is the value itself, 8-byte aligned */
	p = map_lookup(m, &k);
	EXPECT(p && ((uintptr_t)p & 7) == 0, "lookup gives an aligned pointer");
	if (p)
		p[4] = 42;
	EXPECT_RET(map_lookup_user(m, &k, val), 0);
	EXPECT(val[4] == 42, "write through the pointer seen by user space");

	k = 10;
	EXPECT(!map_lookup(m, &k), "lookup past the end is NULL");
	EXPECT_RET(map_lookup_user(m, &k, val), -ENOENT);
	EXPECT_RET(map_update_user(m, &k, one, BPF_ANY), -E2BIG);
	EXPECT_RET(map_update(m, &k, one, BPF_EXIST), -E2BIG);

	EXPECT_RET(map_get_next_key(m, NULL, &next), 0);
	EXPECT(next == 0, "first key is 0, got %u", next);
	k = 12345;
	EXPECT_RET(map_get_next_key(m, &k, &next), 0);
	EXPECT(next == 0, "out-of-range key restarts at 0, got %u", next);
	for (k = 0;; k = next) {
		seen |= 1u << k;
		if (map_get_next_key(m, &k, &next))
			break;
		EXPECT(next == k + 1, "next of %u is %u", k, next);
	}
	EXPECT(seen == 0x3ff && k == 9, "iteration visits 0..9 once, seen 0x%x", seen);
	k = 9;
	EXPECT_RET(map_get_next_key(m, &k, &next), -ENOENT);
	map_close(m);
}

static void test_access_flags(void)
{
	struct map *m = make(BPF_MAP_TYPE_ARRAY, 8, 2, BPF_F_RDONLY);
	uint64_t v = 7;
	uint32_t k = 0, next;

	EXPECT_RET(map_update_user(m, &k, &v, BPF_ANY), -EPERM);
	EXPECT_RET(map_delete_user(m, &k), -EPERM);
	EXPECT_RET(map_update(m, &k, &v, BPF_ANY), 0);
	EXPECT_RET(map_lookup_user(m, &k, &v), 0);
	EXPECT(v == 7, "read back %llu", (unsigned long long)v);
	map_close(m);

	m = make(BPF_MAP_TYPE_ARRAY, 8, 2, BPF_F_WRONLY);
	EXPECT_RET(map_update_user(m, &k, &v, BPF_ANY), 0);
	EXPECT_RET(map_lookup_user(m, &k, &v), -EPERM);
	EXPECT_RET(map_get_next_key(m, NULL, &next), -EPERM);
	map_close(m);
}

static void pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void test_percpu_array(void)
{
	struct map *m = make(BPF_MAP_TYPE_PERCPU_ARRAY, 12, 4, 0);
	uint32_t ncpu = map_info(m)->nr_cpus, cpu, k = 2;
	size_t usize = map_user_value_size(m);
	uint8_t *buf = calloc(1, usize), *back = calloc(1, usize), one[12];
	uint8_t *p;

	EXPECT(ncpu >= 1, "nr_cpus %u", ncpu);
	EXPECT(usize == ncpu * 16, "user value: %u CPUs x 16, got %zu", ncpu, usize);
	for (cpu = 0; cpu < ncpu; cpu++)
		memset(buf + cpu * 16, (int)cpu + 1, 12);
	EXPECT_RET(map_update_user(m, &k, buf, BPF_ANY), 0);
	EXPECT_RET(map_lookup_user(m, &k, back), 0);
	EXPECT(!memcmp(buf, back, usize), "every CPU's copy round-trips");

	pin_cpu(0);
	p = map_lookup(m, &k);
	EXPECT(p && p[0] == 1 && p[11] == 1, "program sees CPU 0's copy");
	memset(one, 0xaa, sizeof(one));
	EXPECT_RET(map_update(m, &k, one, BPF_EXIST), 0);
	EXPECT_RET(map_lookup_user(m, &k, back), 0);
	EXPECT(back[0] == 0xaa && back[11] == 0xaa && back[12] == 0, "CPU 0's copy written");
	for (cpu = 1; cpu < ncpu; cpu++)
		EXPECT(back[cpu * 16] == cpu + 1, "CPU %u's copy untouched", cpu);
	if (ncpu > 1) {
		pin_cpu(1);
		p = map_lookup(m, &k);
		EXPECT(p && p[0] == 2, "pinned to CPU 1, the program sees its copy");
	}
	k = 4;
	EXPECT_RET(map_update_user(m, &k, buf, BPF_ANY), -E2BIG);
	EXPECT_RET(map_lookup_user(m, &k, back), -ENOENT);
	EXPECT(!map_lookup(m, &k), "lookup past the end");
	free(buf);
	free(back);
	map_close(m);
}

static void test_mmapable(void)
{
	struct map *m = make(BPF_MAP_TYPE_ARRAY, 8, 1000, BPF_F_MMAPABLE), *o = NULL;
	char err[256] = "";
	long page = sysconf(_SC_PAGESIZE);
	size_t off = 1, len = 0;
	uint64_t v = 0x1122334455667788ull, *vals;
	uint32_t k = 999;

	EXPECT_RET(map_mmap_range(m, &off, &len), 0);
	EXPECT(off == 0 && len % page == 0 && len >= 8000, "range %zu+%zu", off, len);
	vals = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd(m), (off_t)off);
	EXPECT(vals != MAP_FAILED, "mmap of the values");
	if (vals != MAP_FAILED) {
		EXPECT_RET(map_update_user(m, &k, &v, BPF_ANY), 0);
		EXPECT(vals[999] == v, "update seen through mmap");
		vals[5] = 77;
		k = 5;
		EXPECT_RET(map_lookup_user(m, &k, &v), 0);
		EXPECT(v == 77, "mmap write seen by lookup");
		/* a value that looks like a header does not hide the real one */
		memcpy(vals, m->shm, sizeof(*m->shm));
		EXPECT_RET(map_open_fd(map_fd(m), &o, err, sizeof(err)), 0);
		if (o) {
			k = 999;
			EXPECT_RET(map_lookup_user(o, &k, &v), 0);
			EXPECT(v == 0x1122334455667788ull, "value through a second handle");
			map_close(o);
		}
		munmap(vals, len);
	}
	map_close(m);
	m = make(BPF_MAP_TYPE_ARRAY, 8, 10, 0);
	EXPECT_RET(map_mmap_range(m, &off, &len), -EINVAL);
	map_close(m);
}

int main(void)
{
	test_bad_attrs();
	test_array_basic();
	test_access_flags();
	test_percpu_array();
	test_mmapable();
	return check_summary();
}
