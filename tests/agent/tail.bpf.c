// SPDX-License-Identifier: MIT
/*
 * Tail calls inside a target: on_work(i) tail-calls slot i % 4 of jmp.
 * Slots 0 and 1 are filled by libbpf at load (.values); slot 2 only by a
 * loader at run time (tail_loader sets it); slot 3 stays empty. A failed
 * tail call falls through to counting i in miss_args. tail_b goes on
 * through a second PROG_ARRAY, jmp2, which only it refers to, so a target
 * must find jmp2's slots after loading tail_b. Each program counts the
 * argument it saw into its own map.
 */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define COUNTS(name)                             \
	struct {                                 \
		__uint(type, BPF_MAP_TYPE_HASH); \
		__uint(max_entries, 256);        \
		__type(key, __u32);              \
		__type(value, __u64);            \
	} name SEC(".maps")

COUNTS(a_args);
COUNTS(b_args);
COUNTS(c_args);
COUNTS(d_args);
COUNTS(miss_args);

static __always_inline void bump(void *map, __u32 key)
{
	__u64 zero = 0, *v;

	bpf_map_update_elem(map, &key, &zero, BPF_NOEXIST);
	v = bpf_map_lookup_elem(map, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("uprobe")
int tail_d(struct pt_regs *ctx)
{
	bump(&d_args, PT_REGS_PARM1(ctx));
	return 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__array(values, int(struct pt_regs *));
} jmp2 SEC(".maps") = {
	.values = {[0] = (void *)&tail_d},
};

SEC("uprobe")
int tail_a(struct pt_regs *ctx)
{
	bump(&a_args, PT_REGS_PARM1(ctx));
	return 0;
}

SEC("uprobe")
int tail_b(struct pt_regs *ctx)
{
	bump(&b_args, PT_REGS_PARM1(ctx));
	bpf_tail_call(ctx, &jmp2, 0);
	return 0;
}

SEC("uprobe")
int tail_c(struct pt_regs *ctx)
{
	bump(&c_args, PT_REGS_PARM1(ctx));
	return 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__array(values, int(struct pt_regs *));
} jmp SEC(".maps") = {
	.values = {[0] = (void *)&tail_a, [1] = (void *)&tail_b},
};

SEC("uprobe/" VICTIM ":work")
int BPF_KPROBE(on_work, int i)
{
	bpf_tail_call(ctx, &jmp, i % 4);
	bump(&miss_args, i);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
