/* SPDX-License-Identifier: MIT */
/*
 * maps: eBPF maps with the kernel's semantics, each living entirely in one
 * shared-memory file (see shm.c) so that every process mapping the same fd
 * sees and updates the same map.
 *
 * The object holds a header (type, sizes, flags, layout, counters) and the
 * data; links inside it are offsets and indexes, never pointers, since each
 * process maps it at its own address. map_create makes a map, map_open_fd
 * attaches to one made here or in another process (fd passed over a unix
 * socket or opened through /proc/PID/fd).
 *
 * Two families of element operations:
 * - program side (what the bpf_map_*_elem helpers do): map_lookup returns a
 *   pointer to the value inside shared memory, for per-CPU maps the calling
 *   CPU's copy; map_update writes one value (per-CPU: this CPU's copy);
 * - user side (what the bpf() syscall does): values are copied in and out,
 *   and for per-CPU maps a value is nr_cpus copies, each rounded up to 8
 *   bytes (map_user_value_size bytes in all), as the kernel does. The
 *   access flags BPF_F_RDONLY / BPF_F_WRONLY apply here (-EPERM).
 *
 * Types: BPF_MAP_TYPE_ARRAY, PERCPU_ARRAY, PROG_ARRAY, HASH, PERCPU_HASH,
 * LRU_HASH, LRU_PERCPU_HASH, LPM_TRIE, QUEUE, STACK, RINGBUF, PERF_EVENT_ARRAY. Other kernel
 * types are recognised and refused with -EOPNOTSUPP. QUEUE and STACK have no keys (key_size 0, key
 * arguments ignored): map_push/map_pop/map_peek are their helpers, and as
 * in bpf(), map_update_user pushes, map_lookup_user peeks,
 * map_lookup_and_delete_user pops, delete and get_next_key give -EINVAL.
 *
 * Every function returns 0 or a negative errno with the kernel's codes;
 * map_create and map_open_fd explain a failure in err.
 */
#ifndef UEBPF_MAPS_H
#define UEBPF_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>

#define MAP_NAME_LEN 16 /* BPF_OBJ_NAME_LEN, with the terminating NUL */

struct map;

/* The fields of BPF_MAP_CREATE that these types use. */
struct map_attr {
	uint32_t type; /* enum bpf_map_type */
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t flags;		 /* BPF_F_* creation flags */
	uint64_t map_extra;	 /* must be 0 for the supported types */
	char name[MAP_NAME_LEN]; /* optional: [A-Za-z0-9_.], at most 15 characters */
};

/* What a map is, as read back from its header (BPF_OBJ_GET_INFO_BY_FD). */
struct map_info {
	uint32_t type;
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t flags;
	uint32_t nr_cpus; /* copies of each value in a per-CPU map, else 1 */
	char name[MAP_NAME_LEN];
};

int map_create(const struct map_attr *attr, struct map **out, char *err, size_t err_len);

/*
 * Attach to the map in fd, validating its header and layout. fd is
 * duplicated: the caller keeps (and closes) its own.
 */
int map_open_fd(int fd, struct map **out, char *err, size_t err_len);

/* The map's file, to pass to another process; valid until map_close. */
int map_fd(const struct map *m);
const struct map_info *map_info(const struct map *m);

/* Unmaps and closes this process's handle; the map lives while any fd does. */
void map_close(struct map *m);

/* Program side. map_lookup returns NULL when the key is absent. */
void *map_lookup(struct map *m, const void *key);
/*
 * The function map_lookup calls for m's type, for an engine that calls it
 * directly where it knows the map (the JIT): fn(m, key) is map_lookup(m, key).
 */
typedef void *(*map_lookup_fn)(struct map *m, const void *key);
map_lookup_fn map_lookup_func(const struct map *m);
int map_update(struct map *m, const void *key, const void *value, uint64_t flags);
int map_delete(struct map *m, const void *key);

/* User side. */
size_t map_user_value_size(const struct map *m);
int map_lookup_user(struct map *m, const void *key, void *value);
int map_update_user(struct map *m, const void *key, const void *value, uint64_t flags);
int map_delete_user(struct map *m, const void *key);
/*
 * BPF_MAP_LOOKUP_AND_DELETE_ELEM: hash types (value copied as for lookup)
 * and QUEUE/STACK (a pop); other types -524, the kernel's ENOTSUPP.
 */
int map_lookup_and_delete_user(struct map *m, const void *key, void *value, uint64_t flags);

/*
 * The key after key in the map's order; a NULL or absent key gives the first
 * key; -ENOENT after the last.
 */
int map_get_next_key(struct map *m, const void *key, void *next_key);

/* QUEUE and STACK: push (BPF_ANY, or BPF_EXIST to drop the oldest when full), pop, peek. */
int map_push(struct map *m, const void *value, uint64_t flags);
int map_pop(struct map *m, void *value);
int map_peek(struct map *m, void *value);

/*
 * RINGBUF, the helpers' forms: reserve gives a contiguous sample of size
 * bytes or NULL (no room, flags not 0); submit and discard complete it
 * (-EINVAL for a pointer that is not a reserved sample); output copies a
 * record in (-EAGAIN without room); query takes BPF_RB_AVAIL_DATA,
 * RING_SIZE, CONS_POS or PROD_POS. One consumer at a time calls consume: it
 * hands each completed record to fn in order and stops at the first not yet
 * submitted, returning the number handed or fn's negative return
 * (-EBADMSG for a record longer than the ring: a corrupted header).
 */
typedef int (*map_ringbuf_fn)(void *ctx, void *data, size_t size);

void *map_ringbuf_reserve(struct map *m, uint64_t size, uint64_t flags);
int map_ringbuf_submit(struct map *m, void *sample, uint64_t flags);
int map_ringbuf_discard(struct map *m, void *sample, uint64_t flags);
int map_ringbuf_output(struct map *m, const void *data, uint64_t size, uint64_t flags);
uint64_t map_ringbuf_query(struct map *m, uint64_t flags);
int map_ringbuf_consume(struct map *m, map_ringbuf_fn fn, void *ctx);

/*
 * Waking consumers in any process (wake.c). A ring's wait queue lives in
 * its shared memory. A consumer joins with the write end of a pipe of its
 * own (the slot index, or -ENOSPC), arms the queue before it sleeps on the
 * read end, then looks at the ring once more; producers wake an armed
 * queue with a byte in each joined pipe. map_ringbuf_waitq: NULL for other
 * types.
 */
struct map_waitq;
struct map_waitq *map_ringbuf_waitq(struct map *m);
int map_waitq_join(struct map_waitq *q, int wfd);
void map_waitq_leave(struct map_waitq *q, int slot);
void map_waitq_arm(struct map_waitq *q);
void map_waitq_wake(struct map_waitq *q);

/*
 * What libbpf maps of a RINGBUF's fd, laid out as the kernel's: offset 0,
 * one page, read-write: the consumer position; offset one page, a page and
 * twice the data, read-only: the producer position, then the data mapped
 * twice in a row. Makes the mapping (at addr if MAP_FIXED is in flags) into
 * *out: 0, or -EINVAL for another offset or length, -EACCES for a writable
 * producer mapping, or mmap's errno.
 */
int map_ringbuf_mmap(struct map *m, void *addr, size_t len, int prot, int flags, off_t offset,
		     void **out);

/*
 * PERF_EVENT_ARRAY (perf_array.c) and the rings of the perf events it
 * holds: what perf_event_open of a software PERF_COUNT_SW_BPF_OUTPUT event
 * makes. A ring is a file of the state directory: a struct
 * perf_event_mmap_page, then 2^n pages of records once the consumer has
 * mapped it (map_perf_ring_set_size, at its mmap of 1 + 2^n pages), as the
 * kernel's. A slot of the array names a ring by a process and an fd of it
 * there, so programs in any process reach it through /proc/PID/fd.
 * map_perf_event_output is bpf_perf_event_output: flags are the index or
 * BPF_F_CURRENT_CPU; -EINVAL for other flags, -E2BIG for an index past
 * max_entries or a record larger than a perf record holds, -ENOENT for an
 * empty slot or a ring that is gone, -EOPNOTSUPP when the event is disabled
 * or bound to another CPU, -ENOSPC when it has no ring or no room (the
 * loss is reported to the consumer in a PERF_RECORD_LOST).
 */
struct map_perf_ring;
struct map_perf_ring_attr {
	int32_t cpu; /* -1: any */
	uint32_t wakeup_events;
	uint32_t wakeup_watermark; /* bytes, with watermark */
	bool watermark;
	bool enabled;
};

int map_perf_ring_create(const struct map_perf_ring_attr *attr, struct map_perf_ring **out,
			 char *err, size_t err_len);
int map_perf_ring_fd(const struct map_perf_ring *r);
int map_perf_ring_set_size(struct map_perf_ring *r, size_t len);
void map_perf_ring_enable(struct map_perf_ring *r, bool on);
bool map_perf_ring_readable(struct map_perf_ring *r);
struct map_waitq *map_perf_ring_waitq(struct map_perf_ring *r);
void map_perf_ring_close(struct map_perf_ring *r);

int map_perf_array_set(struct map *m, uint32_t index, int32_t pid, int32_t fd,
		       const struct map_perf_ring *r);
int map_perf_array_clear(struct map *m, uint32_t index);
int map_perf_event_output(struct map *m, uint64_t flags, const void *data, uint64_t size);

/*
 * PROG_ARRAY: the program ID at index (what bpf_tail_call jumps to), 0 for
 * none, an index out of range or another map type.
 */
uint32_t map_prog_array_get(struct map *m, uint32_t index);

/*
 * Where the values of a BPF_F_MMAPABLE array lie in the fd, for mmap(2):
 * offset is 0, as in a kernel map's fd, and len a whole number of pages.
 * -EINVAL for other maps.
 */
int map_mmap_range(const struct map *m, size_t *offset, size_t *len);

/*
 * Binding maps into programs. map_direct_value_addr: the address of byte
 * off of the value of a one-entry ARRAY, what an lddw of
 * BPF_PSEUDO_MAP_VALUE loads (global data); -EINVAL when off is past the
 * value, -EOPNOTSUPP for other maps, as in the kernel. map_prog_range: the
 * memory that pointers the helpers hand to a program lie in (values, ring
 * buffer samples), so a program may access it; *len is 0 for maps whose
 * values are only copied (QUEUE, STACK).
 */
int map_direct_value_addr(const struct map *m, uint32_t off, void **addr);

/*
 * For engines that inline bpf_map_lookup_elem on arrays, as the kernel's JIT
 * does: entry k < max_entries of an ARRAY is at values + k * stride; of a
 * PERCPU_ARRAY, for CPU c (map_this_cpu), at values + k * stride + c *
 * cpu_step. -EOPNOTSUPP for other types.
 */
struct map_array_inline {
	uint8_t *values;
	uint32_t stride;
	uint32_t max_entries;
	uint64_t cpu_step; /* 0 for a plain ARRAY */
};

int map_array_inline_info(const struct map *m, struct map_array_inline *out);
/* The CPU whose copy a per-CPU map's program-side operations use now. */
uint32_t map_this_cpu(const struct map *m);
void map_prog_range(const struct map *m, void **base, size_t *len);

#endif
