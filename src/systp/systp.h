/* SPDX-License-Identifier: MIT */
/*
 * systp: userspace syscall tracepoints. The events a program attaches to
 * (syscalls/sys_enter_NAME, syscalls/sys_exit_NAME, raw_syscalls/sys_enter,
 * raw_syscalls/sys_exit), the x86-64 system call table behind their names
 * (generated from the kernel's UAPI header at build time), their tracepoint
 * ids, and running a program on the system calls of this process with the
 * context the kernel's tracepoint gives it (syshook/syshook.h intercepts).
 *
 * Contexts, as the kernel's formats (events/.../format) lay them out:
 *   record (BPF_PROG_TYPE_TRACEPOINT): u16 common_type (the tracepoint id),
 *     u8 common_flags, u8 common_preempt_count, i32 common_pid (the thread),
 *     then at 8 the number (int for the syscalls events, long for raw_syscalls), and
 *     at 16 the six arguments on entry or the long return value on exit;
 *   raw (BPF_PROG_TYPE_RAW_TRACEPOINT, TRACING for tp_btf): u64 args[2] =
 *     {struct pt_regs *regs, long id} on entry, {regs, long ret} on exit.
 *
 * Every function returns 0 or a negative errno with a message in err.
 */
#ifndef UEBPF_SYSTP_H
#define UEBPF_SYSTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYSTP_ANY (-1L)	  /* the raw_syscalls events: every system call */
#define SYSTP_NAME_MAX 64 /* "syscalls/sys_enter_NAME" with its NUL */

struct systp_event {
	bool exit;
	long nr; /* or SYSTP_ANY */
};

/* The system call called name ("read"): its number, or -ENOENT. */
long systp_nr(const char *name);
/* The name of system call nr, or NULL. */
const char *systp_name(long nr);

/* The event category/name ("syscalls", "sys_enter_read"); -ENOENT when not one. */
int systp_event_parse(const char *category, const char *name, struct systp_event *ev);
/* "syscalls/sys_enter_read", "raw_syscalls/sys_exit". */
void systp_event_name(const struct systp_event *ev, char name[SYSTP_NAME_MAX]);

/*
 * Tracepoint ids. The kernel numbers its events at boot and shows the
 * numbers in tracefs (events/CATEGORY/NAME/id), which only root may read;
 * uebpf has its own stable ids for when tracefs cannot be read, above the
 * kernel's. systp_event_of_id takes either: one of uebpf's, or a kernel id
 * of a syscall event, found by reading tracefs once.
 */
uint32_t systp_own_id(const struct systp_event *ev);
int systp_event_of_id(uint64_t id, struct systp_event *ev);

/*
 * Run vm on the system calls of this process that ev names, from now until
 * systp_detach (which returns once no thread runs vm any more). raw: the
 * raw context, else the record with common_type tp_id. pid: run only in that
 * process (checked at each call, so a forked child is not traced), or -1.
 * cookie: what bpf_get_attach_cookie gives the program.
 */
struct uebpf_vm;
struct systp_hook;
struct systp_attach_opts {
	uint32_t tp_id;
	bool raw;
	int32_t pid;
	uint64_t cookie;
};
int systp_attach(const struct systp_event *ev, const struct systp_attach_opts *opts,
		 struct uebpf_vm *vm, struct systp_hook **out, char *err, size_t err_len);
int systp_detach(struct systp_hook *h, char *err, size_t err_len);

/*
 * Hooks run no program for the system calls of a thread while it is quiet:
 * the agent's own threads and work are not the traced program's. Returns
 * the thread's previous setting.
 */
bool systp_quiet(bool quiet);

#endif
