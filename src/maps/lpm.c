// SPDX-License-Identifier: MIT
/*
 * BPF_MAP_TYPE_LPM_TRIE: longest-prefix match over keys
 * {u32 prefixlen; u8 data[key_size - 4]}, bits taken most significant
 * first, as the kernel's lpm_trie.
 *
 * The trie is the kernel's: a path-compressed binary trie where every node
 * holds a prefix, entries are real nodes, and an intermediate node (no
 * value) joins two subtrees whose prefixes part at its length; it always
 * has two children. For a given set of prefixes the shape is unique, so
 * get_next_key walks the same postorder as the kernel (child 0, child 1,
 * then the node) and agrees with it key for key.
 *
 * Nodes come from a pool of 2 * max_entries in shared memory (entries and
 * at most as many intermediate nodes), linked by index. Pool nodes are
 * handed out in order the first time, so a large trie's memory is only
 * touched as it fills, and freed nodes are reused through a free list.
 *
 * One robust lock (lock.c) serialises every change and the user-space
 * reads. Each change publishes with a single store into a parent's link (a
 * new subtree is complete before it is linked; a removed one is unlinked
 * before it is freed), so a process killed mid-update leaves the trie
 * whole, losing at most the nodes it held. A value pointer from map_lookup
 * stays valid until its entry is deleted.
 *
 * The program-side lookup takes no lock: a sequence count (state.seq)
 * brackets every change, odd while the writer works, as a seqlock. The
 * reader walks the trie between two reads of it and keeps its answer only
 * if both are the same even number; a walk over nodes being rewritten is
 * bounded all the same (indexes are checked, depth is at most the key's
 * bits). After a few failed tries, or with the count odd for good (a
 * writer died holding the lock), it reads under the lock. A writer makes
 * the count odd whatever it found, so one that recovers a dead writer's
 * lock ends with it even again.
 *
 * The length index, for keys of up to 16 data bytes (IPv4, IPv6): the
 * trie's walk is a chain of dependent loads, one per bit where prefixes
 * part, so programs look up through a hash of the entries by (prefix
 * length, key bits under it) instead, with a bitmap of the lengths that
 * have entries. A lookup probes the lengths present, longest first, up to
 * the key's own: the first entry found is the longest match. With more
 * lengths present than LPM_INDEX_PROBES it walks the trie. The index
 * changes under the lock and the sequence count with the trie, entry by
 * entry (lpm_index_add, lpm_index_del); a writer that dies between the two
 * leaves them apart, so whoever inherits the lock from a dead holder
 * rebuilds the index from the trie (lpm_lock).
 */
#include <errno.h>
#include <linux/bpf.h>
#include <string.h>

#include "common/errbuf.h"
#include "maps/internal.h"

#define LPM_CREATE_FLAGS \
	(BPF_F_NO_PREALLOC | BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)
#define LPM_DATA_MAX 256
#define LPM_KEY_HDR 4 /* the u32 prefixlen before the data */
/* The kernel's bound: the value shares a kmalloc'ed node with the key. */
#define LPM_VALUE_MAX (MAP_KMALLOC_MAX - LPM_DATA_MAX - 24)
#define LPM_MAX_ENTRIES 0x7fffffffu /* 2 * max_entries node indexes fit in u32 */
#define LPM_IM 1u		    /* intermediate: joins two subtrees, holds no entry */
#define LPM_READ_TRIES 4	    /* lock-free walks of a lookup before it takes the lock */
#define LPM_INDEX_DATA 16	    /* key data bytes the length index serves */
#define LPM_INDEX_LENS (8 * LPM_INDEX_DATA + 1)
#define LPM_INDEX_PROBES 8 /* lengths to probe before the trie walk is the faster */

struct lpm_node {
	uint32_t child[2];
	uint32_t prefixlen;
	uint32_t flags;
	uint32_t hnext;	 /* the length index's chain: node index or MAP_NIL */
	uint32_t bucket; /* its chain in the length index */
	uint8_t data[];	 /* key data padded to 8, then the value */
};

/* Key data of up to 16 bytes as two big-endian halves, cut to its first len bits. */
struct lpm_bits {
	uint64_t hi, lo;
};

static int lpm_check(const struct map_attr *attr, char *err, size_t err_len)
{
	if (attr->flags & ~LPM_CREATE_FLAGS) {
		errbuf_set(err, err_len, "flags 0x%x not valid for an LPM trie",
			   attr->flags & ~LPM_CREATE_FLAGS);
		return -EINVAL;
	}
	if (!(attr->flags & BPF_F_NO_PREALLOC)) {
		errbuf_set(err, err_len, "an LPM trie needs BPF_F_NO_PREALLOC");
		return -EINVAL;
	}
	if (attr->key_size <= LPM_KEY_HDR || attr->key_size > LPM_KEY_HDR + LPM_DATA_MAX) {
		errbuf_set(err, err_len, "LPM key_size must be 4 + 1..%d data bytes, not %u",
			   LPM_DATA_MAX, attr->key_size);
		return -EINVAL;
	}
	if (!attr->value_size || attr->value_size > LPM_VALUE_MAX) {
		errbuf_set(err, err_len, "LPM value_size must be 1..%lu, not %u", LPM_VALUE_MAX,
			   attr->value_size);
		return -EINVAL;
	}
	if (!attr->max_entries) {
		errbuf_set(err, err_len, "max_entries must not be 0");
		return -EINVAL;
	}
	return 0;
}

static int lpm_layout(const struct map_info *info, union map_layout *layout, uint64_t *size,
		      char *err, size_t err_len)
{
	struct map_lpm_layout *l = &layout->lpm;

	if (info->max_entries > LPM_MAX_ENTRIES) {
		errbuf_set(err, err_len, "an LPM trie of %u entries needs more than %u nodes",
			   info->max_entries, 2 * LPM_MAX_ENTRIES);
		return -ENOMEM;
	}
	l->lock_off = MAP_HDR_SIZE;
	l->nodes_off = MAP_HDR_SIZE + sizeof(struct map_lock);
	l->n_nodes = 2 * info->max_entries;
	l->node_size =
		(uint32_t)(sizeof(struct lpm_node) + map_round8(info->key_size - LPM_KEY_HDR) +
			   map_round8(info->value_size));
	*size = l->nodes_off + (uint64_t)l->n_nodes * l->node_size;
	l->index_off = 0;
	l->n_buckets = 0;
	l->pad = 0;
	if (info->key_size - LPM_KEY_HDR <= LPM_INDEX_DATA) {
		uint32_t n = 1;

		while (n < info->max_entries && n < (1u << 30))
			n <<= 1;
		l->index_off = (*size + 63) & ~63ull;
		l->n_buckets = n;
		*size = l->index_off + (uint64_t)n * sizeof(uint32_t) +
			LPM_INDEX_LENS * sizeof(uint32_t);
	}
	return 0;
}

static struct map_lock *lpm_lock_of(const struct map *m)
{
	return (struct map_lock *)((uint8_t *)m->base + m->layout.lpm.lock_off);
}

static int lpm_attach(struct map *m)
{
	m->data = (uint8_t *)m->base + m->layout.lpm.nodes_off;
	m->buckets = m->layout.lpm.n_buckets
			     ? (uint32_t *)((uint8_t *)m->base + m->layout.lpm.index_off)
			     : NULL;
	return 0;
}

/* The length index's count of entries of each length, after its chain heads. */
static uint32_t *lpm_len_counts(const struct map *m)
{
	return m->buckets + m->layout.lpm.n_buckets;
}

static int lpm_init(struct map *m)
{
	struct map_lpm_state *st = &m->shm->state.lpm;

	st->root = MAP_NIL;
	st->free_head = MAP_NIL;
	for (uint32_t b = 0; b < m->layout.lpm.n_buckets; b++)
		m->buckets[b] = MAP_NIL;
	return map_lock_init(lpm_lock_of(m));
}

/* Node idx, or NULL for MAP_NIL and for indexes another process corrupted. */
static struct lpm_node *lpm_node(const struct map *m, uint32_t idx)
{
	if (idx >= m->layout.lpm.n_nodes)
		return NULL;
	return (struct lpm_node *)(m->data + (size_t)idx * m->layout.lpm.node_size);
}

static uint32_t lpm_data_size(const struct map *m)
{
	return m->info.key_size - LPM_KEY_HDR;
}

static uint8_t *lpm_value(const struct map *m, struct lpm_node *n)
{
	return n->data + map_round8(lpm_data_size(m));
}

static uint32_t lpm_key_len(const void *key)
{
	uint32_t len;

	memcpy(&len, key, sizeof(len));
	return len;
}

static const uint8_t *lpm_key_data(const void *key)
{
	return (const uint8_t *)key + LPM_KEY_HDR;
}

static unsigned lpm_bit(const uint8_t *data, uint32_t index)
{
	return (data[index / 8] >> (7 - index % 8)) & 1;
}

/* Bits node and key share from the top, up to the shorter prefix. */
static uint32_t lpm_match(const struct map *m, const struct lpm_node *n, const void *key)
{
	uint32_t limit = n->prefixlen < lpm_key_len(key) ? n->prefixlen : lpm_key_len(key);
	const uint8_t *kd = lpm_key_data(key);
	uint32_t i, len = 0, size = lpm_data_size(m);

	/* four bytes at a time, most significant first, then byte by byte */
	for (i = 0; i + 4 <= size && len < limit; i += 4) {
		uint32_t a, b, diff;

		memcpy(&a, n->data + i, 4);
		memcpy(&b, kd + i, 4);
		diff = __builtin_bswap32(a ^ b);
		if (diff) {
			len += (uint32_t)__builtin_clz(diff);
			return len < limit ? len : limit;
		}
		len += 32;
	}
	for (; i < size && len < limit; i++) {
		uint8_t diff = n->data[i] ^ kd[i];

		if (diff) {
			len += (uint32_t)__builtin_clz(diff) - 24;
			break;
		}
		len += 8;
	}
	return len < limit ? len : limit;
}

static uint32_t lpm_alloc(struct map *m)
{
	struct map_lpm_state *st = &m->shm->state.lpm;
	struct lpm_node *n = lpm_node(m, st->free_head);
	uint32_t idx;

	if (n) {
		idx = st->free_head;
		st->free_head = n->child[0];
		return idx;
	}
	if (st->used >= m->layout.lpm.n_nodes)
		return MAP_NIL;
	return st->used++;
}

static void lpm_free(struct map *m, uint32_t idx)
{
	struct lpm_node *n = lpm_node(m, idx);

	if (!n)
		return;
	n->child[0] = m->shm->state.lpm.free_head;
	m->shm->state.lpm.free_head = idx;
}

/* Up to 8 bytes of key data as a big-endian number: bit 0 of the key is bit 63. */
static inline uint64_t lpm_word(const uint8_t *data, uint32_t size)
{
	uint64_t w = 0;

	memcpy(&w, data, size);
	return __builtin_bswap64(w);
}

/*
 * The entry with the longest prefix matching key, or NULL; locked, or
 * checked by the caller's sequence count. small: the key data fits 8 bytes,
 * so a node's match is one xor and a count of leading zeros (IPv4 keys).
 */
static inline __attribute__((always_inline)) struct lpm_node *
lpm_find_as(const struct map *m, const void *key, bool small)
{
	uint32_t max = 8 * lpm_data_size(m), len, depth = 0, klen = lpm_key_len(key);
	struct lpm_node *n = lpm_node(m, m->shm->state.lpm.root), *found = NULL;
	uint64_t kw = small ? lpm_word(lpm_key_data(key), lpm_data_size(m)) : 0, diff;
	unsigned bit;

	/* as the kernel: a key longer than the data matches nothing */
	if (klen > max)
		return NULL;
	while (n && depth++ <= max) {
		if (small) {
			/* bytes past the data size are masked off by the prefix lengths */
			diff = kw ^ lpm_word(n->data, map_round8(lpm_data_size(m)));
			len = diff ? (uint32_t)__builtin_clzll(diff) : 64;
			len = len < n->prefixlen ? len : n->prefixlen;
			len = len < klen ? len : klen;
		} else {
			len = lpm_match(m, n, key);
		}
		if (len == max) {
			found = n;
			break;
		}
		if (len < n->prefixlen)
			break;
		if (!(n->flags & LPM_IM))
			found = n;
		/* prefixlen < max here: the bit exists */
		bit = small ? (unsigned)(kw >> (63 - n->prefixlen)) & 1
			    : lpm_bit(lpm_key_data(key), n->prefixlen);
		n = lpm_node(m, n->child[bit]);
	}
	return found && !(found->flags & LPM_IM) ? found : NULL;
}

static struct lpm_node *lpm_find(const struct map *m, const void *key)
{
	return lpm_data_size(m) <= 8 ? lpm_find_as(m, key, true) : lpm_find_as(m, key, false);
}

/* b cut to its first len bits. */
static inline struct lpm_bits lpm_bits_cut(struct lpm_bits b, uint32_t len)
{
	if (len < 64) {
		b.hi &= len ? ~0ull << (64 - len) : 0;
		b.lo = 0;
	} else if (len < 128) {
		b.lo &= len > 64 ? ~0ull << (128 - len) : 0;
	}
	return b;
}

/*
 * The first len bits of data (size bytes, at most 16), the rest zero. size
 * is a constant in the lookups of the common sizes (always inlined), so
 * the loads are plain ones.
 */
static inline __attribute__((always_inline)) struct lpm_bits
lpm_bits_of(const uint8_t *data, uint32_t size, uint32_t len)
{
	struct lpm_bits b;

	b.hi = lpm_word(data, size < 8 ? size : 8);
	b.lo = size > 8 ? lpm_word(data + 8, size - 8) : 0;
	return lpm_bits_cut(b, len);
}

static inline uint32_t lpm_index_hash(const struct map *m, struct lpm_bits b, uint32_t len)
{
	uint64_t h = (b.hi ^ len) * 0x9e3779b97f4a7c15ull;

	h = (h ^ (h >> 29) ^ b.lo) * 0xbf58476d1ce4e5b9ull;
	return (uint32_t)(h >> 32) & (m->layout.lpm.n_buckets - 1);
}

/* Adds entry node idx to the length index; locked, inside a change. */
static void lpm_index_add(struct map *m, uint32_t idx)
{
	struct lpm_node *n = lpm_node(m, idx);
	struct map_lpm_state *st = &m->shm->state.lpm;
	uint32_t len, b;

	if (!m->buckets || !n || n->prefixlen >= LPM_INDEX_LENS)
		return;
	len = n->prefixlen;
	b = lpm_index_hash(m, lpm_bits_of(n->data, lpm_data_size(m), len), len);
	n->bucket = b;
	n->hnext = m->buckets[b];
	__atomic_store_n(&m->buckets[b], idx, __ATOMIC_RELEASE);
	if (!lpm_len_counts(m)[len]++)
		__atomic_fetch_or(&st->lens[len / 64], 1ull << (len % 64), __ATOMIC_RELAXED);
}

/* Takes entry node idx out of the length index; locked, inside a change. */
static void lpm_index_del(struct map *m, uint32_t idx)
{
	struct lpm_node *n = lpm_node(m, idx), *p;
	struct map_lpm_state *st = &m->shm->state.lpm;
	uint32_t *link, steps = 0, len;

	if (!m->buckets || !n || n->prefixlen >= LPM_INDEX_LENS ||
	    n->bucket >= m->layout.lpm.n_buckets)
		return;
	len = n->prefixlen;
	for (link = &m->buckets[n->bucket]; *link != idx; link = &p->hnext) {
		p = lpm_node(m, *link);
		if (!p || ++steps > m->layout.lpm.n_nodes)
			return;
	}
	__atomic_store_n(link, n->hnext, __ATOMIC_RELEASE);
	if (lpm_len_counts(m)[len] && !--lpm_len_counts(m)[len])
		__atomic_fetch_and(&st->lens[len / 64], ~(1ull << (len % 64)), __ATOMIC_RELAXED);
}

/*
 * Rebuilds the length index from the trie, after a writer died between
 * the two; locked, inside a change. Depth-first with a stack of pending
 * subtrees: at most one per level and the one being taken.
 */
static void lpm_index_rebuild(struct map *m)
{
	uint32_t stack[2 * LPM_INDEX_LENS + 2], depth = 0, idx, steps = 0;
	struct map_lpm_state *st = &m->shm->state.lpm;
	struct lpm_node *n;

	if (!m->buckets)
		return;
	for (uint32_t b = 0; b < m->layout.lpm.n_buckets; b++)
		m->buckets[b] = MAP_NIL;
	memset(lpm_len_counts(m), 0, LPM_INDEX_LENS * sizeof(uint32_t));
	memset(st->lens, 0, sizeof(st->lens));
	if (st->root != MAP_NIL)
		stack[depth++] = st->root;
	while (depth && steps++ < m->layout.lpm.n_nodes) {
		idx = stack[--depth];
		n = lpm_node(m, idx);
		if (!n)
			continue;
		if (!(n->flags & LPM_IM))
			lpm_index_add(m, idx);
		for (unsigned c = 0; c < 2; c++) {
			if (n->child[c] != MAP_NIL && depth < sizeof(stack) / sizeof(stack[0]))
				stack[depth++] = n->child[c];
		}
	}
}

/*
 * The longest entry matching key through the length index, or NULL; *ok
 * false when the index cannot answer (too many lengths to probe), so the
 * trie must. Lock-free: the caller's sequence count vouches for the result;
 * the walk is bounded whatever it reads.
 */
static inline __attribute__((always_inline)) struct lpm_node *
lpm_index_find_as(const struct map *m, const void *key, bool *ok, uint32_t size)
{
	uint32_t klen = lpm_key_len(key), max = 8 * size, steps, len, link;
	const struct map_lpm_state *st = &m->shm->state.lpm;
	uint64_t lens[3];
	struct lpm_bits kb, b;
	struct lpm_node *n;
	unsigned present = 0;

	*ok = true;
	if (klen > max)
		return NULL;
	for (unsigned w = 0; w < 3; w++) {
		lens[w] = __atomic_load_n(&st->lens[w], __ATOMIC_RELAXED);
		/* only lengths up to the key's own */
		if (klen < 64 * w)
			lens[w] = 0;
		else if (klen < 64 * w + 63)
			lens[w] &= ~0ull >> (63 - (klen - 64 * w));
		present += (unsigned)__builtin_popcountll(lens[w]);
	}
	if (present > LPM_INDEX_PROBES) {
		*ok = false;
		return NULL;
	}
	kb = lpm_bits_of(lpm_key_data(key), size, max);
	for (unsigned w = 3; w-- > 0;) {
		while (lens[w]) {
			len = 64 * w + 63 - (uint32_t)__builtin_clzll(lens[w]);
			lens[w] &= ~(1ull << (len % 64));
			b = lpm_bits_cut(kb, len);
			link = __atomic_load_n(&m->buckets[lpm_index_hash(m, b, len)],
					       __ATOMIC_ACQUIRE);
			for (steps = 0; link != MAP_NIL && steps++ < m->layout.lpm.n_nodes;
			     link = __atomic_load_n(&n->hnext, __ATOMIC_ACQUIRE)) {
				struct lpm_bits nb;

				n = lpm_node(m, link);
				if (!n)
					break;
				if (n->prefixlen != len || (n->flags & LPM_IM))
					continue;
				nb = lpm_bits_of(n->data, size, len);
				if (nb.hi == b.hi && nb.lo == b.lo)
					return n;
			}
		}
	}
	return NULL;
}

/* lpm_index_find_as for the map's data size, the common ones specialised. */
static struct lpm_node *lpm_index_find(const struct map *m, const void *key, bool *ok)
{
	switch (lpm_data_size(m)) {
	case 4:
		return lpm_index_find_as(m, key, ok, 4);
	case 16:
		return lpm_index_find_as(m, key, ok, 16);
	default:
		return lpm_index_find_as(m, key, ok, lpm_data_size(m));
	}
}

/* The lock, and after a holder's death the index made whole again (see the top). */
static void lpm_lock(struct map *m)
{
	if (map_lock_inherit(lpm_lock_of(m))) {
		uint32_t *seq = &m->shm->state.lpm.seq;
		uint32_t s = __atomic_load_n(seq, __ATOMIC_RELAXED) | 1;

		__atomic_store_n(seq, s, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_RELEASE);
		lpm_index_rebuild(m);
		__atomic_store_n(seq, s + 1, __ATOMIC_RELEASE);
	}
}

static void *lpm_lookup(struct map *m, const void *key)
{
	const uint32_t *seq = &m->shm->state.lpm.seq;
	struct lpm_node *n = NULL;

	for (unsigned i = 0; i < LPM_READ_TRIES; i++) {
		uint32_t s = __atomic_load_n(seq, __ATOMIC_ACQUIRE);

		bool ok = false;

		if (s & 1)
			continue;
		if (m->buckets)
			n = lpm_index_find(m, key, &ok);
		if (!ok)
			n = lpm_find(m, key);
		/* the walk's loads complete before the count is read again */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(seq, __ATOMIC_RELAXED) == s)
			return n ? lpm_value(m, n) : NULL;
	}
	lpm_lock(m);
	n = lpm_find(m, key);
	map_unlock(lpm_lock_of(m));
	return n ? lpm_value(m, n) : NULL;
}

static int lpm_lookup_user(struct map *m, const void *key, void *value)
{
	struct lpm_node *n;

	lpm_lock(m);
	n = lpm_find(m, key);
	if (n)
		memcpy(value, lpm_value(m, n), m->info.value_size);
	map_unlock(lpm_lock_of(m));
	return n ? 0 : -ENOENT;
}

/* Room for one more entry, as the kernel checks it. */
static int lpm_may_add(const struct map *m, uint64_t flags)
{
	if (flags == BPF_EXIST)
		return -ENOENT;
	if (m->shm->state.lpm.count >= m->info.max_entries)
		return -ENOSPC;
	return 0;
}

static void lpm_fill(const struct map *m, struct lpm_node *n, const void *key, const void *value)
{
	n->prefixlen = lpm_key_len(key);
	memcpy(n->data, lpm_key_data(key), lpm_data_size(m));
	if (value)
		memcpy(lpm_value(m, n), value, m->info.value_size);
}

/*
 * Links a new entry at *slot, above or beside node (NULL: the slot is
 * empty), len being the bits they share; locked, room checked.
 */
static int lpm_link(struct map *m, uint32_t *slot, struct lpm_node *node, uint32_t len,
		    const void *key, const void *value)
{
	uint32_t idx = lpm_alloc(m), entry = idx, im_idx;
	struct lpm_node *n = lpm_node(m, idx), *im;
	unsigned side;

	if (!n)
		return -ENOMEM;
	lpm_fill(m, n, key, value);
	n->flags = 0;
	n->child[0] = n->child[1] = MAP_NIL;
	if (node && len == lpm_key_len(key)) {
		/* the new entry is a prefix of node: it becomes node's parent */
		n->child[lpm_bit(node->data, len)] = *slot;
	} else if (node) {
		im_idx = lpm_alloc(m);
		im = lpm_node(m, im_idx);
		if (!im) {
			lpm_free(m, idx);
			return -ENOMEM;
		}
		lpm_fill(m, im, key, NULL);
		im->prefixlen = len;
		im->flags = LPM_IM;
		side = lpm_bit(lpm_key_data(key), len);
		im->child[side] = idx;
		im->child[!side] = *slot;
		idx = im_idx;
	}
	__atomic_store_n(slot, idx, __ATOMIC_RELEASE);
	lpm_index_add(m, entry);
	m->shm->state.lpm.count++;
	return 0;
}

/* With the lock held: open and close a change, for lock-free readers. */
static uint32_t lpm_write_begin(struct map *m)
{
	uint32_t *seq = &m->shm->state.lpm.seq;
	uint32_t s = __atomic_load_n(seq, __ATOMIC_RELAXED) | 1;

	__atomic_store_n(seq, s, __ATOMIC_RELAXED);
	/* the odd count is visible before any store of the change */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	return s;
}

static void lpm_write_end(struct map *m, uint32_t s)
{
	__atomic_store_n(&m->shm->state.lpm.seq, s + 1, __ATOMIC_RELEASE);
}

static int lpm_update(struct map *m, const void *key, const void *value, uint64_t flags, bool user)
{
	uint32_t max = 8 * lpm_data_size(m), klen = lpm_key_len(key), len = 0, depth = 0;
	uint32_t *slot = &m->shm->state.lpm.root, seq;
	struct lpm_node *n;
	bool fresh = false;
	int ret = 0;

	(void)user;
	if (klen > max)
		return -EINVAL;
	lpm_lock(m);
	seq = lpm_write_begin(m);
	for (n = lpm_node(m, *slot); n && depth++ <= max; n = lpm_node(m, *slot)) {
		len = lpm_match(m, n, key);
		if (n->prefixlen != len || n->prefixlen == klen || n->prefixlen == max)
			break;
		slot = &n->child[lpm_bit(lpm_key_data(key), n->prefixlen)];
	}
	if (n && n->prefixlen == len) {
		/* this very prefix: an entry to rewrite, or an intermediate node to fill */
		if (!(n->flags & LPM_IM)) {
			if (flags == BPF_NOEXIST)
				ret = -EEXIST;
		} else {
			ret = lpm_may_add(m, flags);
			if (!ret)
				m->shm->state.lpm.count++;
			fresh = true;
		}
		if (!ret) {
			lpm_fill(m, n, key, value);
			n->flags = 0;
			if (fresh)
				lpm_index_add(m, *slot);
		}
	} else {
		ret = lpm_may_add(m, flags);
		if (!ret)
			ret = lpm_link(m, slot, n, len, key, value);
	}
	lpm_write_end(m, seq);
	map_unlock(lpm_lock_of(m));
	return ret;
}

static int lpm_delete(struct map *m, const void *key)
{
	uint32_t max = 8 * lpm_data_size(m), klen = lpm_key_len(key), len = 0, depth = 0;
	uint32_t *slot = &m->shm->state.lpm.root, *parent_slot = slot, idx, pidx = MAP_NIL, seq;
	struct lpm_node *n, *parent = NULL;
	int ret = 0;

	if (klen > max)
		return -EINVAL;
	lpm_lock(m);
	seq = lpm_write_begin(m);
	for (n = lpm_node(m, *slot); n && depth++ <= max; n = lpm_node(m, *slot)) {
		len = lpm_match(m, n, key);
		if (n->prefixlen != len || n->prefixlen == klen)
			break;
		parent = n;
		pidx = *slot;
		parent_slot = slot;
		slot = &n->child[lpm_bit(lpm_key_data(key), n->prefixlen)];
	}
	if (!n || n->prefixlen != klen || len != klen || (n->flags & LPM_IM)) {
		ret = -ENOENT;
		goto out;
	}
	m->shm->state.lpm.count--;
	idx = *slot;
	lpm_index_del(m, idx);
	if (n->child[0] != MAP_NIL && n->child[1] != MAP_NIL) {
		/* still joins two subtrees */
		n->flags = LPM_IM;
	} else if (parent && (parent->flags & LPM_IM) && n->child[0] == MAP_NIL &&
		   n->child[1] == MAP_NIL) {
		/* a leaf under an intermediate node: the sibling takes the parent's place */
		__atomic_store_n(parent_slot, parent->child[parent->child[0] == idx],
				 __ATOMIC_RELEASE);
		lpm_free(m, idx);
		lpm_free(m, pidx);
	} else {
		__atomic_store_n(slot, n->child[n->child[0] == MAP_NIL], __ATOMIC_RELEASE);
		lpm_free(m, idx);
	}
out:
	lpm_write_end(m, seq);
	map_unlock(lpm_lock_of(m));
	return ret;
}

/* The first entry in postorder under node idx: its leftmost leaf. */
static struct lpm_node *lpm_leftmost(const struct map *m, uint32_t idx)
{
	struct lpm_node *n = lpm_node(m, idx), *found = NULL;
	uint32_t depth = 0, max = 8 * lpm_data_size(m);

	while (n && depth++ <= max) {
		if (!(n->flags & LPM_IM)) {
			found = n;
			if (n->child[0] == MAP_NIL) {
				n = lpm_node(m, n->child[1]);
				continue;
			}
		}
		n = lpm_node(m, n->child[0]);
	}
	return found;
}

/* Postorder successor of key's entry; from the first entry if key is NULL or absent. */
static int lpm_get_next_key(struct map *m, const void *key, void *next_key)
{
	uint32_t max = 8 * lpm_data_size(m), stack[8 * LPM_DATA_MAX + 1], depth = 0, len = 0;
	uint32_t idx = m->shm->state.lpm.root, klen;
	struct lpm_node *n = NULL, *parent, *next = NULL;

	lpm_lock(m);
	if (!key || lpm_key_len(key) > max)
		goto first;
	klen = lpm_key_len(key);
	for (n = lpm_node(m, idx); n && depth <= max; n = lpm_node(m, idx)) {
		stack[depth++] = idx;
		len = lpm_match(m, n, key);
		if (n->prefixlen != len || n->prefixlen == klen || n->prefixlen == max)
			break;
		idx = n->child[lpm_bit(lpm_key_data(key), n->prefixlen)];
	}
	if (!n || n->prefixlen != klen || len != klen || (n->flags & LPM_IM))
		goto first;
	for (; depth > 1; depth--) {
		parent = lpm_node(m, stack[depth - 2]);
		if (parent->child[0] == stack[depth - 1] && parent->child[1] != MAP_NIL) {
			next = lpm_leftmost(m, parent->child[1]);
			break;
		}
		if (!(parent->flags & LPM_IM)) {
			next = parent;
			break;
		}
	}
	goto copy;
first:
	next = lpm_leftmost(m, m->shm->state.lpm.root);
copy:
	if (next) {
		memcpy(next_key, &next->prefixlen, sizeof(next->prefixlen));
		memcpy((uint8_t *)next_key + LPM_KEY_HDR, next->data, lpm_data_size(m));
	}
	map_unlock(lpm_lock_of(m));
	return next ? 0 : -ENOENT;
}

const struct map_ops map_lpm_ops = {
	.check = lpm_check,
	.layout = lpm_layout,
	.init = lpm_init,
	.attach = lpm_attach,
	.lookup = lpm_lookup,
	.update = lpm_update,
	.delete = lpm_delete,
	.lookup_user = lpm_lookup_user,
	.get_next_key = lpm_get_next_key,
};
