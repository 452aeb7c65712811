/* SPDX-License-Identifier: MIT */
/*
 * maps internals: the layout of the shared object, the per-process handle
 * and the table of operations each map type provides.
 *
 * The object starts with 4 KiB of header (struct map_shm); data that user
 * space maps on its own (the ring buffer's data) starts on a page boundary
 * after it. A BPF_F_MMAPABLE array is the exception: its values come first
 * and the header takes the page after them, because libbpf maps the values
 * at offset 0 of the map's fd, as the kernel lays them out (map_hdr_off).
 * The header's layout part is a pure function of the attributes and the
 * CPU count: a process that opens the map recomputes it and refuses the map
 * unless it matches, so offsets read from shared memory are trusted only
 * once proven equal to ones computed locally.
 */
#ifndef UEBPF_MAPS_INTERNAL_H
#define UEBPF_MAPS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/rseq.h>
#include <linux/bpf.h>

#include "maps/maps.h"

#define MAP_MAGIC 0x50414d4650424555ull /* "UEBPFMAP" */
#define MAP_VERSION 1
#define MAP_HDR_SIZE 4096ul
#define MAP_MAX_CPUS 4096u
#define MAP_NIL UINT32_MAX

/* Kernel limits the map types share. */
#define MAP_KMALLOC_MAX (4ul << 20)    /* KMALLOC_MAX_SIZE on x86-64 */
#define MAP_PCPU_UNIT_MAX (32ul << 10) /* PCPU_MIN_UNIT_SIZE */
#define MAP_CACHE_LINE 64ul
/* The kernel's ENOTSUPP, which bpf() passes to user space; libc has no name for it. */
#define MAP_ENOTSUPP 524

struct map_array_layout {
	uint64_t values_off;
	uint64_t values_len; /* page-rounded, for mmap */
};

struct map_hash_layout {
	uint64_t buckets_off; /* n_buckets uint32 chain heads */
	uint64_t locks_off;   /* n_locks struct map_lock */
	uint64_t elems_off;   /* max_entries elements of elem_size bytes */
	uint32_t n_buckets;
	uint32_t n_locks;
	uint32_t elem_size;
	uint32_t pad;
};

struct map_queue_layout {
	uint64_t lock_off;  /* one struct map_lock */
	uint64_t slots_off; /* max_entries + 1 slots of value_stride bytes */
};

struct map_queue_state {
	uint32_t head; /* next slot to push into */
	uint32_t tail; /* oldest value; head == tail when empty */
};

struct map_lpm_layout {
	uint64_t lock_off;  /* one struct map_lock */
	uint64_t nodes_off; /* n_nodes nodes of node_size bytes */
	uint32_t n_nodes;   /* entries plus as many intermediate nodes */
	uint32_t node_size;
	uint64_t index_off; /* the length index (lpm.c): 0 for keys of more than 16 data bytes */
	uint32_t n_buckets; /* its chain heads, a power of two, then its per-length counts */
	uint32_t pad;
};

struct map_lpm_state {
	uint32_t root;	    /* node index or MAP_NIL */
	uint32_t free_head; /* nodes released, linked through child[0] */
	uint32_t used;	    /* nodes ever handed out: the rest are untouched */
	uint32_t count;	    /* entries, intermediate nodes excluded */
	uint32_t seq;	    /* odd while a writer changes the trie (lpm.c) */
	uint32_t pad;
	uint64_t lens[3];   /* the index's prefix lengths with entries, bit per length */
};

struct map_ringbuf_layout {
	uint64_t ctl_off;  /* lock and positions, one page */
	uint64_t data_off; /* max_entries bytes, page-aligned for the double mapping */
};

struct map_hash_state {
	uint64_t seed;
	uint64_t free_head; /* free list: element index | ABA tag << 32 */
	uint32_t count;	    /* elements in the map */
	uint32_t clock;	    /* LRU: the eviction hand, an element index mod max_entries */
};

struct map_shm {
	uint64_t magic; /* written last at creation: a half-made map has none */
	uint32_t version;
	uint32_t type;
	uint64_t size; /* of the whole object */
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t flags;
	uint32_t nr_cpus;
	uint32_t value_stride; /* value_size rounded up to 8 */
	char name[MAP_NAME_LEN];
	union map_layout {
		struct map_array_layout array;
		struct map_hash_layout hash;
		struct map_queue_layout queue;
		struct map_lpm_layout lpm;
		struct map_ringbuf_layout ringbuf;
	} layout;
	union {
		struct map_hash_state hash;
		struct map_queue_state queue;
		struct map_lpm_state lpm;
	} state;
};

_Static_assert(sizeof(struct map_shm) <= MAP_HDR_SIZE, "header fits its page");

struct map_ops;

/* Consumers a ring's producers wake (wake.c): one slot per sleeping consumer's pipe. */
#define MAP_WAITQ_SLOTS 8

struct map_waiter {
	int32_t pid; /* 0: free; -1: being filled */
	int32_t fd;  /* the pipe's write end in process pid */
	uint64_t ino, dev;
};

struct map_waitq {
	uint32_t armed; /* a consumer is about to sleep */
	uint32_t pad;
	struct map_waiter waiter[MAP_WAITQ_SLOTS];
};

/* A lock on its own cache line. */
struct map_lock {
	pthread_mutex_t mutex;
} __attribute__((aligned(64)));

struct map {
	int fd;
	void *base;
	size_t size;
	struct map_shm *shm;
	const struct map_ops *ops;
	/* copies of the validated header: shared memory is not trusted twice */
	struct map_info info;
	uint32_t stride;
	bool percpu;
	bool lru;
	union map_layout layout;
	uint8_t *data; /* array values, hash elements, trie nodes, ring (mapped twice) */
	uint32_t *buckets;
	struct map_lock *locks;
	uint64_t seed;
	/* what map_lookup calls: ops->lookup, or the type's variant for this map (attach) */
	map_lookup_fn lookup;
	struct perf_cache *perf; /* PERF_EVENT_ARRAY: rings this process opened (perf_array.c) */
};

/*
 * A map type. check validates the type-specific attributes; layout computes
 * the object's size and the type's layout (a pure function of attributes
 * and CPU count); init, if any, fills a fresh object; attach sets the handle's
 * pointers from the validated layout, leaving nothing behind if it fails,
 * and detach, if any, undoes what attach set up besides. The element operations are those of
 * maps.h, without the checks maps.c already made; update serves both sides
 * (user tells which).
 */
/*
 * For map types whose values programs cannot reach by key (prog arrays,
 * queues, ring buffers, perf event arrays): lookup finds nothing, and an
 * element update, where the type has none, fails as in the kernel.
 */
void *map_no_lookup(struct map *m, const void *key);
int map_no_update(struct map *m, const void *key, const void *value, uint64_t flags, bool user);

struct map_ops {
	int (*check)(const struct map_attr *attr, char *err, size_t err_len);
	int (*layout)(const struct map_info *info, union map_layout *layout, uint64_t *size,
		      char *err, size_t err_len);
	int (*init)(struct map *m);
	int (*attach)(struct map *m);
	void (*detach)(struct map *m);
	void *(*lookup)(struct map *m, const void *key);
	int (*update)(struct map *m, const void *key, const void *value, uint64_t flags, bool user);
	int (*delete)(struct map *m, const void *key);
	int (*lookup_user)(struct map *m, const void *key, void *value);
	int (*get_next_key)(struct map *m, const void *key, void *next_key);
	/* BPF_MAP_LOOKUP_AND_DELETE_ELEM, where the kernel has it */
	int (*lookup_and_delete)(struct map *m, const void *key, void *value);
	/* QUEUE and STACK only: push, and pop or peek (del false) */
	int (*push)(struct map *m, const void *value, uint64_t flags);
	int (*pop)(struct map *m, void *value, bool del);
};

extern const struct map_ops map_array_ops;
extern const struct map_ops map_prog_array_ops;
extern const struct map_ops map_hash_ops;
extern const struct map_ops map_queue_ops;
extern const struct map_ops map_lpm_ops;
extern const struct map_ops map_ringbuf_ops;
extern const struct map_ops map_perf_array_ops;

/* shm.c: the map's file and its mapping. */
int map_shm_create(const char *name, uint64_t size, int *fd, void **base, char *err,
		   size_t err_len);
int map_shm_attach(int fd, size_t *size, void **base, char *err, size_t err_len);
void map_shm_release(void *base, size_t size);

/* lock.c: robust process-shared locks, see there. */
int map_lock_init(struct map_lock *l);
void map_lock(struct map_lock *l);
/* map_lock, true when the lock came from a holder that died (to repair after it). */
bool map_lock_inherit(struct map_lock *l);
bool map_trylock(struct map_lock *l);
void map_unlock(struct map_lock *l);

/* cpu.c */
uint32_t map_possible_cpus(void);
/* The CPU this thread runs on now (rseq's cpu_id, else sched_getcpu; 0 if unknown). */
uint32_t map_cpu_now(void);

/*
 * map_this_cpu, its common case inline for the lookups: the CPU the kernel
 * keeps in this thread's rseq area, when registered and in range.
 */
static inline uint32_t map_cpu_of(const struct map *m)
{
	int32_t cpu = -1;

	if (__rseq_size)
		cpu = *(const volatile int32_t *)((const char *)__builtin_thread_pointer() +
						  __rseq_offset + offsetof(struct rseq, cpu_id));
	return (uint32_t)cpu < m->info.nr_cpus ? (uint32_t)cpu : map_this_cpu(m);
}

/* Where the header of a map with these attributes and layout starts in its object. */
static inline uint64_t map_hdr_off(const struct map_info *info, const union map_layout *layout)
{
	if (info->type == BPF_MAP_TYPE_ARRAY && (info->flags & BPF_F_MMAPABLE))
		return layout->array.values_len;
	return 0;
}

static inline uint32_t map_round8(uint32_t n)
{
	return (n + 7) & ~7u;
}

/*
 * Value copies of one element, whose CPU copies lie step bytes apart from
 * val. A program writes value_size bytes of this CPU's copy, and on a fresh
 * element zeroes the others, as the kernel does; user space writes every
 * copy from a buffer of nr_cpus strides. Copy-out gives user space the same
 * buffer form.
 */
void map_copy_in(const struct map *m, uint8_t *val, size_t step, const void *value, bool user,
		 bool fresh);
void map_copy_out(const struct map *m, void *value, const uint8_t *val, size_t step);

/*
 * A program's value into one copy (map_copy_in's own case, inline for the
 * updates of an existing entry): value_size bytes and zeroed padding, the
 * common sizes as one store.
 */
static inline void map_value_store(const struct map *m, uint8_t *dst, const void *value)
{
	switch (m->info.value_size) {
	case 8:
		memcpy(dst, value, 8);
		return;
	case 4:
		memcpy(dst, value, 4);
		memset(dst + 4, 0, 4);
		return;
	default:
		memcpy(dst, value, m->info.value_size);
		memset(dst + m->info.value_size, 0, m->stride - m->info.value_size);
	}
}

#endif
