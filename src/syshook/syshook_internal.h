/* SPDX-License-Identifier: MIT */
/*
 * syshook internals: the callback table, the per-thread state, the gate
 * (the one range of code whose system calls Syscall User Dispatch lets
 * through) and what each file of the module offers the others.
 *
 * Gate layout (a reservation of SH_GATE_SIZE bytes, read-execute):
 *   page 0      copy of syshook_gate_template (syshook_asm.S): the raw
 *               system call routines every path ends in
 *   pages 1..   one clone stub per page, made on demand (struct sh_stub)
 */
#ifndef UEBPF_SYSHOOK_INTERNAL_H
#define UEBPF_SYSHOOK_INTERNAL_H

/* Numbers below this have their own lists and flag byte; others only meet SYSHOOK_ANY. */
#define SH_NR 1024

/* syshook_nr_flags bits, read by syshook_fast_entry */
#define SH_FLAG_ENTER 1	  /* some callback wants this number on entry */
#define SH_FLAG_EXIT 8	  /* ... on exit */
#define SH_FLAG_SPECIAL 2 /* taken from the original instruction (see syshook_fast_entry) */
#define SH_FLAG_MASKED 4  /* SUD needs it changed (sh_do_syscall) */

/* What syshook_fast_dispatch tells syshook_fast_entry to do (struct sh_fast_ret's orig). */
#define SH_FAST_DONE 0	 /* return ret */
#define SH_FAST_ORIG 1	 /* leave by the original instruction */
#define SH_FAST_DIRECT 2 /* make the system call nr (in ret) from the gate and return */

/* Bytes from a trampoline's return point (after its call) to its second exit. */
#define SH_TRAMP_ORIG_DELTA 13

/* Offsets in a clone stub (syshook_gate.c writes it, syshook_clone_hook reads it). */
#define SH_STUB_CALL_RET 13
#define SH_STUB_HOOK 32
#define SH_STUB_TARGET 40
#define SH_STUB_NR 48
#define SH_STUB_SITE 56
#define SH_STUB_SIZE 64

#ifndef __ASSEMBLER__

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "syshook.h"

#define SH_GATE_SIZE (1u << 20)

struct syshook {
	long nr;
	enum syshook_when when;
	syshook_fn fn;
	void *ctx;
	struct syshook *next; /* sh_hooks, under sh_lock */
};

struct sh_list {
	unsigned n;
	struct syshook *h[];
};

/* Published whole behind sh_table, never edited; lists[w][SH_NR] holds the SYSHOOK_ANY ones. */
struct sh_table {
	struct sh_list *lists[2][SH_NR + 1];
};

extern _Atomic(struct sh_table *) sh_table;
extern uint8_t syshook_nr_flags[SH_NR] __attribute__((visibility("hidden")));
/* SH_FLAG_ENTER and SH_FLAG_EXIT for the SYSHOOK_ANY callbacks */
extern uint8_t syshook_any __attribute__((visibility("hidden")));

/* The mode, from UEBPF_SYSHOOK (see syshook_api.c). */
extern bool sh_use_sud, sh_use_rewrite;

/* Per-thread state, in static TLS so that signal handlers and the trampolines can use it. */
extern __thread char sh_selector __attribute__((tls_model("initial-exec")));
extern __thread int sh_busy __attribute__((tls_model("initial-exec")));

/* syshook_gate.c */
struct sh_gate {
	uintptr_t start; /* the SUD region: [start, start + SH_GATE_SIZE) */
	long (*syscall6)(long nr, unsigned long a0, unsigned long a1, unsigned long a2,
			 unsigned long a3, unsigned long a4, unsigned long a5);
	void (*restorer)(void);
	void (*sigreturn)(unsigned long rsp) __attribute__((noreturn));
};
extern struct sh_gate sh_gate;
extern void *syshook_gate_direct __attribute__((visibility("hidden")));
int sh_gate_init(char *err, size_t err_len);
/* The clone stub for a call of nr at site (the syscall instruction), made if new; 0 if none is
 * left. */
uintptr_t sh_gate_clone_stub(uintptr_t site, long nr);

static inline long sh_raw(long nr, const unsigned long a[6])
{
	return sh_gate.syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* The kernel's struct sigaction, for the raw rt_sigaction. */
struct sh_ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

/* syshook_dispatch.c */
/* Runs the callbacks of nr for when, unless this thread is inside one already. */
void sh_run(enum syshook_when when, long nr, const unsigned long args[6], long ret);
/* Are there callbacks for nr at when (a hint: sh_run finds out for sure)? */
static inline bool sh_wanted(enum syshook_when when, long nr)
{
	uint8_t f = __atomic_load_n(&syshook_any, __ATOMIC_RELAXED);

	if (nr >= 0 && nr < SH_NR)
		f |= __atomic_load_n(&syshook_nr_flags[nr], __ATOMIC_RELAXED);
	else
		f |= SH_FLAG_ENTER | SH_FLAG_EXIT;
	return f & (when == SYSHOOK_ENTER ? SH_FLAG_ENTER : SH_FLAG_EXIT);
}
/*
 * The system call itself, with what SUD needs done in its place: SIGSYS
 * stays the handler's (rt_sigaction of SIGSYS is answered from the
 * application's kept disposition), and is never blocked, as the kernel
 * kills a thread whose SUD trap finds SIGSYS blocked: it is taken out of
 * the masks given to rt_sigprocmask, rt_sigaction, rt_sigsuspend, ppoll,
 * pselect6 and epoll_pwait(2). (The masks are read directly: a bad pointer
 * faults here rather than giving EFAULT.)
 */
long sh_do_syscall(long nr, const unsigned long args[6]);
/* After syshook_remove unpublished a table: no thread runs a callback of the old one any more. */
void sh_sync_threads(void);
/* In a child that does not share memory with its parent: the other threads are gone. */
void sh_threads_after_fork(void);

struct sh_fast_ret {
	long ret;
	long orig; /* SH_FAST_* */
};
struct sh_fast_ret syshook_fast_dispatch(long nr, unsigned long *args)
	__attribute__((visibility("hidden")));
/*
 * Before a clone stub runs: whether the child will share this memory, kept
 * in TLS for the child to read (the clone_args of clone3 may be gone by the
 * time a new thread runs). A new thread with its own TLS reads 0.
 */
#define SH_CLONE_COPY 1
#define SH_CLONE_VM 2
extern __thread char sh_clone_kind __attribute__((tls_model("initial-exec")));
void sh_clone_note(long nr, const unsigned long *args);
void syshook_after_clone(uintptr_t stub, long ret, unsigned long *args)
	__attribute__((visibility("hidden")));

/* syshook_sud.c */
int sh_sud_install(char *err, size_t err_len);
/* Turns SUD on for the calling thread (0 or -errno). */
int sh_sud_enable_self(void);
/* The application's own SIGSYS disposition, kept while ours stays installed. */
long sh_sud_sigaction(const unsigned long args[6]);

/* syshook_threads.c: what the other threads do when signalled */
#define SH_TAG_ENABLE 1 /* turn SUD on */
#define SH_TAG_FENCE 2	/* sh_fence_check their position */
/* Signals every other thread and waits for them a while: how many did not answer, or -errno. */
int sh_signal_others(int tag);

/* syshook_asm.S */
void syshook_fast_entry(void) __attribute__((visibility("hidden")));
void syshook_clone_hook(void) __attribute__((visibility("hidden")));
extern const uint8_t syshook_gate_template[], syshook_gate_template_end[];
extern const uint8_t syshook_gate_syscall6[], syshook_gate_direct_code[], syshook_gate_restorer[],
	syshook_gate_sigreturn[];

/* syshook_scan.c: the syscall sites of one mapping of code that can be rewritten */
struct sh_site {
	uintptr_t start; /* the first displaced instruction */
	uintptr_t sys;	 /* the syscall instruction, right after them */
	uintptr_t tramp; /* the trampoline, once made */
	uint8_t n_insn;
	uint8_t insn_len[8];
	uint8_t disp_pos[8];	 /* of a RIP-relative disp32 in the instruction, or 0 */
	uintptr_t jcc_target[8]; /* of a conditional jump, or 0 */
	uint8_t orig[24];
	_Atomic bool busy; /* the fence found a thread inside */
};
#define SH_DISPLACED_MAX 24
struct sh_scan_stats {
	size_t syscalls, sites; /* syscall instructions seen, and those that can be rewritten */
};
/*
 * Finds the rewritable syscall sites of [lo, hi) (code mapped there, read
 * and executable). *sites is malloc'd; returns their number or -errno.
 */
long sh_scan_code(uintptr_t lo, uintptr_t hi, struct sh_site **sites, struct sh_scan_stats *st,
		  char *err, size_t err_len);

/* syshook_rewrite.c: the fast path */
int sh_rewrite_scan(char *err, size_t err_len);
void sh_rewrite_stats(size_t *syscalls, size_t *rewritten);
/* In a fence's signal handler: marks the sites being patched that hold ip strictly inside. */
void sh_fence_check(uintptr_t ip);

#endif /* __ASSEMBLER__ */

#endif
