// SPDX-License-Identifier: MIT
/*
 * BPF_MAP_TYPE_HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH in shared
 * memory. The LRU types differ only when full: an insertion evicts an
 * element (lru.c) instead of failing with -E2BIG.
 *
 * Layout. n_buckets chain heads (a power of two >= max_entries), n_locks
 * robust process-shared mutexes (bucket b takes lock b mod n_locks), and
 * max_entries preallocated elements (hash.h): links, generation, hash, LRU
 * reference bit, the key padded to 8, then the value; a per-CPU element
 * holds nr_cpus values, one stride apart. Elements are always preallocated
 * in the shared object, so BPF_F_NO_PREALLOC is accepted and changes
 * nothing visible.
 * Links are element indexes. A chain ends in a "nulls" marker naming its
 * bucket (bit 31 | bucket), as in the kernel's hlist_nulls. Free elements
 * form a lock-free stack whose head carries an ABA tag next to the index.
 *
 * Concurrency: per-bucket locks for writers, a lock-free read path.
 * - Writers (update, delete, user-space lookup, get_next_key) hold the
 *   bucket's lock. They change a chain with single stores: insertion fills
 *   an unlinked element, points it at the head, then publishes it as the new
 *   head; deletion stores the successor into the predecessor's link. So
 *   every chain is well formed after every store.
 * - map_lookup (the helper's path) takes no lock. It walks the chain with
 *   acquire loads. An element it stands on may be deleted and reused
 *   meanwhile; two things keep the walk correct. The nulls marker: an
 *   element moved to another bucket leads the walk to that bucket's marker,
 *   and the walk restarts. The generation: gen is even while the element is
 *   in a chain with a stable key, odd from the moment it is unlinked until
 *   its new key is in place; the reader compares the key between two reads
 *   of gen (a seqlock on the key), so it never matches a half-written key or
 *   an element that changed hands in between.
 * - A value is updated in place, under the bucket lock: like the kernel's
 *   array, a lock-free reader or a program holding the pointer may see a
 *   value being rewritten, never another key's value returned for its key.
 *
 * Invariants (lock held or not):
 * - an element is in exactly one place: a chain (gen even), the free list
 *   or one writer's hands (gen odd);
 * - count <= max_entries; count is raised before an element is taken and
 *   lowered after it is freed, so count >= elements in chains;
 * - all stored indexes are < max_entries, checked again on every use since
 *   another process may write the memory.
 *
 * A writer killed mid-operation (another process, later) leaves the lock
 * to the next locker (lock.c); since chains are well formed after every
 * store, nothing needs repair. What can be lost is one element (taken but
 * not linked, or unlinked but not freed) and its count, and a value
 * written halfway.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "maps/hash.h"

#define HASH_CREATE_FLAGS                                                                        \
	(BPF_F_NO_PREALLOC | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_ZERO_SEED | BPF_F_RDONLY_PROG | \
	 BPF_F_WRONLY_PROG)
#define HASH_MAX_BUCKETS (1u << 27) /* the kernel's limit: 16-byte buckets, u32 size */
#define HASH_MAX_LOCKS 256u
#define HASH_ELEM_HDR 48 /* struct htab_elem, for the kernel's key + value limit */

static int hash_check(const struct map_attr *attr, char *err, size_t err_len)
{
	bool percpu = attr->type == BPF_MAP_TYPE_PERCPU_HASH ||
		      attr->type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	bool lru =
		attr->type == BPF_MAP_TYPE_LRU_HASH || attr->type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	uint32_t valid = HASH_CREATE_FLAGS | (lru ? BPF_F_NO_COMMON_LRU : 0);

	if (attr->flags & ~valid) {
		errbuf_set(err, err_len, "flags 0x%x not valid for a%s hash map",
			   attr->flags & ~valid, lru ? "n LRU" : "");
		return -EINVAL;
	}
	if (lru && (attr->flags & BPF_F_NO_PREALLOC)) {
		errbuf_set(err, err_len, "an LRU hash map is always preallocated");
		return -MAP_ENOTSUPP;
	}
	if (!attr->max_entries || !attr->key_size || !attr->value_size) {
		errbuf_set(err, err_len, "key_size, value_size and max_entries must not be 0");
		return -EINVAL;
	}
	if ((uint64_t)attr->key_size + attr->value_size >= MAP_KMALLOC_MAX - HASH_ELEM_HDR) {
		errbuf_set(err, err_len, "key_size %u + value_size %u exceed %lu", attr->key_size,
			   attr->value_size, MAP_KMALLOC_MAX - HASH_ELEM_HDR);
		return -E2BIG;
	}
	if (percpu && map_round8(attr->value_size) > MAP_PCPU_UNIT_MAX) {
		errbuf_set(err, err_len, "per-CPU value_size %u exceeds %lu", attr->value_size,
			   MAP_PCPU_UNIT_MAX);
		return -E2BIG;
	}
	return 0;
}

static uint64_t align64(uint64_t n)
{
	return (n + 63) & ~63ull;
}

static int hash_layout(const struct map_info *info, union map_layout *layout, uint64_t *size,
		       char *err, size_t err_len)
{
	struct map_hash_layout *h = &layout->hash;
	uint64_t values = (uint64_t)info->nr_cpus * map_round8(info->value_size);
	uint32_t n = 1;

	while (n < info->max_entries && n <= HASH_MAX_BUCKETS)
		n <<= 1;
	if (n > HASH_MAX_BUCKETS) {
		errbuf_set(err, err_len, "max_entries %u needs more than %u buckets",
			   info->max_entries, HASH_MAX_BUCKETS);
		return -E2BIG;
	}
	h->n_buckets = n;
	h->n_locks = n < HASH_MAX_LOCKS ? n : HASH_MAX_LOCKS;
	/* below 2^32: key < 2^22, nr_cpus * stride <= 2^12 * 2^15 */
	h->elem_size = (uint32_t)(sizeof(struct hash_elem) + map_round8(info->key_size) + values);
	h->buckets_off = MAP_HDR_SIZE;
	h->locks_off = align64(h->buckets_off + (uint64_t)n * sizeof(uint32_t));
	h->elems_off = align64(h->locks_off + (uint64_t)h->n_locks * sizeof(struct map_lock));
	*size = h->elems_off + (uint64_t)info->max_entries * h->elem_size;
	return 0;
}

static uint8_t *hash_value(const struct map *m, struct hash_elem *e)
{
	return e->data + map_round8(m->info.key_size);
}

static int hash_init(struct map *m)
{
	struct map_hash_state *st = &m->shm->state.hash;
	uint32_t i;
	int ret;

	if (!(m->info.flags & BPF_F_ZERO_SEED) &&
	    getrandom(&st->seed, sizeof(st->seed), GRND_NONBLOCK) != sizeof(st->seed))
		st->seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
	m->seed = st->seed;
	for (i = 0; i < m->layout.hash.n_buckets; i++)
		m->buckets[i] = HASH_NULLS(i);

	for (i = 0; i < m->layout.hash.n_locks; i++) {
		ret = map_lock_init(&m->locks[i]);
		if (ret)
			return ret;
	}

	for (i = 0; i < m->info.max_entries; i++) {
		struct hash_elem *e = hash_elem(m, i);

		e->gen = 1;
		e->free_next = i + 1 < m->info.max_entries ? i + 1 : MAP_NIL;
	}
	st->free_head = 0;
	st->count = 0;
	return 0;
}

/*
 * A keyed 64-bit multiply-xorshift mix over 8-byte words, folded to 32 bits.
 * Every process must compute the same function: the common key sizes only
 * get it with len a constant (always inlined), so the loop and the copies
 * fold away.
 */
static inline __attribute__((always_inline)) uint32_t hash_mix(uint64_t seed, const uint8_t *p,
							       uint32_t len)
{
	uint64_t h = seed ^ ((uint64_t)len * 0x9e3779b97f4a7c15ull), w;

	for (; len >= 8; len -= 8, p += 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
	}
	if (len) {
		w = 0;
		memcpy(&w, p, len);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
	}
	h *= 0x94d049bb133111ebull;
	h ^= h >> 32;
	return (uint32_t)h;
}

static uint32_t hash_key(const struct map *m, const void *key)
{
	switch (m->info.key_size) {
	case 4:
		return hash_mix(m->seed, key, 4);
	case 8:
		return hash_mix(m->seed, key, 8);
	default:
		return hash_mix(m->seed, key, m->info.key_size);
	}
}

/*
 * Whether the element's key is key: memcmp, open-coded for the common
 * sizes. ksize is the key size when the caller knows it at compile time,
 * else 0.
 */
static inline __attribute__((always_inline)) bool
hash_key_eq(const struct map *m, const struct hash_elem *e, const void *key, uint32_t ksize)
{
	uint64_t a, b;

	switch (ksize ? ksize : m->info.key_size) {
	case 4:
		a = b = 0;
		memcpy(&a, e->data, 4);
		memcpy(&b, key, 4);
		return a == b;
	case 8:
		memcpy(&a, e->data, 8);
		memcpy(&b, key, 8);
		return a == b;
	default:
		return !memcmp(e->data, key, m->info.key_size);
	}
}

static void hash_lock(const struct map *m, uint32_t bucket)
{
	map_lock(hash_lock_of(m, bucket));
}

static void hash_unlock(const struct map *m, uint32_t bucket)
{
	map_unlock(hash_lock_of(m, bucket));
}

static uint32_t hash_pop(struct map *m)
{
	uint64_t *head = &m->shm->state.hash.free_head;
	uint64_t old = __atomic_load_n(head, __ATOMIC_ACQUIRE), new;
	uint32_t idx;

	do {
		idx = (uint32_t)old;
		if (idx >= m->info.max_entries)
			return MAP_NIL;
		/* may be stale if idx was taken meanwhile: the tag then fails the CAS */
		new = __atomic_load_n(&hash_elem(m, idx)->free_next, __ATOMIC_RELAXED);
		new |= ((old >> 32) + 1) << 32;
	} while (!__atomic_compare_exchange_n(head, &old, new, true, __ATOMIC_ACQUIRE,
					      __ATOMIC_ACQUIRE));
	return idx;
}

static void hash_push(struct map *m, uint32_t idx)
{
	uint64_t *head = &m->shm->state.hash.free_head;
	uint64_t old = __atomic_load_n(head, __ATOMIC_RELAXED), new;

	do {
		__atomic_store_n(&hash_elem(m, idx)->free_next, (uint32_t)old, __ATOMIC_RELAXED);
		new = idx | (((old >> 32) + 1) << 32);
	} while (!__atomic_compare_exchange_n(head, &old, new, true, __ATOMIC_RELEASE,
					      __ATOMIC_RELAXED));
}

static bool hash_reserve(struct map *m)
{
	uint32_t *count = &m->shm->state.hash.count;
	uint32_t c = __atomic_load_n(count, __ATOMIC_RELAXED);

	do {
		if (c >= m->info.max_entries)
			return false;
	} while (!__atomic_compare_exchange_n(count, &c, c + 1, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return true;
}

static void hash_unreserve(struct map *m)
{
	__atomic_fetch_sub(&m->shm->state.hash.count, 1, __ATOMIC_RELAXED);
}

/* The lock-free walk; see the top of the file. ksize as for hash_key_eq. */
static inline __attribute__((always_inline)) struct hash_elem *
hash_find_lockless(const struct map *m, const void *key, uint32_t hash, uint32_t ksize)
{
	uint32_t b = hash_bucket(m, hash), link, gen;
	/* a walk this long only happens under endless reuse, or corrupted memory */
	uint64_t steps = 0, limit = 4ull * m->info.max_entries + 16;
	struct hash_elem *e;

restart:
	link = __atomic_load_n(&m->buckets[b], __ATOMIC_ACQUIRE);
	while (!(link & HASH_NULLS_BIT)) {
		if (link >= m->info.max_entries || ++steps > limit)
			return NULL;
		e = hash_elem(m, link);
		gen = __atomic_load_n(&e->gen, __ATOMIC_ACQUIRE);
		if (!(gen & 1) && __atomic_load_n(&e->hash, __ATOMIC_RELAXED) == hash &&
		    hash_key_eq(m, e, key, ksize)) {
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(&e->gen, __ATOMIC_RELAXED) == gen)
				return e;
		}
		link = __atomic_load_n(&e->next, __ATOMIC_ACQUIRE);
	}
	if (link != HASH_NULLS(b))
		goto restart;
	return NULL;
}

/* With the bucket locked: the element and the link that points at it. */
static struct hash_elem *hash_find_locked(const struct map *m, const void *key, uint32_t hash,
					  uint32_t **slot)
{
	uint32_t *link = &m->buckets[hash_bucket(m, hash)];
	uint32_t steps = 0;
	struct hash_elem *e;

	while (!(*link & HASH_NULLS_BIT) && *link < m->info.max_entries &&
	       steps++ < m->info.max_entries) {
		e = hash_elem(m, *link);
		if (e->hash == hash && hash_key_eq(m, e, key, 0)) {
			*slot = link;
			return e;
		}
		link = &e->next;
	}
	return NULL;
}

/*
 * The program-side lookup, specialised at compile time for one key size
 * (4, 8, or 0: any) and one map type, so that the hash, the key compare
 * and the value's address are straight-line code: programs call it
 * directly (map_lookup_func) and it is most of a lookup's cost.
 */
static inline __attribute__((always_inline)) void *
hash_lookup_as(struct map *m, const void *key, uint32_t ksize, bool lru, bool percpu)
{
	uint32_t hash = ksize ? hash_mix(m->seed, key, ksize) : hash_key(m, key);
	struct hash_elem *e = hash_find_lockless(m, key, hash, ksize);
	uint8_t *val;

	if (!e)
		return NULL;
	if (lru)
		lru_touch(e);
	val = e->data + (ksize ? map_round8(ksize) : map_round8(m->info.key_size));
	return percpu ? val + (size_t)map_cpu_of(m) * m->stride : val;
}

#define HASH_LOOKUP_FN(name, ksize, lru, percpu)                   \
	static void *name(struct map *m, const void *key)          \
	{                                                          \
		return hash_lookup_as(m, key, ksize, lru, percpu); \
	}

HASH_LOOKUP_FN(hash_lookup_4, 4, false, false)
HASH_LOOKUP_FN(hash_lookup_8, 8, false, false)
HASH_LOOKUP_FN(hash_lookup_n, 0, false, false)
HASH_LOOKUP_FN(hash_lookup_lru_4, 4, true, false)
HASH_LOOKUP_FN(hash_lookup_lru_8, 8, true, false)
HASH_LOOKUP_FN(hash_lookup_lru_n, 0, true, false)
HASH_LOOKUP_FN(hash_lookup_pcpu_4, 4, false, true)
HASH_LOOKUP_FN(hash_lookup_pcpu_8, 8, false, true)
HASH_LOOKUP_FN(hash_lookup_pcpu_n, 0, false, true)
HASH_LOOKUP_FN(hash_lookup_lru_pcpu_4, 4, true, true)
HASH_LOOKUP_FN(hash_lookup_lru_pcpu_8, 8, true, true)
HASH_LOOKUP_FN(hash_lookup_lru_pcpu_n, 0, true, true)

/* [lru][percpu][key size 4, 8, other] */
static const map_lookup_fn hash_lookups[2][2][3] = {
	{{hash_lookup_4, hash_lookup_8, hash_lookup_n},
	 {hash_lookup_pcpu_4, hash_lookup_pcpu_8, hash_lookup_pcpu_n}},
	{{hash_lookup_lru_4, hash_lookup_lru_8, hash_lookup_lru_n},
	 {hash_lookup_lru_pcpu_4, hash_lookup_lru_pcpu_8, hash_lookup_lru_pcpu_n}},
};

static map_lookup_fn hash_lookup_for(const struct map *m)
{
	unsigned k = m->info.key_size == 4 ? 0 : m->info.key_size == 8 ? 1 : 2;

	return hash_lookups[m->lru][m->percpu][k];
}

static void *hash_lookup(struct map *m, const void *key)
{
	return hash_lookup_for(m)(m, key);
}

static int hash_attach(struct map *m)
{
	m->buckets = (uint32_t *)((uint8_t *)m->base + m->layout.hash.buckets_off);
	m->locks = (struct map_lock *)((uint8_t *)m->base + m->layout.hash.locks_off);
	m->data = (uint8_t *)m->base + m->layout.hash.elems_off;
	m->seed = m->shm->state.hash.seed;
	m->lookup = hash_lookup_for(m);
	return 0;
}

/* A free element for a new key, counted in; with the bucket locked. */
static uint32_t hash_take(struct map *m, uint32_t bucket)
{
	uint32_t idx = MAP_NIL;

	if (hash_reserve(m)) {
		idx = hash_pop(m);
		/* empty only after a writer died holding elements */
		if (idx == MAP_NIL)
			hash_unreserve(m);
	}
	/* an evicted element leaves the count as it was */
	if (idx == MAP_NIL && m->lru)
		idx = lru_evict(m, bucket);
	return idx;
}

static int hash_insert(struct map *m, const void *key, uint32_t hash, const void *value, bool user)
{
	uint32_t b = hash_bucket(m, hash), idx = hash_take(m, b);
	uint32_t *head = &m->buckets[b];
	struct hash_elem *e;

	if (idx == MAP_NIL)
		return m->lru ? -ENOMEM : -E2BIG;
	e = hash_elem(m, idx);
	/* gen is odd: lock-free readers ignore e while it is filled */
	__atomic_store_n(&e->hash, hash, __ATOMIC_RELAXED);
	__atomic_store_n(&e->ref, 0, __ATOMIC_RELAXED);
	memcpy(e->data, key, m->info.key_size);
	map_copy_in(m, hash_value(m, e), m->stride, value, user, true);
	__atomic_store_n(&e->next, *head, __ATOMIC_RELAXED);
	__atomic_store_n(&e->gen, e->gen + 1, __ATOMIC_RELEASE);
	__atomic_store_n(head, idx, __ATOMIC_RELEASE);
	return 0;
}

static void hash_rewrite(struct map *m, struct hash_elem *e, const void *value, bool user)
{
	if (user)
		map_copy_in(m, hash_value(m, e), m->stride, value, user, false);
	else
		map_value_store(m, hash_value(m, e) + (m->percpu ? map_cpu_of(m) * m->stride : 0),
				value);
	if (m->lru)
		lru_touch(e);
}

static int hash_update(struct map *m, const void *key, const void *value, uint64_t flags, bool user)
{
	uint32_t hash = hash_key(m, key), b = hash_bucket(m, hash);
	struct hash_elem *e;
	uint32_t *slot;
	int ret = 0;

	hash_lock(m, b);
	e = hash_find_locked(m, key, hash, &slot);
	if (e && flags == BPF_NOEXIST)
		ret = -EEXIST;
	else if (!e && flags == BPF_EXIST)
		ret = -ENOENT;
	else if (e)
		hash_rewrite(m, e, value, user);
	else
		ret = hash_insert(m, key, hash, value, user);
	hash_unlock(m, b);
	return ret;
}

/* Unlinks e, found through slot, and frees it; bucket locked. */
static void hash_remove(struct map *m, struct hash_elem *e, uint32_t *slot)
{
	uint32_t idx = *slot;

	__atomic_store_n(slot, e->next, __ATOMIC_RELEASE);
	/* odd before the key can change hands; e->next still leads readers on */
	__atomic_store_n(&e->gen, e->gen + 1, __ATOMIC_RELEASE);
	hash_push(m, idx);
	hash_unreserve(m);
}

/* Removes key's element, copying its value out first if value is not NULL. */
static int hash_take_out(struct map *m, const void *key, void *value)
{
	uint32_t hash = hash_key(m, key), b = hash_bucket(m, hash);
	struct hash_elem *e;
	uint32_t *slot;

	hash_lock(m, b);
	e = hash_find_locked(m, key, hash, &slot);
	if (e && value)
		map_copy_out(m, value, hash_value(m, e), m->stride);
	if (e)
		hash_remove(m, e, slot);
	hash_unlock(m, b);
	return e ? 0 : -ENOENT;
}

static int hash_delete(struct map *m, const void *key)
{
	return hash_take_out(m, key, NULL);
}

/* Locked, so the copy is of this key's value and never torn by another writer. */
static int hash_lookup_user(struct map *m, const void *key, void *value)
{
	uint32_t hash = hash_key(m, key), b = hash_bucket(m, hash);
	struct hash_elem *e;
	uint32_t *slot;

	hash_lock(m, b);
	e = hash_find_locked(m, key, hash, &slot);
	if (e)
		map_copy_out(m, value, hash_value(m, e), m->stride);
	hash_unlock(m, b);
	return e ? 0 : -ENOENT;
}

/* Copies the key at the head of bucket b, if any; b locked. */
static bool hash_first_in(const struct map *m, uint32_t b, void *next_key)
{
	uint32_t link = m->buckets[b];

	if ((link & HASH_NULLS_BIT) || link >= m->info.max_entries)
		return false;
	memcpy(next_key, hash_elem(m, link)->data, m->info.key_size);
	return true;
}

/*
 * Bucket order, then chain order, as the kernel: the successor of key in its
 * chain, else the first key of a later bucket. An absent key starts over.
 */
static int hash_get_next_key(struct map *m, const void *key, void *next_key)
{
	uint32_t hash, b = 0, link;
	struct hash_elem *e;
	uint32_t *slot;
	bool found;

	if (key) {
		hash = hash_key(m, key);
		b = hash_bucket(m, hash);
		hash_lock(m, b);
		e = hash_find_locked(m, key, hash, &slot);
		found = false;
		if (e) {
			link = e->next;
			if (!(link & HASH_NULLS_BIT) && link < m->info.max_entries) {
				memcpy(next_key, hash_elem(m, link)->data, m->info.key_size);
				found = true;
			}
		}
		hash_unlock(m, b);
		if (found)
			return 0;
		b = e ? b + 1 : 0;
	}
	for (; b < m->layout.hash.n_buckets; b++) {
		if (__atomic_load_n(&m->buckets[b], __ATOMIC_RELAXED) & HASH_NULLS_BIT)
			continue;
		hash_lock(m, b);
		found = hash_first_in(m, b, next_key);
		hash_unlock(m, b);
		if (found)
			return 0;
	}
	return -ENOENT;
}

const struct map_ops map_hash_ops = {
	.check = hash_check,
	.layout = hash_layout,
	.init = hash_init,
	.attach = hash_attach,
	.lookup = hash_lookup,
	.update = hash_update,
	.delete = hash_delete,
	.lookup_user = hash_lookup_user,
	.get_next_key = hash_get_next_key,
	.lookup_and_delete = hash_take_out,
};
