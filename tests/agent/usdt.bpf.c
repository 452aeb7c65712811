// SPDX-License-Identifier: MIT
/*
 * A USDT program on usdt_target's uebpftest:tick(i, x, p) (TARGET is its
 * path): libbpf's usdt.bpf.h finds the arguments through the attachment's
 * cookie (bpf_get_attach_cookie) and its spec map. Counts x per i and the
 * word p points to per i.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

#define TABLE(name)                              \
	struct {                                 \
		__uint(type, BPF_MAP_TYPE_HASH); \
		__uint(max_entries, 256);        \
		__type(key, __u32);              \
		__type(value, __u64);            \
	} name SEC(".maps")

TABLE(xs);
TABLE(words);

SEC("usdt/" TARGET ":uebpftest:tick")
int BPF_USDT(on_tick, int i, long x, long *p)
{
	__u32 key = i;
	__u64 v = x, w = 0;

	bpf_map_update_elem(&xs, &key, &v, BPF_ANY);
	bpf_probe_read_user(&w, sizeof(w), p);
	bpf_map_update_elem(&words, &key, &w, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
