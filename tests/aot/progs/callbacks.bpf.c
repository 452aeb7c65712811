// SPDX-License-Identifier: MIT
/*
 * Callbacks on the AOT engine: bpf_loop with a context on the caller's
 * stack, a callback that stops the loop early, a callback that itself
 * calls bpf_loop (nested frames), and bpf_for_each_map_elem over an array
 * and a hash map, the callback writing into the values. Results go to
 * .bss; the return value sums them.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} arr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} hash SEC(".maps");

__u64 loop_sum, loop_calls, stop_at, nested_sum, arr_sum, hash_sum, hash_seen;

struct acc {
	__u64 sum;
	__u64 limit;
};

static long add_index(__u64 i, void *ctx)
{
	struct acc *a = ctx;

	a->sum += i * i;
	return 0;
}

static long until_limit(__u64 i, void *ctx)
{
	struct acc *a = ctx;

	a->sum++;
	return i >= a->limit;
}

static long inner(__u64 i, void *ctx)
{
	*(__u64 *)ctx += i + 1;
	return 0;
}

static long outer(__u64 i, void *ctx)
{
	__u64 local = 0;

	bpf_loop(i + 1, inner, &local, 0);
	*(__u64 *)ctx += local;
	return 0;
}

static long visit_arr(void *map, __u32 *key, __u64 *value, void *ctx)
{
	*value = *key * 10 + 1;
	*(__u64 *)ctx += *value;
	return 0;
}

static long visit_hash(void *map, __u32 *key, __u64 *value, void *ctx)
{
	*value += 100;
	*(__u64 *)ctx += *key;
	return *key == 1000; /* never: every element is visited */
}

SEC("xdp")
int callbacks(struct xdp_md *ctx)
{
	struct acc a = {0, 0}, b = {0, 3};
	__u64 n = 0, s = 0, h = 0;
	__u32 k;

	loop_calls = bpf_loop(10, add_index, &a, 0);
	loop_sum = a.sum;
	stop_at = bpf_loop(100, until_limit, &b, 0) * 1000 + b.sum;
	bpf_loop(4, outer, &n, 0);
	nested_sum = n;
	bpf_for_each_map_elem(&arr, visit_arr, &s, 0);
	arr_sum = s;
	for (k = 1; k <= 3; k++) {
		__u64 v = k;

		bpf_map_update_elem(&hash, &k, &v, BPF_ANY);
	}
	hash_seen = bpf_for_each_map_elem(&hash, visit_hash, &h, 0);
	hash_sum = h;
	return (int)(loop_sum + stop_at + nested_sum + arr_sum + hash_sum);
}

char LICENSE[] SEC("license") = "GPL";
