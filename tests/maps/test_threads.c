// SPDX-License-Identifier: MIT
/*
 * Threads on one HASH map at once: each counts into shared counter keys
 * through the program path (lock-free lookup, insert on first use, atomic
 * add through the pointer) while churning other keys with updates, deletes
 * and lookups. Afterwards the counters add up exactly, iteration finds no
 * key twice, and the element count is within max_entries and matches.
 * Then lock-free readers against writers that keep moving elements between
 * buckets: keys present throughout are always found with their own value,
 * keys never inserted never are; the same for LPM_TRIE lookups. Then the
 * same churn on an LRU_HASH map, where no insert may fail.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "maps/internal.h"

#define THREADS 4
#define OPS 1000000
#define COUNTERS 16
#define CHURN 400
#define MAX_ENTRIES 256

struct worker {
	struct map *m;
	bool lru;
	unsigned seed;
	uint64_t adds;
	uint64_t bad_ret;
	uint64_t bad_value;
	uint64_t full;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	uint64_t v, zero = 0, *p;
	uint32_t k;
	int i, ret, op;

	for (i = 0; i < OPS; i++) {
		op = rand_r(&w->seed) % 8;
		if (op < 3 && !w->lru) {
			k = rand_r(&w->seed) % COUNTERS;
			p = map_lookup(w->m, &k);
			if (!p) {
				ret = map_update(w->m, &k, &zero, BPF_NOEXIST);
				if (ret && ret != -EEXIST)
					w->bad_ret++;
				p = map_lookup(w->m, &k);
			}
			if (p) {
				__atomic_fetch_add(p, 1, __ATOMIC_RELAXED);
				w->adds++;
			}
			continue;
		}
		k = 1000 + rand_r(&w->seed) % CHURN;
		v = k * 7ull;
		switch (op) {
		case 0:
		case 1:
		case 2:
		case 3:
		case 4:
			ret = map_update(w->m, &k, &v, rand_r(&w->seed) % 3);
			if (ret == -E2BIG && !w->lru)
				w->full++;
			else if (ret && ret != -EEXIST && ret != -ENOENT)
				w->bad_ret++;
			break;
		case 5:
			ret = map_delete(w->m, &k);
			if (ret && ret != -ENOENT)
				w->bad_ret++;
			break;
		case 6:
			ret = map_lookup_user(w->m, &k, &v);
			if (ret == 0 && v != k * 7ull)
				w->bad_value++;
			else if (ret && ret != -ENOENT)
				w->bad_ret++;
			break;
		default:
			map_lookup(w->m, &k);
			break;
		}
	}
	return NULL;
}

static void test_hash(void)
{
	struct map_attr a = {.type = BPF_MAP_TYPE_HASH,
			     .key_size = 4,
			     .value_size = 8,
			     .max_entries = MAX_ENTRIES};
	struct worker w[THREADS];
	pthread_t t[THREADS];
	uint64_t adds = 0, sum = 0, full = 0, v;
	uint32_t k, next, n = 0, dups = 0, counters = 0;
	uint8_t seen[1000 + CHURN] = {0};
	struct map *m = NULL;
	char err[256] = "";
	int i, ret;

	EXPECT_RET(map_create(&a, &m, err, sizeof(err)), 0);
	if (!m)
		return;
	for (i = 0; i < THREADS; i++) {
		w[i] = (struct worker){.m = m, .seed = 12345u + (unsigned)i};
		pthread_create(&t[i], NULL, work, &w[i]);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		adds += w[i].adds;
		full += w[i].full;
		EXPECT(!w[i].bad_ret, "thread %d: %llu unexpected return codes", i,
		       (unsigned long long)w[i].bad_ret);
		EXPECT(!w[i].bad_value, "thread %d: %llu values of another key", i,
		       (unsigned long long)w[i].bad_value);
	}
	for (ret = map_get_next_key(m, NULL, &next); !ret; ret = map_get_next_key(m, &k, &next)) {
		k = next;
		if (k >= sizeof(seen) || seen[k]++)
			dups++;
		if (k < COUNTERS) {
			counters++;
			EXPECT_RET(map_lookup_user(m, &k, &v), 0);
			sum += v;
		}
		if (++n > MAX_ENTRIES)
			break;
	}
	EXPECT(!dups, "%u keys seen twice", dups);
	EXPECT(counters == COUNTERS, "%u counter keys, want %d", counters, COUNTERS);
	EXPECT(sum == adds, "counters add up to %llu, want %llu", (unsigned long long)sum,
	       (unsigned long long)adds);
	EXPECT(n <= MAX_ENTRIES && n == m->shm->state.hash.count,
	       "%u keys, count %u, max_entries %d", n, m->shm->state.hash.count, MAX_ENTRIES);
	printf("%llu counted adds, %u keys at the end, %llu updates refused as full\n",
	       (unsigned long long)adds, n, (unsigned long long)full);
	map_close(m);
}

#define STABLE 16
#define READS 400000

struct reader {
	struct map *m;
	uint64_t missed;  /* stable keys not found, or with another value */
	uint64_t phantom; /* never-inserted keys found */
};

static volatile int stop_writers;

static void *read_stable(void *arg)
{
	struct reader *r = arg;
	uint64_t *p;
	uint32_t k;
	int i;

	for (i = 0; i < READS; i++) {
		k = (uint32_t)i % STABLE;
		p = map_lookup(r->m, &k);
		if (!p || *p != k * 3ull)
			r->missed++;
		k = 5000 + (uint32_t)i % 100;
		if (map_lookup(r->m, &k))
			r->phantom++;
	}
	return NULL;
}

static void *churn(void *arg)
{
	struct worker *w = arg;
	uint64_t v = 1;
	uint32_t k;

	while (!__atomic_load_n(&stop_writers, __ATOMIC_RELAXED)) {
		k = 100 + rand_r(&w->seed) % 200;
		if (rand_r(&w->seed) % 2)
			map_update(w->m, &k, &v, BPF_ANY);
		else
			map_delete(w->m, &k);
	}
	return NULL;
}

static void test_lockless_reads(void)
{
	struct map_attr a = {
		.type = BPF_MAP_TYPE_HASH, .key_size = 4, .value_size = 8, .max_entries = 64};
	struct worker w[2] = {{.seed = 1}, {.seed = 2}};
	struct reader r[2];
	pthread_t wt[2], rt[2];
	struct map *m = NULL;
	uint64_t v;
	uint32_t k;
	int i;

	EXPECT_RET(map_create(&a, &m, NULL, 0), 0);
	if (!m)
		return;
	for (k = 0; k < STABLE; k++) {
		v = k * 3ull;
		EXPECT_RET(map_update(m, &k, &v, BPF_NOEXIST), 0);
	}
	for (i = 0; i < 2; i++) {
		w[i].m = m;
		r[i] = (struct reader){.m = m};
		pthread_create(&wt[i], NULL, churn, &w[i]);
		pthread_create(&rt[i], NULL, read_stable, &r[i]);
	}
	for (i = 0; i < 2; i++)
		pthread_join(rt[i], NULL);
	__atomic_store_n(&stop_writers, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 2; i++) {
		pthread_join(wt[i], NULL);
		EXPECT(!r[i].missed && !r[i].phantom,
		       "reader %d: %llu stable keys missed, %llu phantom keys found", i,
		       (unsigned long long)r[i].missed, (unsigned long long)r[i].phantom);
	}
	map_close(m);
}

static void test_lru(void)
{
	struct map_attr a = {.type = BPF_MAP_TYPE_LRU_HASH,
			     .key_size = 4,
			     .value_size = 8,
			     .max_entries = MAX_ENTRIES};
	struct worker w[THREADS];
	pthread_t t[THREADS];
	uint32_t k, next, n = 0, dups = 0;
	uint8_t seen[1000 + CHURN] = {0};
	struct map *m = NULL;
	char err[256] = "";
	int i, ret;

	EXPECT_RET(map_create(&a, &m, err, sizeof(err)), 0);
	if (!m)
		return;
	for (i = 0; i < THREADS; i++) {
		w[i] = (struct worker){.m = m, .lru = true, .seed = 777u + (unsigned)i};
		pthread_create(&t[i], NULL, work, &w[i]);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		EXPECT(!w[i].bad_ret, "LRU thread %d: %llu unexpected return codes", i,
		       (unsigned long long)w[i].bad_ret);
		EXPECT(!w[i].bad_value, "LRU thread %d: %llu values of another key", i,
		       (unsigned long long)w[i].bad_value);
	}
	for (ret = map_get_next_key(m, NULL, &next); !ret; ret = map_get_next_key(m, &k, &next)) {
		k = next;
		if (k >= sizeof(seen) || seen[k]++)
			dups++;
		if (++n > MAX_ENTRIES)
			break;
	}
	EXPECT(!dups, "LRU: %u keys seen twice", dups);
	EXPECT(n <= MAX_ENTRIES && n == m->shm->state.hash.count,
	       "LRU: %u keys, count %u, max_entries %d", n, m->shm->state.hash.count, MAX_ENTRIES);
	map_close(m);
}

/*
 * LPM: the program-side lookup reads without the lock (a seqlock, lpm.c).
 * 10.0.0.0/8 stays in the trie while writers insert and delete prefixes
 * around it (and 10.1.0.0/16 above it), so its nodes move and are reused:
 * a lookup of 10.1.2.3 must find an entry every time, and a lookup of
 * 11.0.0.1 none.
 */
struct lpm_key4 {
	uint32_t prefixlen;
	uint8_t addr[4];
};

static void *lpm_read(void *arg)
{
	struct reader *r = arg;
	struct lpm_key4 in = {32, {10, 1, 2, 3}}, out = {32, {11, 0, 0, 1}};

	for (int i = 0; i < READS; i++) {
		if (!map_lookup(r->m, &in))
			r->missed++;
		if (map_lookup(r->m, &out))
			r->phantom++;
	}
	return NULL;
}

static void *lpm_churn(void *arg)
{
	struct worker *w = arg;
	uint64_t v = 16;

	while (!__atomic_load_n(&stop_writers, __ATOMIC_RELAXED)) {
		unsigned x = (unsigned)rand_r(&w->seed);
		struct lpm_key4 k = {8 + x % 17,
				     {10, (uint8_t)(x >> 8 & 3), (uint8_t)(x >> 16), 0}};

		if (k.prefixlen == 8)
			continue;
		if (x >> 30)
			map_update(w->m, &k, &v, BPF_ANY);
		else
			map_delete(w->m, &k);
	}
	return NULL;
}

static void test_lpm_lockless_reads(void)
{
	struct map_attr a = {.type = BPF_MAP_TYPE_LPM_TRIE,
			     .key_size = sizeof(struct lpm_key4),
			     .value_size = 8,
			     .max_entries = 1024,
			     .flags = BPF_F_NO_PREALLOC};
	struct lpm_key4 base = {8, {10, 0, 0, 0}};
	struct worker w[2] = {{.seed = 3}, {.seed = 4}};
	struct reader r[2];
	pthread_t wt[2], rt[2];
	struct map *m = NULL;
	uint64_t v = 8;

	__atomic_store_n(&stop_writers, 0, __ATOMIC_RELAXED);
	EXPECT_RET(map_create(&a, &m, NULL, 0), 0);
	if (!m)
		return;
	EXPECT_RET(map_update(m, &base, &v, BPF_NOEXIST), 0);
	for (int i = 0; i < 2; i++) {
		w[i].m = m;
		r[i] = (struct reader){.m = m};
		pthread_create(&wt[i], NULL, lpm_churn, &w[i]);
		pthread_create(&rt[i], NULL, lpm_read, &r[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(rt[i], NULL);
	__atomic_store_n(&stop_writers, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 2; i++) {
		pthread_join(wt[i], NULL);
		EXPECT(!r[i].missed && !r[i].phantom,
		       "LPM reader %d: %llu lookups found no entry, %llu found one for 11.0.0.1", i,
		       (unsigned long long)r[i].missed, (unsigned long long)r[i].phantom);
	}
	map_close(m);
}

int main(void)
{
	test_hash();
	test_lockless_reads();
	test_lpm_lockless_reads();
	test_lru();
	return check_summary();
}
