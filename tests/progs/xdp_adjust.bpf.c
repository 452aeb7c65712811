// SPDX-License-Identifier: MIT
/*
 * bpf_xdp_adjust_head and bpf_xdp_adjust_tail with deltas the packet
 * carries (two little-endian s32 at its start: head, then tail). The
 * return value holds both helpers' results (low 16 bits each: 0 or the
 * negative errno); after moving the bounds the program writes a marker at
 * the new start and just before the new end, so the packet out shows
 * where they went and what the grown bytes hold.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_adjust(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__s32 head, tail;
	__u64 last;
	long rh, rt;
	__u8 *p;

	if (data + 8 > end)
		return XDP_ABORTED;
	head = ((__s32 *)data)[0];
	tail = ((__s32 *)data)[1];
	rh = bpf_xdp_adjust_head(ctx, head);
	rt = bpf_xdp_adjust_tail(ctx, tail);
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	last = (end - data - 1) & 0xfff;
	p = data;
	if (data + 1 <= end)
		p[0] = 0xaa;
	p = data + last;
	if ((void *)(p + 1) <= end)
		*p = 0xbb;
	return (__u32)(rh & 0xffff) | (__u32)(rt & 0xffff) << 16;
}

char LICENSE[] SEC("license") = "GPL";
