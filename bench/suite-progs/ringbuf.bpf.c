// SPDX-License-Identifier: MIT
/*
 * bpf_ringbuf_output of an 8-byte record per run. The runner empties the
 * ring after every slice (it moves the consumer position up to the
 * producer's), so runs never meet a full ring; 0 when the record went in.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} ring SEC(".maps");

__u64 seq;

SEC("xdp")
int ringbuf_output(struct xdp_md *ctx)
{
	__u64 v = seq++;

	return bpf_ringbuf_output(&ring, &v, sizeof(v), 0) ? 1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
