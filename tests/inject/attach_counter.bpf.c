// SPDX-License-Identifier: MIT
/*
 * The uprobe of the attach test: counts tests/agent's ticker's work(i) by
 * i into the hash map "args". TICKER is the ticker's path, given at build
 * time.
 */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} args SEC(".maps");

SEC("uprobe/" TICKER ":work")
int BPF_KPROBE(count_work, int i)
{
	__u32 key = i;
	__u64 one = 1, *v;

	v = bpf_map_lookup_elem(&args, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&args, &key, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
