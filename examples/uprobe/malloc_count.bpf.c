// SPDX-License-Identifier: MIT
/*
 * Calls of malloc and free in libc, and the bytes asked of malloc, per
 * process. `uebpf trace malloc_count.bpf.o -- CMD` prints the map at the end.
 */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#ifndef LIBC
#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"
#endif

struct counts {
	__u64 mallocs;
	__u64 frees;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32); /* pid */
	__type(value, struct counts);
} allocs SEC(".maps");

static __always_inline struct counts *entry(void)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct counts zero = {}, *c;

	bpf_map_update_elem(&allocs, &pid, &zero, BPF_NOEXIST);
	c = bpf_map_lookup_elem(&allocs, &pid);
	return c;
}

SEC("uprobe/" LIBC ":malloc")
int BPF_KPROBE(on_malloc, __u64 size)
{
	struct counts *c = entry();

	if (c) {
		__sync_fetch_and_add(&c->mallocs, 1);
		__sync_fetch_and_add(&c->bytes, size);
	}
	return 0;
}

SEC("uprobe/" LIBC ":free")
int BPF_KPROBE(on_free, void *p)
{
	struct counts *c = p ? entry() : 0;

	if (c)
		__sync_fetch_and_add(&c->frees, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
