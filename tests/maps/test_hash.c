// SPDX-License-Identifier: MIT
/*
 * Unit tests of BPF_MAP_TYPE_HASH and PERCPU_HASH: attribute checks, update
 * flags, a full map, element reuse, key iteration (every key once, deletes
 * while iterating), program pointers and per-CPU copies.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "maps/maps.h"

static int create(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t max_entries,
		  uint32_t flags, struct map **m, char *err, size_t err_len)
{
	struct map_attr a = {.type = type,
			     .key_size = key_size,
			     .value_size = value_size,
			     .max_entries = max_entries,
			     .flags = flags};

	*m = NULL;
	return map_create(&a, m, err, err_len);
}

static void expect_refused(uint32_t type, uint32_t ks, uint32_t vs, uint32_t n, uint32_t flags,
			   int code, const char *part)
{
	struct map *m;
	char err[256] = "";
	int ret = create(type, ks, vs, n, flags, &m, err, sizeof(err));

	EXPECT(ret == code, "ks %u vs %u n %u flags 0x%x: %d, want %d (%s)", ks, vs, n, flags, ret,
	       code, err);
	EXPECT(strstr(err, part), "message \"%s\" lacks \"%s\"", err, part);
	if (!ret)
		map_close(m);
}

static void test_bad_attrs(void)
{
	const uint32_t H = BPF_MAP_TYPE_HASH, P = BPF_MAP_TYPE_PERCPU_HASH;

	expect_refused(H, 0, 8, 4, 0, -EINVAL, "must not be 0");
	expect_refused(H, 4, 0, 4, 0, -EINVAL, "must not be 0");
	expect_refused(H, 4, 8, 0, 0, -EINVAL, "must not be 0");
	expect_refused(H, 4, 8, 4, BPF_F_MMAPABLE, -EINVAL, "not valid for a hash map");
	expect_refused(H, 4, 8, 4, BPF_F_NO_COMMON_LRU, -EINVAL, "not valid for a hash map");
	expect_refused(H, 4, (4u << 20) - 52, 4, 0, -E2BIG, "exceed");
	expect_refused(P, 4, (32u << 10) + 1, 4, 0, -E2BIG, "per-CPU value_size");
	expect_refused(H, 4, 8, (1u << 27) + 1, 0, -E2BIG, "buckets");
	expect_refused(H, 4, 4u << 20, UINT32_MAX, 0, -E2BIG, "exceed");
	expect_refused(H, 8, 1u << 20, 1u << 27, 0, -ENOMEM, "memory");
}

static struct map *make(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t max_entries,
			uint32_t flags)
{
	struct map *m;
	char err[256] = "";
	int ret = create(type, key_size, value_size, max_entries, flags, &m, err, sizeof(err));

	REQUIRE(ret == 0, "map_create: %d (%s)", ret, err);
	return m;
}

struct key7 {
	uint8_t b[7];
};

static struct key7 key7(uint32_t i)
{
	struct key7 k = {{(uint8_t)i, (uint8_t)(i >> 8), (uint8_t)(i >> 16), 0x5a, 0, 0, 1}};

	return k;
}

static void test_flags_and_full(void)
{
	struct map *m = make(BPF_MAP_TYPE_HASH, 7, 12, 100, 0);
	uint8_t val[12], got[12];
	struct key7 k;
	uint32_t i;
	uint8_t *p;

	k = key7(1);
	memset(val, 1, sizeof(val));
	EXPECT(!map_lookup(m, &k), "empty map");
	EXPECT_RET(map_lookup_user(m, &k, got), -ENOENT);
	EXPECT_RET(map_delete(m, &k), -ENOENT);
	EXPECT_RET(map_update(m, &k, val, BPF_EXIST), -ENOENT);
	EXPECT_RET(map_update(m, &k, val, BPF_F_LOCK), -EINVAL);
	EXPECT_RET(map_update(m, &k, val, 3), -EINVAL);
	EXPECT_RET(map_update(m, &k, val, BPF_NOEXIST), 0);
	EXPECT_RET(map_update(m, &k, val, BPF_NOEXIST), -EEXIST);
	val[0] = 2;
	EXPECT_RET(map_update_user(m, &k, val, BPF_EXIST), 0);
	EXPECT_RET(map_lookup_user(m, &k, got), 0);
	EXPECT(!memcmp(got, val, 12), "updated in place");
	p = map_lookup(m, &k);
	EXPECT(p && ((uintptr_t)p & 7) == 0 && p[0] == 2, "program pointer to the value");
	if (p)
		p[11] = 99;
	EXPECT_RET(map_lookup_user(m, &k, got), 0);
	EXPECT(got[11] == 99, "write through the pointer seen");

	for (i = 2; i <= 100; i++) {
		k = key7(i);
		EXPECT_RET(map_update_user(m, &k, val, BPF_ANY), 0);
	}
	k = key7(101);
	EXPECT_RET(map_update_user(m, &k, val, BPF_ANY), -E2BIG);
	EXPECT_RET(map_update_user(m, &k, val, BPF_NOEXIST), -E2BIG);
	EXPECT_RET(map_update_user(m, &k, val, BPF_EXIST), -ENOENT);
	/* replacing a value never needs a free element */
	k = key7(50);
	EXPECT_RET(map_update_user(m, &k, val, BPF_ANY), 0);
	EXPECT_RET(map_update_user(m, &k, val, BPF_EXIST), 0);
	EXPECT_RET(map_update_user(m, &k, val, BPF_NOEXIST), -EEXIST);
	EXPECT_RET(map_delete_user(m, &k), 0);
	EXPECT_RET(map_delete_user(m, &k), -ENOENT);
	EXPECT(!map_lookup(m, &k), "deleted key gone");
	k = key7(101);
	EXPECT_RET(map_update_user(m, &k, val, BPF_NOEXIST), 0);
	k = key7(102);
	EXPECT_RET(map_update_user(m, &k, val, BPF_NOEXIST), -E2BIG);
	k = key7(101);
	memset(got, 0, sizeof(got));
	EXPECT_RET(map_lookup_and_delete_user(m, &k, got, BPF_F_LOCK), -EINVAL);
	EXPECT_RET(map_lookup_and_delete_user(m, &k, got, 0), 0);
	EXPECT(!memcmp(got, val, sizeof(val)), "lookup_and_delete copies the value out");
	EXPECT_RET(map_lookup_and_delete_user(m, &k, got, 0), -ENOENT);
	EXPECT(!map_lookup(m, &k), "and the key is gone");
	k = key7(102);
	EXPECT_RET(map_update_user(m, &k, val, BPF_NOEXIST), 0);
	map_close(m);
}

/* Iterates the map and checks every key in [lo, hi) is visited exactly once. */
static void expect_keys(struct map *m, uint32_t lo, uint32_t hi)
{
	uint8_t *seen = calloc(hi + 1, 1);
	struct key7 k, next;
	uint32_t n = 0, i, bad = 0;
	int ret;

	for (ret = map_get_next_key(m, NULL, &next); !ret; ret = map_get_next_key(m, &k, &next)) {
		i = next.b[0] | next.b[1] << 8 | next.b[2] << 16;
		if (i < lo || i >= hi || seen[i]++)
			bad++;
		k = next;
		if (++n > hi)
			break;
	}
	EXPECT(ret == -ENOENT, "iteration ends with -ENOENT, got %d", ret);
	EXPECT(!bad && n == hi - lo, "iteration: %u keys, %u bad, want %u", n, bad, hi - lo);
	free(seen);
}

static void test_iteration(void)
{
	struct map *m = make(BPF_MAP_TYPE_HASH, 7, 8, 1000, 0);
	uint64_t v = 0;
	struct key7 k, next, first;
	uint32_t i, n;

	EXPECT_RET(map_get_next_key(m, NULL, &next), -ENOENT);
	for (i = 0; i < 1000; i++) {
		k = key7(i);
		EXPECT_RET(map_update(m, &k, &v, BPF_NOEXIST), 0);
	}
	expect_keys(m, 0, 1000);
	EXPECT_RET(map_get_next_key(m, NULL, &first), 0);
	k = key7(5000);
	EXPECT_RET(map_get_next_key(m, &k, &next), 0);
	EXPECT(!memcmp(&next, &first, sizeof(next)), "absent key gives the first key");

	/* the kernel's idiom: fetch the next key, then delete the current one */
	EXPECT_RET(map_get_next_key(m, NULL, &k), 0);
	for (n = 1;; n++) {
		int ret = map_get_next_key(m, &k, &next);

		EXPECT_RET(map_delete(m, &k), 0);
		if (ret)
			break;
		k = next;
	}
	EXPECT(n == 1000, "deleted %u while iterating", n);
	EXPECT_RET(map_get_next_key(m, NULL, &next), -ENOENT);

	/* elements are reused: many rounds of fill and empty */
	for (n = 0; n < 20; n++) {
		for (i = 0; i < 1000; i++) {
			k = key7(i + n);
			if (map_update(m, &k, &v, BPF_NOEXIST))
				break;
		}
		EXPECT(i == 1000, "round %u: filled %u", n, i);
		k = key7(5000);
		EXPECT_RET(map_update(m, &k, &v, BPF_NOEXIST), -E2BIG);
		for (i = 0; i < 1000; i++) {
			k = key7(i + n);
			if (map_delete(m, &k))
				break;
		}
		EXPECT(i == 1000, "round %u: emptied %u", n, i);
	}
	for (i = 10; i < 20; i++) {
		k = key7(i);
		EXPECT_RET(map_update(m, &k, &v, BPF_ANY), 0);
	}
	expect_keys(m, 10, 20);
	map_close(m);
}

static void test_zero_seed(void)
{
	struct map *a = make(BPF_MAP_TYPE_HASH, 4, 4, 64, BPF_F_ZERO_SEED);
	struct map *b = make(BPF_MAP_TYPE_HASH, 4, 4, 64, BPF_F_ZERO_SEED);
	uint32_t i, ka, kb, same = 1;
	int ra, rb;

	for (i = 0; i < 50; i++) {
		map_update(a, &i, &i, BPF_ANY);
		map_update(b, &i, &i, BPF_ANY);
	}
	ra = map_get_next_key(a, NULL, &ka);
	rb = map_get_next_key(b, NULL, &kb);
	while (!ra && !rb) {
		same &= ka == kb;
		ra = map_get_next_key(a, &ka, &ka);
		rb = map_get_next_key(b, &kb, &kb);
	}
	EXPECT(same && ra == rb, "BPF_F_ZERO_SEED maps iterate alike");
	map_close(a);
	map_close(b);
}

static void test_big_keys(void)
{
	struct map *m = make(BPF_MAP_TYPE_HASH, 512, 1, 4, 0);
	uint8_t k[512], v = 3, got = 0;

	memset(k, 0x11, sizeof(k));
	EXPECT_RET(map_update(m, k, &v, BPF_ANY), 0);
	k[511] = 0x12;
	EXPECT(!map_lookup(m, k), "keys differing in the last byte differ");
	k[511] = 0x11;
	EXPECT_RET(map_lookup_user(m, k, &got), 0);
	EXPECT(got == 3, "1-byte value");
	map_close(m);
}

static void pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void test_percpu_hash(void)
{
	struct map *m = make(BPF_MAP_TYPE_PERCPU_HASH, 4, 4, 8, 0);
	uint32_t ncpu = map_info(m)->nr_cpus, cpu, k = 7, v = 0xabcd;
	size_t usize = map_user_value_size(m);
	uint8_t *buf = malloc(usize);
	uint32_t *p;

	EXPECT(usize == ncpu * 8ul, "user value %zu for %u CPUs", usize, ncpu);
	pin_cpu(0);
	memset(buf, 0xee, usize);
	EXPECT_RET(map_update(m, &k, &v, BPF_NOEXIST), 0);
	EXPECT_RET(map_lookup_user(m, &k, buf), 0);
	EXPECT(*(uint32_t *)buf == 0xabcd && *(uint32_t *)(buf + 4) == 0,
	       "CPU 0 copy written, padding zero");
	for (cpu = 1; cpu < ncpu; cpu++)
		EXPECT(*(uint64_t *)(buf + cpu * 8) == 0, "a new element's CPU %u copy is zero",
		       cpu);
	for (cpu = 0; cpu < ncpu; cpu++)
		*(uint64_t *)(buf + cpu * 8) = 100 + cpu;
	EXPECT_RET(map_update_user(m, &k, buf, BPF_EXIST), 0);
	p = map_lookup(m, &k);
	EXPECT(p && *p == 100, "program on CPU 0 sees its copy");
	if (ncpu > 1) {
		pin_cpu(1);
		p = map_lookup(m, &k);
		EXPECT(p && *p == 101, "program on CPU 1 sees its copy");
		v = 5;
		EXPECT_RET(map_update(m, &k, &v, BPF_ANY), 0);
		EXPECT_RET(map_lookup_user(m, &k, buf), 0);
		EXPECT(*(uint64_t *)buf == 100 && *(uint64_t *)(buf + 8) == 5,
		       "program update of an existing element writes one copy");
	}
	memset(buf, 0, usize);
	EXPECT_RET(map_lookup_and_delete_user(m, &k, buf, 0), 0);
	EXPECT(*(uint64_t *)buf == 100 && (ncpu < 2 || *(uint64_t *)(buf + 8) == 5),
	       "lookup_and_delete copies every CPU's value");
	EXPECT_RET(map_delete(m, &k), -ENOENT);
	EXPECT_RET(map_lookup_user(m, &k, buf), -ENOENT);
	free(buf);
	map_close(m);
}

int main(void)
{
	test_bad_attrs();
	test_flags_and_full();
	test_iteration();
	test_zero_seed();
	test_big_keys();
	test_percpu_hash();
	return check_summary();
}
