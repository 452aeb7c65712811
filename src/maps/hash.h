/* SPDX-License-Identifier: MIT */
/*
 * The hash map's elements and locks, shared by hash.c (the table and its
 * concurrency, explained there) and lru.c (eviction for the LRU types).
 */
#ifndef UEBPF_MAPS_HASH_H
#define UEBPF_MAPS_HASH_H

#include "maps/internal.h"

#define HASH_NULLS_BIT (1u << 31)
#define HASH_NULLS(b) (HASH_NULLS_BIT | (b))

struct hash_elem {
	uint32_t next; /* chain link: element index or HASH_NULLS(bucket) */
	uint32_t gen;  /* even: in a chain, key stable; odd: off-chain */
	uint32_t hash;
	uint32_t free_next; /* free-list link, apart from next for readers still walking */
	uint32_t ref;	    /* LRU: used since the clock hand last passed */
	uint32_t pad;
	uint8_t data[]; /* key, padded to 8, then the value(s) */
};

static inline struct hash_elem *hash_elem(const struct map *m, uint32_t idx)
{
	return (struct hash_elem *)(m->data + (size_t)idx * m->layout.hash.elem_size);
}

static inline uint32_t hash_bucket(const struct map *m, uint32_t hash)
{
	return hash & (m->layout.hash.n_buckets - 1);
}

static inline struct map_lock *hash_lock_of(const struct map *m, uint32_t bucket)
{
	return &m->locks[bucket & (m->layout.hash.n_locks - 1)];
}

/* A use of e, for the LRU: written only when it changes, to keep lookups read-only. */
static inline void lru_touch(struct hash_elem *e)
{
	if (!__atomic_load_n(&e->ref, __ATOMIC_RELAXED))
		__atomic_store_n(&e->ref, 1, __ATOMIC_RELAXED);
}

/*
 * Unlinks the least recently used element it can find and hands it to the
 * caller (gen odd, off every list), or returns MAP_NIL. The caller holds
 * the lock of bucket held.
 */
uint32_t lru_evict(struct map *m, uint32_t held);

#endif
