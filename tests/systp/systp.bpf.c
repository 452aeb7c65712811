// SPDX-License-Identifier: MIT
/*
 * Syscall tracepoints: every system call of the process target_pid counted
 * by number on entry and on exit (raw_syscalls), and the known calls of
 * target.c checked field by field through their own events (syscalls/).
 * The same object runs on the kernel's tracepoints and on uebpf's. The
 * common fields at the start of a record (common_pid...) are not readable,
 * in the kernel as here.
 */
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>

#define NR_READ 0
#define NR_WRITE 1
#define NR_GETPID 39

#define READ_LEN 13 /* target.c reads this many bytes of /dev/zero at a time */
#define WRITE_LEN 7 /* and writes this many to /dev/null */

const volatile int target_pid; /* 0: every process */

/* the formats of events/raw_syscalls/sys_{enter,exit}/format */
struct raw_enter {
	unsigned short common_type;
	unsigned char common_flags;
	unsigned char common_preempt_count;
	int common_pid;
	long id;
	unsigned long args[6];
};

struct raw_exit {
	unsigned short common_type;
	unsigned char common_flags;
	unsigned char common_preempt_count;
	int common_pid;
	long id;
	long ret;
};

/* events/syscalls/sys_enter_{read,write}/format: int nr, then the three arguments */
struct rw_enter {
	unsigned long long common;
	int nr;
	unsigned long fd;
	unsigned long buf;
	unsigned long count;
};

/* events/syscalls/sys_exit_NAME/format */
struct call_exit {
	unsigned long long common;
	int nr;
	long ret;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 512);
	__type(key, __u32);
	__type(value, __u64);
} enter_counts SEC(".maps"), exit_counts SEC(".maps");

/* what the per-call programs found right, by check (enum below) */
enum {
	C_WRITE_ARGS, /* sys_enter_write: nr 1, count WRITE_LEN */
	C_WRITE_RET,  /* sys_exit_write: ret WRITE_LEN */
	C_READ_ARGS,  /* sys_enter_read: nr 0, count READ_LEN */
	C_READ_RET,   /* sys_exit_read: ret READ_LEN */
	C_GETPID_RET, /* sys_exit_getpid: ret the caller's process id */
	C_RAW_ARGS,   /* raw sys_enter of write: args[2] WRITE_LEN */
	C_COOKIE,     /* sys_exit_getpid: the attach cookie is target_pid (loader.c's link mode) */
	C_BAD,	      /* any check that failed */
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
	return !target_pid || (bpf_get_current_pid_tgid() >> 32) == (__u32)target_pid;
}

static __always_inline void bump(void *map, __u32 key)
{
	__u64 one = 1, *v = bpf_map_lookup_elem(map, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(map, &key, &one, BPF_NOEXIST);
}

static __always_inline void check(bool ok, __u32 which)
{
	bump(&checks, ok ? which : C_BAD);
}

SEC("tracepoint/raw_syscalls/sys_enter")
int count_enter(struct raw_enter *ctx)
{
	if (!mine())
		return 0;
	bump(&enter_counts, (__u32)ctx->id);
	if (ctx->id == NR_WRITE && ctx->args[2] == WRITE_LEN)
		check(true, C_RAW_ARGS);
	return 0;
}

SEC("tracepoint/raw_syscalls/sys_exit")
int count_exit(struct raw_exit *ctx)
{
	if (mine())
		bump(&exit_counts, (__u32)ctx->id);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_write")
int enter_write(struct rw_enter *ctx)
{
	if (mine() && ctx->count == WRITE_LEN)
		check(ctx->nr == NR_WRITE, C_WRITE_ARGS);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_write")
int exit_write(struct call_exit *ctx)
{
	if (mine() && ctx->nr == NR_WRITE && ctx->ret == WRITE_LEN)
		check(true, C_WRITE_RET);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_read")
int enter_read(struct rw_enter *ctx)
{
	if (mine() && ctx->count == READ_LEN)
		check(ctx->nr == NR_READ, C_READ_ARGS);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_read")
int exit_read(struct call_exit *ctx)
{
	if (mine() && ctx->ret == READ_LEN)
		check(ctx->nr == NR_READ, C_READ_RET);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_getpid")
int exit_getpid(struct call_exit *ctx)
{
	if (!mine())
		return 0;
	check(ctx->ret == (long)(bpf_get_current_pid_tgid() >> 32), C_GETPID_RET);
	if (target_pid && bpf_get_attach_cookie(ctx) == (__u64)target_pid)
		check(true, C_COOKIE);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
