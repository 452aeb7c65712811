// SPDX-License-Identifier: MIT
/*
 * Uprobes on the agent tests' victim: arguments of work() and of lib_work()
 * in the linked and in the dlopened library, and return values of work(),
 * counted per value into hash maps. VICTIM, LIB and DLLIB are the paths of
 * the binaries, given at build time. lib_work(0) also prints a line, and a
 * return of 1 (work(0)) sends a ring buffer record.
 */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define COUNTS(name)                             \
	struct {                                 \
		__uint(type, BPF_MAP_TYPE_HASH); \
		__uint(max_entries, 4096);       \
		__type(key, __u32);              \
		__type(value, __u64);            \
	} name SEC(".maps")

COUNTS(args);
COUNTS(rets);
COUNTS(lib_args);
COUNTS(dl_args);

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

/* Safe from many threads at once: the entry is made once, then added to atomically. */
static __always_inline void bump(void *map, __u32 key)
{
	__u64 zero = 0, *v;

	bpf_map_update_elem(map, &key, &zero, BPF_NOEXIST);
	v = bpf_map_lookup_elem(map, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("uprobe/" VICTIM ":work")
int BPF_KPROBE(on_work, int i)
{
	bump(&args, i);
	return 0;
}

SEC("uretprobe/" VICTIM ":work")
int BPF_KRETPROBE(on_work_ret, int ret)
{
	__u32 rec[2] = {(__u32)(bpf_get_current_pid_tgid() >> 32), ret};

	bump(&rets, ret);
	if (ret == 1)
		bpf_ringbuf_output(&events, rec, sizeof(rec), 0);
	return 0;
}

SEC("uprobe/" LIB ":lib_work")
int BPF_KPROBE(on_lib_work, int x)
{
	bump(&lib_args, x);
	if (x == 0)
		bpf_printk("lib_work %d", x);
	return 0;
}

SEC("uprobe/" DLLIB ":lib_work")
int BPF_KPROBE(on_dl_work, int x)
{
	bump(&dl_args, x);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
