// SPDX-License-Identifier: MIT
/*
 * A uprobe and a uretprobe as libbpf users write them: the entry program
 * counts calls, sums the first argument and reads a long through the
 * second with bpf_probe_read_user (counting the reads that fault); the
 * return program keeps the last return value and counts returns.
 */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

enum { CALLS, ARG_SUM, READ_SUM, READ_FAULTS, LAST_RET, RETURNS };

static void add(__u32 k, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&counts, &k);

	if (v)
		__sync_fetch_and_add(v, n);
}

SEC("uprobe")
int BPF_KPROBE(on_entry, long a, const long *p)
{
	long x = 0;

	add(CALLS, 1);
	add(ARG_SUM, a);
	if (bpf_probe_read_user(&x, sizeof(x), p) == 0)
		add(READ_SUM, x);
	else
		add(READ_FAULTS, 1);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(on_return, long ret)
{
	__u32 k = LAST_RET;
	__u64 *v = bpf_map_lookup_elem(&counts, &k);

	if (v)
		*v = ret;
	add(RETURNS, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
