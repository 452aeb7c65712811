// SPDX-License-Identifier: MIT
/*
 * Uprobe programs the in-process attach test (test_attach.c) attaches to
 * functions of its own executable through every libbpf path: arguments and
 * return values counted per value, one program auto-attached by its section
 * name, and a socket filter that a uprobe must refuse.
 */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define COUNTS(name)                             \
	struct {                                 \
		__uint(type, BPF_MAP_TYPE_HASH); \
		__uint(max_entries, 1024);       \
		__type(key, __u32);              \
		__type(value, __u64);            \
	} name SEC(".maps")

COUNTS(hits);
COUNTS(rets);
COUNTS(autos);

static __always_inline void bump(void *map, __u32 key)
{
	__u64 zero = 0, *v;

	bpf_map_update_elem(map, &key, &zero, BPF_NOEXIST);
	v = bpf_map_lookup_elem(map, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("uprobe")
int BPF_KPROBE(count_arg, int x)
{
	bump(&hits, x);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(count_ret, int r)
{
	bump(&rets, r);
	return 0;
}

SEC("uprobe//proc/self/exe:auto_target")
int BPF_KPROBE(auto_entry, int x)
{
	bump(&autos, x);
	return 0;
}

SEC("socket")
int not_a_probe(struct __sk_buff *skb)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
