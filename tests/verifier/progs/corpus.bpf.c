// SPDX-License-Identifier: MIT
/*
 * Accepted corpus for the verifier, clang-built: packet parsing with a
 * bounded loop over IPv4 options, a non-inlined function, bpf_loop and
 * bpf_for_each_map_elem callbacks, a ring buffer reservation submitted or
 * discarded on every path, global data and map lookups. Both uebpf's
 * verifier and the kernel's must accept every program.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

const volatile __u32 max_opts = 10;
__u64 seen_bytes;

struct event {
	__u32 saddr, daddr;
	__u64 len;
};

static __attribute__((noinline)) int count(__u32 slot, __u64 add)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &slot);

	if (!v)
		return 0;
	__sync_fetch_and_add(v, add);
	return 1;
}

SEC("xdp")
int parse_ipv4(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	__u8 *opt;
	__u32 i, sum = 0;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	opt = (void *)(ip + 1);
	for (i = 0; i < 40 && i < max_opts; i++) {
		if ((void *)(opt + i + 1) > end)
			break;
		sum += opt[i];
	}
	count(sum & 7, 1);
	seen_bytes += (__u64)(end - data);
	return ip->ttl > 1 ? XDP_PASS : XDP_DROP;
}

struct loop_ctx {
	__u64 total;
};

static long add_index(__u32 index, void *data)
{
	struct loop_ctx *c = data;

	c->total += index;
	return c->total > 1000;
}

static long add_value(void *map, __u32 *key, __u64 *value, void *data)
{
	struct loop_ctx *c = data;

	c->total += *value + *key;
	return 0;
}

SEC("socket")
int callbacks(struct __sk_buff *skb)
{
	struct loop_ctx c = {0};

	bpf_loop(64, add_index, &c, 0);
	bpf_for_each_map_elem(&counters, add_value, &c, 0);
	return (int)(c.total & 0xff);
}

SEC("kprobe")
int report(void *regs)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	__u32 k = 0;
	__u64 *v;

	if (!e)
		return 0;
	v = bpf_map_lookup_elem(&counters, &k);
	if (!v) {
		bpf_ringbuf_discard(e, 0);
		return 0;
	}
	e->saddr = 1;
	e->daddr = 2;
	e->len = *v;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
