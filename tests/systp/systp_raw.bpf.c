// SPDX-License-Identifier: MIT
/*
 * The raw forms of the syscall tracepoints: tp_btf/sys_enter (BTF-typed
 * arguments, regs read directly) and raw_tp/sys_exit (u64 arguments, regs
 * read with bpf_probe_read_kernel), counting target_pid's calls by number
 * as systp.bpf.c does, into maps of the same names.
 */
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define NR_WRITE 1
#define NR_GETPID 39
#define WRITE_LEN 7

/* x86-64's, as the kernel's BTF has it */
struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax, ip,
		cs, flags, sp, ss;
};

const volatile int target_pid;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 512);
	__type(key, __u32);
	__type(value, __u64);
} enter_counts SEC(".maps"), exit_counts SEC(".maps");

enum {
	C_RAW_ARGS,   /* tp_btf sys_enter of write: regs->dx WRITE_LEN, orig_ax 1 */
	C_GETPID_RET, /* raw_tp sys_exit of getpid: ret the process id */
	C_BAD,
	C_MAX,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, C_MAX);
	__type(key, __u32);
	__type(value, __u64);
} checks SEC(".maps");

static __always_inline bool mine(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == (__u32)target_pid;
}

static __always_inline void bump(void *map, __u32 key)
{
	__u64 one = 1, *v = bpf_map_lookup_elem(map, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(map, &key, &one, BPF_NOEXIST);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(btf_enter, struct pt_regs *regs, long id)
{
	if (!mine())
		return 0;
	bump(&enter_counts, (__u32)id);
	if (id == NR_WRITE && regs->dx == WRITE_LEN)
		bump(&checks, regs->orig_ax == NR_WRITE ? C_RAW_ARGS : C_BAD);
	return 0;
}

SEC("raw_tp/sys_exit")
int raw_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	long ret = (long)ctx->args[1], nr = -1;

	if (!mine())
		return 0;
	bpf_probe_read_kernel(&nr, sizeof(nr), &regs->orig_ax);
	bump(&exit_counts, (__u32)nr);
	if (nr == NR_GETPID)
		bump(&checks,
		     ret == (long)(bpf_get_current_pid_tgid() >> 32) ? C_GETPID_RET : C_BAD);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
