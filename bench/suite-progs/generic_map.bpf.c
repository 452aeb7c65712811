// SPDX-License-Identifier: MIT
/*
 * Map reads and writes, one operation per run, on a HASH and an ARRAY of
 * 1024 entries. Keys go round the 1024 by a counter in .bss (a race between
 * CPUs only changes which key comes next). prepare_* fills the map: run
 * 1024 times, it writes every key once. Every program returns 0 on success.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define ENTRIES 1024

struct value {
	__u64 a, b;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ENTRIES);
	__type(key, __u32);
	__type(value, struct value);
} hash_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ENTRIES);
	__type(key, __u32);
	__type(value, struct value);
} array_map SEC(".maps");

__u32 next_key;

static __always_inline __u32 key_next(void)
{
	return next_key++ % ENTRIES;
}

static __always_inline int map_write(void *map)
{
	__u32 key = key_next();
	struct value v = {key, ~(__u64)key};

	return bpf_map_update_elem(map, &key, &v, BPF_ANY) ? 1 : 0;
}

static __always_inline int map_read(void *map)
{
	__u32 key = key_next();
	struct value *v = bpf_map_lookup_elem(map, &key);

	return v && v->a == key ? 0 : 1;
}

SEC("xdp")
int prepare_HASH(struct xdp_md *ctx)
{
	return map_write(&hash_map);
}

SEC("xdp")
int read_HASH(struct xdp_md *ctx)
{
	return map_read(&hash_map);
}

SEC("xdp")
int update_HASH(struct xdp_md *ctx)
{
	return map_write(&hash_map);
}

SEC("xdp")
int prepare_ARRAY(struct xdp_md *ctx)
{
	return map_write(&array_map);
}

SEC("xdp")
int read_ARRAY(struct xdp_md *ctx)
{
	return map_read(&array_map);
}

SEC("xdp")
int update_ARRAY(struct xdp_md *ctx)
{
	return map_write(&array_map);
}

char LICENSE[] SEC("license") = "GPL";
