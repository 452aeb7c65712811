// SPDX-License-Identifier: MIT
/*
 * Eviction for BPF_MAP_TYPE_LRU_HASH and LRU_PERCPU_HASH: CLOCK, an
 * approximation of LRU as the kernel's own (two lists with reference bits)
 * is one. A lookup or an update sets the element's ref; an insertion into a
 * full map sweeps a hand, shared by every process, over the elements,
 * clearing ref, and evicts the first element not used since the hand last
 * passed. Recently used elements survive; the victim is not necessarily
 * the least recent one.
 *
 * The inserter holds its own bucket's lock. Waiting for another bucket's
 * lock while holding one could deadlock two inserters, so victims under
 * another lock are taken only with trylock and skipped when it is busy.
 * A victim is unlinked under its bucket's lock exactly as a delete would,
 * and handed to the inserter still counted, so the count never moves.
 */
#include "maps/hash.h"

/* The link pointing at element idx in bucket b's chain, or NULL; b locked. */
static uint32_t *lru_slot(const struct map *m, uint32_t b, uint32_t idx)
{
	uint32_t *link = &m->buckets[b];
	uint32_t steps = 0;

	while (!(*link & HASH_NULLS_BIT) && *link < m->info.max_entries &&
	       steps++ < m->info.max_entries) {
		if (*link == idx)
			return link;
		link = &hash_elem(m, *link)->next;
	}
	return NULL;
}

/* Two sweeps: the first may only clear ref bits. */
uint32_t lru_evict(struct map *m, uint32_t held)
{
	uint32_t *hand = &m->shm->state.hash.clock, i, gen, b, *slot;
	uint64_t tries = 2ull * m->info.max_entries + 64;
	struct map_lock *mine = hash_lock_of(m, held), *lock;
	struct hash_elem *e;

	while (tries--) {
		i = __atomic_fetch_add(hand, 1, __ATOMIC_RELAXED) % m->info.max_entries;
		e = hash_elem(m, i);
		gen = __atomic_load_n(&e->gen, __ATOMIC_ACQUIRE);
		if (gen & 1)
			continue;
		if (__atomic_load_n(&e->ref, __ATOMIC_RELAXED)) {
			__atomic_store_n(&e->ref, 0, __ATOMIC_RELAXED);
			continue;
		}
		b = hash_bucket(m, __atomic_load_n(&e->hash, __ATOMIC_RELAXED));
		lock = hash_lock_of(m, b);
		if (lock != mine && !map_trylock(lock))
			continue;
		/* e may have moved since gen was read: only take it where it now is */
		slot = lru_slot(m, b, i);
		if (slot && __atomic_load_n(&e->gen, __ATOMIC_RELAXED) == gen) {
			__atomic_store_n(slot, e->next, __ATOMIC_RELEASE);
			__atomic_store_n(&e->gen, gen + 1, __ATOMIC_RELEASE);
		} else {
			slot = NULL;
		}
		if (lock != mine)
			map_unlock(lock);
		if (slot)
			return i;
	}
	return MAP_NIL;
}
