// SPDX-License-Identifier: MIT
/*
 * The map benchmark's programs: each makes OPS map operations of one kind
 * from inside the program and returns how many succeeded, so that every
 * engine and the kernel can be checked to have done the same work. tc
 * programs: the kernel's XDP test runs cost far more per run here.
 *
 * The loader fills arr, parr, hash, phash, lru and lpm with keys
 * 0..NKEYS-1 (lpm: 10.i>>8.i&255.0/24) before the runs; hdel starts empty
 * and each of its runs inserts then deletes every key.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define OPS 1000
#define NKEYS 1024

#define MAP(name, t, k, v, n, fl)       \
	struct {                        \
		__uint(type, t);        \
		__uint(max_entries, n); \
		__type(key, k);         \
		__type(value, v);       \
		__uint(map_flags, fl);  \
	} name SEC(".maps")

struct lpm_key {
	__u32 prefixlen;
	__u32 addr;
};

MAP(arr, BPF_MAP_TYPE_ARRAY, __u32, __u64, NKEYS, 0);
MAP(parr, BPF_MAP_TYPE_PERCPU_ARRAY, __u32, __u64, NKEYS, 0);
MAP(hash, BPF_MAP_TYPE_HASH, __u32, __u64, NKEYS, 0);
MAP(hdel, BPF_MAP_TYPE_HASH, __u32, __u64, NKEYS, 0);
MAP(phash, BPF_MAP_TYPE_PERCPU_HASH, __u32, __u64, NKEYS, 0);
/* room to spare: the kernel's LRU may evict before it is full */
MAP(lru, BPF_MAP_TYPE_LRU_HASH, __u32, __u64, 4 * NKEYS, 0);
MAP(lpm, BPF_MAP_TYPE_LPM_TRIE, struct lpm_key, __u64, NKEYS, BPF_F_NO_PREALLOC);

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} rb SEC(".maps");

#define LOOKUP(prog, map)                                  \
	SEC("tc") int prog(struct __sk_buff *skb)          \
	{                                                  \
		int hits = 0;                              \
                                                           \
		for (__u32 i = 0; i < OPS; i++) {          \
			__u32 k = i & (NKEYS - 1);         \
                                                           \
			if (bpf_map_lookup_elem(&map, &k)) \
				hits++;                    \
		}                                          \
		return hits;                               \
	}

#define UPDATE(prog, map)                                                \
	SEC("tc") int prog(struct __sk_buff *skb)                        \
	{                                                                \
		int done = 0;                                            \
                                                                         \
		for (__u32 i = 0; i < OPS; i++) {                        \
			__u32 k = i & (NKEYS - 1);                       \
			__u64 v = i;                                     \
                                                                         \
			if (!bpf_map_update_elem(&map, &k, &v, BPF_ANY)) \
				done++;                                  \
		}                                                        \
		return done;                                             \
	}

SEC("tc") int loop(struct __sk_buff *skb)
{
	volatile __u32 sink = 0;

	for (__u32 i = 0; i < OPS; i++)
		sink = i & (NKEYS - 1);
	return sink;
}

LOOKUP(array_lookup, arr)
UPDATE(array_update, arr)
LOOKUP(percpu_array_lookup, parr)
UPDATE(percpu_array_update, parr)
LOOKUP(hash_lookup, hash)
UPDATE(hash_update, hash)
LOOKUP(percpu_hash_lookup, phash)
UPDATE(percpu_hash_update, phash)
LOOKUP(lru_hash_lookup, lru)
UPDATE(lru_hash_update, lru)

/* A delete needs a key to delete: each pair inserts one, then deletes it. */
SEC("tc") int hash_insert_delete(struct __sk_buff *skb)
{
	int done = 0;

	for (__u32 i = 0; i < OPS; i++) {
		__u32 k = i & (NKEYS - 1);
		__u64 v = i;

		bpf_map_update_elem(&hdel, &k, &v, BPF_NOEXIST);
		if (!bpf_map_delete_elem(&hdel, &k))
			done++;
	}
	return done;
}

SEC("tc") int lpm_lookup(struct __sk_buff *skb)
{
	int hits = 0;

	for (__u32 i = 0; i < OPS; i++) {
		/* 10.i>>8.i&255.7, a /32 inside the /24 the loader put there */
		struct lpm_key k = {32, 0x0a | (i >> 8 & 3) << 8 | (i & 255) << 16 | 7u << 24};

		if (bpf_map_lookup_elem(&lpm, &k))
			hits++;
	}
	return hits;
}

SEC("tc") int lpm_update(struct __sk_buff *skb)
{
	int done = 0;

	for (__u32 i = 0; i < OPS; i++) {
		struct lpm_key k = {24, 0x0a | (i >> 8 & 3) << 8 | (i & 255) << 16};
		__u64 v = i;

		if (!bpf_map_update_elem(&lpm, &k, &v, BPF_ANY))
			done++;
	}
	return done;
}

SEC("tc") int ringbuf_output(struct __sk_buff *skb)
{
	int done = 0;

	for (__u32 i = 0; i < OPS; i++) {
		__u64 v = i;

		if (!bpf_ringbuf_output(&rb, &v, sizeof(v), BPF_RB_NO_WAKEUP))
			done++;
	}
	return done;
}

char LICENSE[] SEC("license") = "GPL";
