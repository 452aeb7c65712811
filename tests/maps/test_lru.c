// SPDX-License-Identifier: MIT
/*
 * Unit tests of BPF_MAP_TYPE_LRU_HASH and LRU_PERCPU_HASH: a full map
 * evicts instead of refusing, elements used since the last sweep survive,
 * the count never passes max_entries, and the hash semantics (flags,
 * iteration, deletes) are otherwise unchanged.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "maps/internal.h"

static int create(uint32_t type, uint32_t value_size, uint32_t max_entries, uint32_t flags,
		  struct map **m, char *err, size_t err_len)
{
	struct map_attr a = {.type = type,
			     .key_size = 4,
			     .value_size = value_size,
			     .max_entries = max_entries,
			     .flags = flags};

	*m = NULL;
	return map_create(&a, m, err, err_len);
}

static struct map *make(uint32_t type, uint32_t value_size, uint32_t max_entries, uint32_t flags)
{
	struct map *m;
	char err[256] = "";
	int ret = create(type, value_size, max_entries, flags, &m, err, sizeof(err));

	REQUIRE(ret == 0, "map_create: %d (%s)", ret, err);
	return m;
}

static void test_attrs(void)
{
	struct map *m;
	char err[256] = "";

	EXPECT_RET(create(BPF_MAP_TYPE_LRU_HASH, 8, 16, BPF_F_NO_PREALLOC, &m, err, sizeof(err)),
		   -524);
	EXPECT(strstr(err, "always preallocated"), "message: %s", err);
	EXPECT_RET(create(BPF_MAP_TYPE_LRU_HASH, 8, 16, BPF_F_MMAPABLE, &m, err, sizeof(err)),
		   -EINVAL);
	EXPECT(strstr(err, "not valid for an LRU hash map"), "message: %s", err);
	EXPECT_RET(create(BPF_MAP_TYPE_LRU_HASH, 8, 16, BPF_F_NO_COMMON_LRU, &m, err, sizeof(err)),
		   0);
	map_close(m);
	EXPECT_RET(
		create(BPF_MAP_TYPE_LRU_PERCPU_HASH, (32u << 10) + 1, 16, 0, &m, err, sizeof(err)),
		-E2BIG);
}

static void test_eviction_order(void)
{
	struct map *m = make(BPF_MAP_TYPE_LRU_HASH, 8, 64, 0);
	uint64_t v;
	uint32_t k, kept = 0, fresh = 0, old = 0;

	for (k = 0; k < 64; k++) {
		v = k;
		EXPECT_RET(map_update(m, &k, &v, BPF_NOEXIST), 0);
	}
	for (k = 0; k < 32; k++)
		EXPECT(map_lookup(m, &k), "key %u present", k);
	for (k = 64; k < 96; k++) {
		v = k;
		EXPECT_RET(map_update(m, &k, &v, BPF_NOEXIST), 0);
	}
	EXPECT(m->shm->state.hash.count == 64, "count %u", m->shm->state.hash.count);
	for (k = 0; k < 96; k++) {
		int ret = map_lookup_user(m, &k, &v);

		EXPECT(ret || v == k, "key %u holds its own value", k);
		if (!ret)
			*(k < 32 ? &kept : k < 64 ? &old : &fresh) += 1;
	}
	EXPECT(kept == 32 && fresh == 32 && old == 0,
	       "used keys kept %u/32, new %u/32, unused survivors %u", kept, fresh, old);
	map_close(m);
}

static void test_churn(void)
{
	struct map *m = make(BPF_MAP_TYPE_LRU_HASH, 8, 100, 0);
	uint32_t k, next, n = 0, i, bad = 0;
	unsigned seed = 7;
	uint8_t seen[5000] = {0};
	uint64_t v;
	int ret;

	for (i = 0; i < 20000; i++) {
		k = (uint32_t)rand_r(&seed) % 5000;
		v = k;
		ret = map_update(m, &k, &v, rand_r(&seed) % 2 ? BPF_ANY : BPF_NOEXIST);
		if (ret && ret != -EEXIST)
			bad++;
		if (!ret && !map_lookup(m, &k))
			bad++;
		if (i % 7 == 0)
			map_delete(m, &k);
		if (m->shm->state.hash.count > 100)
			bad++;
	}
	EXPECT(!bad, "%u inserts failed, vanished at once or overfilled the map", bad);
	k = 99999;
	EXPECT_RET(map_update(m, &k, &v, BPF_EXIST), -ENOENT);
	EXPECT_RET(map_update(m, &k, &v, 4), -EINVAL);
	for (ret = map_get_next_key(m, NULL, &next); !ret; ret = map_get_next_key(m, &k, &next)) {
		k = next;
		if (k >= 5000 || seen[k]++)
			bad++;
		if (++n > 100)
			break;
	}
	EXPECT(!bad && n == m->shm->state.hash.count && n <= 100,
	       "iteration: %u keys, %u bad, count %u", n, bad, m->shm->state.hash.count);
	map_close(m);
}

static void test_percpu_lru(void)
{
	struct map *m = make(BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 8, 0);
	size_t usize = map_user_value_size(m);
	uint8_t *buf = calloc(1, usize), *back = calloc(1, usize);
	uint32_t k, cpu, present = 0;

	for (cpu = 0; cpu < map_info(m)->nr_cpus; cpu++)
		memset(buf + cpu * 8, (int)cpu + 1, 4);
	for (k = 0; k < 20; k++)
		EXPECT_RET(map_update_user(m, &k, buf, BPF_NOEXIST), 0);
	for (k = 0; k < 20; k++)
		if (!map_lookup_user(m, &k, back)) {
			present++;
			EXPECT(!memcmp(buf, back, usize), "key %u: every CPU's copy", k);
		}
	EXPECT(present == 8, "%u keys present, want 8", present);
	EXPECT(map_lookup(m, &(uint32_t){19}), "the newest key is present");
	free(buf);
	free(back);
	map_close(m);
}

int main(void)
{
	test_attrs();
	test_eviction_order();
	test_churn();
	test_percpu_lru();
	return check_summary();
}
