// SPDX-License-Identifier: MIT
/*
 * The dispatcher: what runs around every intercepted system call, on the
 * calling thread, without a lock, from a trampoline (syshook_fast_dispatch)
 * or from the SIGSYS handler (syshook_sud.c).
 *
 * Callbacks are published as one immutable table behind sh_table;
 * syshook_add and syshook_remove replace it, then sh_sync_threads waits
 * before freeing the old one. That wait is a small RCU, as in
 * src/probe/probe_dispatch.c: each thread has an epoch counter, odd while
 * it runs callbacks (not while it is in the system call itself, which may
 * block for ever). The writer's membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)
 * puts a full barrier into every running thread between the unpublish and
 * the scan of the counters, so a reader either saw the new table or shows
 * an odd epoch, which the writer waits to see change. Without membarrier
 * the readers use a full fence.
 *
 * Recursion: sh_busy, per thread, is set while callbacks run; a system call
 * made then (a callback's write, a helper's clock_gettime) runs none, and
 * the SUD selector is set to allow while they run, so that system calls
 * made from code that was not rewritten do not trap either. A signal
 * handler that interrupts a callback therefore runs untraced; one that
 * interrupts the application (even blocked in a traced read) is traced.
 *
 * Thread states are mmapped through the gate (the dispatcher runs in a
 * signal handler, where malloc is not safe), never freed, and taken over
 * by new threads when their thread exits. The calls a thread makes after
 * its TLS destructors ran (the last ones of its exit) borrow a free state
 * for each call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "syshook_internal.h"

struct sh_thread {
	_Atomic uint64_t epoch;
	atomic_bool in_use;
	struct sh_thread *next; /* all_threads, pushed once */
};

__thread char sh_selector __attribute__((tls_model("initial-exec")));
__thread int sh_busy __attribute__((tls_model("initial-exec")));
static __thread struct sh_thread *sh_self __attribute__((tls_model("initial-exec")));
/* Set once the thread's TLS destructors ran: its last calls borrow a slot each. */
static __thread bool sh_exiting __attribute__((tls_model("initial-exec")));

_Atomic(struct sh_table *) sh_table;
uint8_t syshook_nr_flags[SH_NR] = {
	[SYS_rt_sigreturn] = SH_FLAG_SPECIAL, [SYS_clone] = SH_FLAG_SPECIAL,
	[SYS_clone3] = SH_FLAG_SPECIAL,	      [SYS_fork] = SH_FLAG_SPECIAL,
	[SYS_vfork] = SH_FLAG_SPECIAL,
};
uint8_t syshook_any;

static _Atomic(struct sh_thread *) all_threads;
static pthread_key_t thread_key;
static bool thread_key_ok, fence_readers;

static void thread_release(void *arg)
{
	struct sh_thread *t = arg;

	sh_self = NULL;
	sh_exiting = true;
	atomic_store_explicit(&t->in_use, false, memory_order_release);
}

static pthread_once_t thread_once = PTHREAD_ONCE_INIT;

static void thread_init(void)
{
	thread_key_ok = !pthread_key_create(&thread_key, thread_release);
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0))
		fence_readers = true;
}

/* Called with sh_busy set: the system calls here go through the gate anyway. */
static struct sh_thread *thread_new(void)
{
	unsigned long a[6] = {
		0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, (unsigned long)-1, 0};
	struct sh_thread *t;
	long p;

	for (t = atomic_load(&all_threads); t; t = t->next) {
		bool free_ = false;

		if (atomic_compare_exchange_strong(&t->in_use, &free_, true))
			goto own;
	}
	p = sh_raw(SYS_mmap, a);
	if (p < 0 && p > -4096)
		return NULL;
	t = (struct sh_thread *)p;
	atomic_init(&t->epoch, 0);
	atomic_init(&t->in_use, true);
	t->next = atomic_load(&all_threads);
	while (!atomic_compare_exchange_weak(&all_threads, &t->next, t))
		;
own:
	if (sh_exiting)
		return t;
	sh_self = t;
	if (thread_key_ok)
		pthread_setspecific(thread_key, t);
	return t;
}

void sh_threads_after_fork(void)
{
	for (struct sh_thread *t = atomic_load(&all_threads); t; t = t->next) {
		if (t != sh_self) {
			atomic_store(&t->epoch, 0);
			atomic_store(&t->in_use, false);
		}
	}
}

void sh_sync_threads(void)
{
	pthread_once(&thread_once, thread_init);
	if (!fence_readers)
		syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
	else
		atomic_thread_fence(memory_order_seq_cst);
	for (struct sh_thread *t = atomic_load(&all_threads); t; t = t->next) {
		uint64_t e = atomic_load_explicit(&t->epoch, memory_order_acquire);

		if (!(e & 1) || t == sh_self)
			continue;
		while (atomic_load_explicit(&t->epoch, memory_order_acquire) == e)
			sched_yield();
	}
}

static void run_list(const struct sh_list *l, long nr, const unsigned long args[6], long ret)
{
	if (!l)
		return;
	for (unsigned i = 0; i < l->n; i++)
		l->h[i]->fn(l->h[i]->ctx, nr, args, ret);
}

void sh_run(enum syshook_when when, long nr, const unsigned long args[6], long ret)
{
	struct sh_thread *t;
	struct sh_table *tb;
	char sel;
	int saved_errno;

	if (sh_busy)
		return;
	sh_busy = 1;
	sel = sh_selector;
	sh_selector = SYSCALL_DISPATCH_FILTER_ALLOW;
	saved_errno = errno;
	t = sh_self ? sh_self : thread_new();
	if (!t)
		goto out;
	atomic_store_explicit(&t->epoch, atomic_load_explicit(&t->epoch, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	if (fence_readers)
		atomic_thread_fence(memory_order_seq_cst);
	else
		atomic_signal_fence(memory_order_seq_cst);
	tb = atomic_load_explicit(&sh_table, memory_order_acquire);
	if (tb) {
		if (nr >= 0 && nr < SH_NR)
			run_list(tb->lists[when][nr], nr, args, ret);
		run_list(tb->lists[when][SH_NR], nr, args, ret);
	}
	atomic_store_explicit(&t->epoch, atomic_load_explicit(&t->epoch, memory_order_relaxed) + 1,
			      memory_order_release);
	if (t != sh_self)
		atomic_store_explicit(&t->in_use, false, memory_order_release);
out:
	errno = saved_errno;
	sh_selector = sel;
	sh_busy = 0;
}

#define SIGSYS_BIT (1ull << (SIGSYS - 1))

/* A copy of the signal mask at p without SIGSYS, in *m; p itself when it is NULL. */
static unsigned long unblock_sigsys(unsigned long p, uint64_t *m)
{
	if (!p)
		return 0;
	*m = *(const uint64_t *)p & ~SIGSYS_BIT;
	return (unsigned long)m;
}

long sh_do_syscall(long nr, const unsigned long args[6])
{
	struct {
		unsigned long ss, len;
	} ps;
	struct sh_ksigaction ka;
	unsigned long a[6];
	uint64_t m;

	if (!sh_use_sud)
		return sh_raw(nr, args);
	memcpy(a, args, sizeof(a));
	switch (nr) {
	case SYS_rt_sigaction:
		/* from a callback: the forward of a SIGSYS to its default action */
		if ((int)a[0] == SIGSYS)
			return sh_busy ? sh_raw(nr, args) : sh_sud_sigaction(args);
		if (a[1] && a[3] == sizeof(uint64_t)) {
			memcpy(&ka, (const void *)a[1], sizeof(ka));
			ka.mask &= ~SIGSYS_BIT;
			a[1] = (unsigned long)&ka;
		}
		break;
	case SYS_rt_sigprocmask:
		if (a[0] != SIG_UNBLOCK && a[3] == sizeof(uint64_t))
			a[1] = unblock_sigsys(a[1], &m);
		break;
	case SYS_rt_sigsuspend:
		if (a[1] == sizeof(uint64_t))
			a[0] = unblock_sigsys(a[0], &m);
		break;
	case SYS_ppoll:
		if (a[4] == sizeof(uint64_t))
			a[3] = unblock_sigsys(a[3], &m);
		break;
	case SYS_epoll_pwait:
	case SYS_epoll_pwait2:
		if (a[5] == sizeof(uint64_t))
			a[4] = unblock_sigsys(a[4], &m);
		break;
	case SYS_pselect6:
		if (a[5]) {
			memcpy(&ps, (const void *)a[5], sizeof(ps));
			if (ps.len == sizeof(uint64_t)) {
				ps.ss = unblock_sigsys(ps.ss, &m);
				a[5] = (unsigned long)&ps;
			}
		}
		break;
	}
	return sh_raw(nr, a);
}

struct sh_fast_ret syshook_fast_dispatch(long nr, unsigned long *args)
{
	struct sh_fast_ret r = {0, 0};

	if (nr >= 0 && nr < SH_NR && (syshook_nr_flags[nr] & SH_FLAG_SPECIAL)) {
		r.orig = SH_FAST_ORIG;
		return r;
	}
	if (sh_wanted(SYSHOOK_ENTER, nr))
		sh_run(SYSHOOK_ENTER, nr, args, 0);
	/*
	 * With nothing to run on exit, the system call is made from the gate
	 * straight back to the trampoline: after a system call (its page
	 * table switch) every page touched again costs a TLB miss, and this
	 * way only the gate's and the trampoline's are.
	 */
	if (!sh_wanted(SYSHOOK_EXIT, nr) &&
	    !(nr >= 0 && nr < SH_NR && (syshook_nr_flags[nr] & SH_FLAG_MASKED))) {
		r.ret = nr;
		r.orig = SH_FAST_DIRECT;
		return r;
	}
	r.ret = sh_do_syscall(nr, args);
	if (sh_wanted(SYSHOOK_EXIT, nr))
		sh_run(SYSHOOK_EXIT, nr, args, r.ret);
	return r;
}

__thread char sh_clone_kind __attribute__((tls_model("initial-exec")));

void sh_clone_note(long nr, const unsigned long *args)
{
	bool vm;

	if (nr == SYS_clone)
		vm = args[0] & CLONE_VM;
	else if (nr == SYS_clone3)
		/* clone_args.flags: the kernel reads it too */
		vm = *(const uint64_t *)args[0] & CLONE_VM;
	else
		vm = nr == SYS_vfork;
	sh_clone_kind = vm ? SH_CLONE_VM : SH_CLONE_COPY;
}

void syshook_after_clone(uintptr_t stub, long ret, unsigned long *args)
{
	long nr = *(const long *)(stub + SH_STUB_NR);

	if (ret) {
		sh_run(SYSHOOK_EXIT, nr, args, ret);
		return;
	}
	/* the child: SUD is per task, and a forked child has only this thread */
	if (sh_clone_kind == SH_CLONE_COPY)
		sh_threads_after_fork();
	if (sh_use_sud)
		sh_sud_enable_self();
}
