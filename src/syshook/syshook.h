/* SPDX-License-Identifier: MIT */
/*
 * syshook: callbacks on the system calls this process makes, for
 * userspace syscall tracepoints (raw_syscalls/sys_enter|sys_exit and
 * syscalls/sys_enter_NAME|sys_exit_NAME).
 *
 * syshook_add registers fn for syscall nr (or SYSHOOK_ANY) on entry or on
 * exit; the first registration installs the interception, for the life of
 * the process: the syscall instructions of the code mapped in this process
 * are rewritten into jumps to trampolines (a jump per call, no signal),
 * and Syscall User Dispatch covers the rest (a signal per call: sites that
 * cannot be rewritten, code mapped since the last scan, clone and
 * rt_sigreturn). See syshook's section of docs/ARCHITECTURE.md for how,
 * and for what neither catches. Code mapped later by dlopen is rewritten
 * by syshook_rescan. UEBPF_SYSHOOK=sud or =rewrite in the environment
 * keeps only one of the two paths.
 *
 * Callbacks see the syscall's number and six arguments on entry and, on
 * exit, its return value as the kernel returned it (-errno on failure);
 * they cannot change them, and errno as the application sees it does not
 * change either. Exit callbacks of clone, clone3, fork and vfork run in
 * the parent only; exit, exit_group, execve (when it succeeds) and
 * rt_sigreturn have none. A syscall made from inside a callback (a helper
 * writing trace output, say) runs no callback. Calls from any number of
 * threads take no lock; syshook_remove returns once no thread runs fn any
 * more.
 *
 * Every function returns 0 or a negative errno with a message in err.
 */
#ifndef UEBPF_SYSHOOK_H
#define UEBPF_SYSHOOK_H

#include <stdbool.h>
#include <stddef.h>

#define SYSHOOK_ANY (-1L)

enum syshook_when {
	SYSHOOK_ENTER = 0,
	SYSHOOK_EXIT = 1,
};

/* ret is meaningful on SYSHOOK_EXIT only. */
typedef void (*syshook_fn)(void *ctx, long nr, const unsigned long args[6], long ret);

struct syshook;

int syshook_add(long nr, enum syshook_when when, syshook_fn fn, void *ctx, struct syshook **out,
		char *err, size_t err_len);
int syshook_remove(struct syshook *h, char *err, size_t err_len);

/* Rewrite code mapped since the last scan (after dlopen); cheap when nothing is new. */
int syshook_rescan(char *err, size_t err_len);

/* What the interception covers (zeros before the first syshook_add). */
struct syshook_stats {
	size_t syscall_insns; /* syscall instructions found in the code scanned so far */
	size_t rewritten;     /* those rewritten into jumps to trampolines */
	bool sud;	      /* Syscall User Dispatch takes the rest, and code never scanned */
};
void syshook_stats(struct syshook_stats *out);

#endif
