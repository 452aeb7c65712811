// SPDX-License-Identifier: MIT
/*
 * The helpers the AOT engine open-codes, called as clang emits them: array
 * and per-CPU array lookups (in range, out of range, a key in a map
 * value, a map chosen at run time), the clocks, the CPU, prandom and
 * csum_diff (good, misaligned and over-long sizes). Each result goes to the out array, in order, so that
 * engines can be compared and the test can check the values.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} out SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} keys SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} pcpu SEC(".maps");

static void put(__u32 slot, __u64 v)
{
	__u64 *p = bpf_map_lookup_elem(&out, &slot);

	if (p)
		*p = v;
}

SEC("xdp")
int inline_helpers(struct xdp_md *ctx)
{
	__u32 k = 3, far = 16, zero = 0, *kp;
	__u32 words[4] = {0x01020304, 0xa0b0c0d0, 0xffff0000, 0x12345678};
	__u64 *v;
	void *m;

	/* out of range: NULL */
	put(0, bpf_map_lookup_elem(&out, &far) == 0);
	/* the key read from another map's value */
	kp = bpf_map_lookup_elem(&keys, &k);
	if (kp) {
		*kp = 2;
		v = bpf_map_lookup_elem(&out, kp);
		if (v)
			*v += 5;
	}
	/* this CPU's copy, counted */
	v = bpf_map_lookup_elem(&pcpu, &zero);
	if (v)
		*v += 1;
	put(3, bpf_get_smp_processor_id());
	put(4, bpf_ktime_get_ns());
	put(5, bpf_ktime_get_boot_ns());
	put(6, bpf_ktime_get_coarse_ns());
	put(7, bpf_get_prandom_u32());
	put(8, bpf_get_prandom_u32());
	put(9, bpf_csum_diff(&words[0], 8, &words[2], 8, 0x1234));
	put(10, bpf_csum_diff(0, 0, words, 16, 0));
	put(11, bpf_csum_diff(&words[0], 6, 0, 0, 0));
	put(12, bpf_csum_diff((void *)(long)ctx->data, 8, &words[1], 4, 7));
	/* maps chosen at run time: the handle in r1 tells which */
	m = ctx->data_end - ctx->data > 32 ? (void *)&keys : (void *)&pcpu;
	kp = bpf_map_lookup_elem(m, &k);
	put(13, kp ? *kp : 99);
	m = ctx->data_end - ctx->data > 32 ? (void *)&pcpu : (void *)&keys;
	v = bpf_map_lookup_elem(m, &zero);
	put(14, v ? *v : 99);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
