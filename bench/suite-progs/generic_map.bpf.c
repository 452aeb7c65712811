// SPDX-License-Identifier: MIT
/*
 * Map operations, one per run, on HASH, ARRAY, PERCPU_HASH, PERCPU_ARRAY,
 * LRU_HASH and LPM_TRIE maps holding 1024 keys. Keys go round the 1024 by a
 * counter in .bss (a race between CPUs only changes which key comes next).
 * prepare_TYPE writes every key once when run 1024 times. Per type:
 *   read_TYPE           lookup of a present key
 *   update_TYPE         overwrite of a present key
 *   insert_delete_TYPE  insert of an absent key (BPF_NOEXIST), then its delete
 *                       (hash-like maps only: an array's keys cannot be deleted)
 * Every program returns 0 on success. A per-CPU map's lookup sees this CPU's
 * copy, which the preparation (run on another CPU) may not have written, so
 * its read only checks that the entry is there.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define ENTRIES 1024

struct value {
	__u64 a, b;
};

/* An LPM key: a /32 of the IPv4 address 10.x.y.z. */
struct lpm_key {
	__u32 prefixlen;
	__u32 addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ENTRIES * 2);
	__type(key, __u32);
	__type(value, struct value);
} map_HASH SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ENTRIES);
	__type(key, __u32);
	__type(value, struct value);
} map_ARRAY SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, ENTRIES * 2);
	__type(key, __u32);
	__type(value, struct value);
} map_PERCPU_HASH SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ENTRIES);
	__type(key, __u32);
	__type(value, struct value);
} map_PERCPU_ARRAY SEC(".maps");

/* Room for twice the keys: the kernel's LRU hands out free nodes per CPU, and
 * a full map would evict prepared keys before the reads find them. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ENTRIES * 4);
	__type(key, __u32);
	__type(value, struct value);
} map_LRU_HASH SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, ENTRIES * 2);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_key);
	__type(value, struct value);
} map_LPM_TRIE SEC(".maps");

__u32 next_key;

static __always_inline __u32 key_next(void)
{
	return next_key++ % ENTRIES;
}

/* The key k as the map type wants it: a u32, or an LPM /32. */
#define KEY_u32(k) __u32 key = (k)
#define KEY_lpm(k) struct lpm_key key = {32, 0x0a000000u | (k)}

#define MAP_PROGS(TYPE, KEY, CHECK)                                                   \
	SEC("xdp") int prepare_##TYPE(struct xdp_md *ctx)                             \
	{                                                                             \
		__u32 k = key_next();                                                 \
		KEY(k);                                                               \
		struct value v = {k, ~(__u64)k};                                      \
                                                                                      \
		return bpf_map_update_elem(&map_##TYPE, &key, &v, BPF_ANY) ? 1 : 0;   \
	}                                                                             \
	SEC("xdp") int update_##TYPE(struct xdp_md *ctx)                              \
	{                                                                             \
		__u32 k = key_next();                                                 \
		KEY(k);                                                               \
		struct value v = {k, ~(__u64)k};                                      \
                                                                                      \
		return bpf_map_update_elem(&map_##TYPE, &key, &v, BPF_EXIST) ? 1 : 0; \
	}                                                                             \
	SEC("xdp") int read_##TYPE(struct xdp_md *ctx)                                \
	{                                                                             \
		__u32 k = key_next();                                                 \
		KEY(k);                                                               \
		struct value *v = bpf_map_lookup_elem(&map_##TYPE, &key);             \
                                                                                      \
		return v && (CHECK) ? 0 : 1;                                          \
	}

#define INSERT_DELETE(TYPE, KEY)                                             \
	SEC("xdp") int insert_delete_##TYPE(struct xdp_md *ctx)              \
	{                                                                    \
		__u32 k = ENTRIES + key_next();                              \
		KEY(k);                                                      \
		struct value v = {k, ~(__u64)k};                             \
                                                                             \
		if (bpf_map_update_elem(&map_##TYPE, &key, &v, BPF_NOEXIST)) \
			return 1;                                            \
		return bpf_map_delete_elem(&map_##TYPE, &key) ? 2 : 0;       \
	}

MAP_PROGS(HASH, KEY_u32, v->a == k)
MAP_PROGS(ARRAY, KEY_u32, v->a == k)
MAP_PROGS(PERCPU_HASH, KEY_u32, 1)
MAP_PROGS(PERCPU_ARRAY, KEY_u32, 1)
MAP_PROGS(LRU_HASH, KEY_u32, v->a == k)
MAP_PROGS(LPM_TRIE, KEY_lpm, v->a == k)

INSERT_DELETE(HASH, KEY_u32)
INSERT_DELETE(PERCPU_HASH, KEY_u32)
INSERT_DELETE(LRU_HASH, KEY_u32)
INSERT_DELETE(LPM_TRIE, KEY_lpm)

char LICENSE[] SEC("license") = "GPL";
