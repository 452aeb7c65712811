// SPDX-License-Identifier: MIT
/*
 * A latency histogram of one function: the entry time per thread at the
 * uprobe, the elapsed time at the uretprobe, counted in power-of-two
 * buckets of nanoseconds (key k: [2^k, 2^(k+1)) ns). TARGET and FUNC name
 * the function; `uebpf trace latency.bpf.o --hist latency -- CMD` prints it.
 */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#ifndef TARGET
#error "build with -DTARGET=\"/path/to/binary\" -DFUNC=\"function\""
#endif

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);   /* thread */
	__type(value, __u64); /* entry time */
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32); /* log2 of the latency in ns */
	__type(value, __u64);
} latency SEC(".maps");

SEC("uprobe/" TARGET ":" FUNC)
int BPF_KPROBE(func_entry)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 now = bpf_ktime_get_ns();

	bpf_map_update_elem(&start, &tid, &now, BPF_ANY);
	return 0;
}

static __always_inline __u32 log2(__u64 v)
{
	__u32 r = 0;

	for (int i = 0; i < 64 && v > 1; i++) {
		v >>= 1;
		r++;
	}
	return r;
}

SEC("uretprobe/" TARGET ":" FUNC)
int BPF_KRETPROBE(func_return)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), bucket;
	__u64 *t = bpf_map_lookup_elem(&start, &tid), zero = 0, *n;

	if (!t)
		return 0;
	bucket = log2(bpf_ktime_get_ns() - *t);
	bpf_map_delete_elem(&start, &tid);
	bpf_map_update_elem(&latency, &bucket, &zero, BPF_NOEXIST);
	n = bpf_map_lookup_elem(&latency, &bucket);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
