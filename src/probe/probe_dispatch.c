// SPDX-License-Identifier: MIT
/*
 * The dispatcher: what runs at every hit of a probed function, on the
 * thread that called it, without a lock.
 *
 * Probes are published per site as an immutable list (struct probe_list)
 * behind one atomic pointer; attach and detach replace the list, then call
 * probe_sync_threads before freeing the old one. That wait is a small RCU:
 * each thread has an epoch counter, odd while it runs probes. The reader
 * side is two plain stores around the list load: the writer's
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) puts a full barrier into
 * every running thread between its unpublish and its scan of the counters,
 * so a reader either saw the new list or shows an odd epoch to the scan,
 * which then waits for that epoch to change. Without membarrier the readers
 * use a full fence instead (probe_fence_readers).
 *
 * Recursion: a probed function called from inside a program or helper
 * (malloc, say) must not run programs again. probe_busy, per thread, is set
 * while programs run; a hit then only counts a miss on its site, as the
 * kernel counts a program's recursion misses.
 *
 * Return probes: at entry the original return address, the stack pointer
 * it was found at and the site go on a per-thread shadow stack, and
 * [rsp] becomes probe_return_tramp; the return takes its entry back,
 * found by that stack pointer (the top one but for stack switching). The
 * stack is PROBE_SHADOW_DEPTH deep. Frames left without returning
 * (longjmp) leave stale entries: an entry whose stack pointer is at or
 * below a live one on the same stack (within PROBE_SAME_STACK bytes)
 * belongs to a frame that is gone. A push first drops the stale entries on
 * top, or all of them when the stack is full; a return drops those above
 * the entry it takes. A call that still finds the stack full runs without
 * its return probe and counts a miss. Entries on other stacks (sigaltstack,
 * coroutines switching stacks) are left alone, so returns may come in any
 * order across stacks. A tail call from a function with a return probe
 * into another keeps only the first one's (the second counts a miss).
 *
 * Exceptions: an unwinder reads return addresses off the stack, and would
 * find probe_return_tramp there, which has no unwind information (C++ then
 * calls std::terminate). probe_unwind.c hooks the unwinder's entry points;
 * before it walks, probe_shadow_disarm writes every pending original return
 * address of the thread's current stack back into its slot and marks the
 * entry disarmed. Where C++ catches (__cxa_begin_catch, called from the
 * catching frame), probe_shadow_rearm drops the entries of the frames that
 * are gone (below the catcher's) and puts the trampoline back into the
 * slots of those still live, whose return probes then run as before. An
 * entry left disarmed (no catch seen) returns without its probe and is
 * dropped as stale later, as after longjmp.
 *
 * Thread states are allocated with mmap (the dispatcher also runs in the
 * SIGTRAP handler, where malloc is not safe), never freed, and taken over
 * by new threads when their thread exits.
 */
#define _GNU_SOURCE
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "probe_internal.h"

struct probe_shadow {
	uint64_t ret;
	uint64_t sp; /* where ret was found: the probed function's rsp at entry */
	struct probe_site *site;
	bool disarmed; /* ret is back in its slot, for an unwinder */
};

struct probe_thread {
	_Atomic uint64_t epoch;
	atomic_bool in_use;
	struct probe_thread *next; /* all_threads, pushed once */
	unsigned depth;
	struct probe_shadow shadow[PROBE_SHADOW_DEPTH];
};

static __thread struct probe_thread *probe_self __attribute__((tls_model("initial-exec")));
static __thread int probe_busy __attribute__((tls_model("initial-exec")));

static _Atomic(struct probe_thread *) all_threads;
static pthread_key_t thread_key;
static pthread_once_t thread_once = PTHREAD_ONCE_INIT;
/* Set when membarrier is missing: readers then order their epoch with a fence. */
static bool probe_fence_readers;

static void thread_release(void *arg)
{
	struct probe_thread *t = arg;

	probe_self = NULL;
	t->depth = 0;
	atomic_store_explicit(&t->in_use, false, memory_order_release);
}

/* A forked child has only the forking thread: the others' states are free. */
static void thread_after_fork(void)
{
	for (struct probe_thread *t = atomic_load(&all_threads); t; t = t->next) {
		if (t != probe_self) {
			atomic_store(&t->epoch, 0);
			atomic_store(&t->in_use, false);
		}
	}
}

static void thread_init(void)
{
	if (pthread_key_create(&thread_key, thread_release))
		abort(); /* only fails with PTHREAD_KEYS_MAX keys in use */
	pthread_atfork(NULL, NULL, thread_after_fork);
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0))
		probe_fence_readers = true;
}

static struct probe_thread *thread_new(void)
{
	struct probe_thread *t;
	void *p;

	pthread_once(&thread_once, thread_init);
	for (t = atomic_load(&all_threads); t; t = t->next) {
		bool free_ = false;

		if (atomic_compare_exchange_strong(&t->in_use, &free_, true))
			goto own;
	}
	p = mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	t = p;
	atomic_store(&t->in_use, true);
	t->next = atomic_load(&all_threads);
	while (!atomic_compare_exchange_weak(&all_threads, &t->next, t))
		;
own:
	pthread_setspecific(thread_key, t);
	probe_self = t;
	return t;
}

static inline void epoch_enter(struct probe_thread *t)
{
	atomic_store_explicit(&t->epoch, t->epoch + 1, memory_order_relaxed);
	if (__builtin_expect(probe_fence_readers, 0))
		atomic_thread_fence(memory_order_seq_cst);
	else
		atomic_signal_fence(memory_order_seq_cst);
}

static inline void epoch_exit(struct probe_thread *t)
{
	atomic_store_explicit(&t->epoch, t->epoch + 1, memory_order_release);
}

void probe_sync_threads(void)
{
	struct probe_thread *t;

	/* the membarrier registration must precede any reader's first list load */
	pthread_once(&thread_once, thread_init);
	if (probe_fence_readers || syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0))
		atomic_thread_fence(memory_order_seq_cst);
	for (t = atomic_load(&all_threads); t; t = t->next) {
		uint64_t e = atomic_load(&t->epoch);

		while ((e & 1) && atomic_load(&t->epoch) == e)
			sched_yield();
	}
}

static void missed(struct probe_site *site)
{
	atomic_fetch_add_explicit(&site->missed, 1, memory_order_relaxed);
}

/* A thread's stack is at most this big: entries this close share one stack. */
#define PROBE_SAME_STACK (64ull << 20)

/* Is the frame of entry e gone, given a live frame whose return address is at sp? */
static bool shadow_stale(const struct probe_shadow *e, uint64_t sp)
{
	return e->sp <= sp && sp - e->sp < PROBE_SAME_STACK;
}

/* Removes the entries from index `from` up that are stale below sp, keeping the order. */
static void shadow_drop_stale(struct probe_thread *t, unsigned from, uint64_t sp)
{
	unsigned k = from;

	for (unsigned i = from; i < t->depth; i++) {
		if (!shadow_stale(&t->shadow[i], sp))
			t->shadow[k++] = t->shadow[i];
	}
	t->depth = k;
}

/* Takes the entry of the frame whose return address was at sp; false if there is none. */
static bool shadow_take(struct probe_thread *t, uint64_t sp, struct probe_shadow *out)
{
	unsigned i = t->depth;

	while (i && t->shadow[i - 1].sp != sp)
		i--;
	if (!i)
		return false;
	*out = t->shadow[--i];
	memmove(&t->shadow[i], &t->shadow[i + 1], (t->depth - i - 1) * sizeof(t->shadow[0]));
	t->depth--;
	shadow_drop_stale(t, i, sp);
	return true;
}

void probe_dispatch_entry(struct probe_site *site, struct pt_regs *regs)
{
	struct probe_thread *t;
	struct probe_list *l;
	unsigned i;

	regs->rip = site->addr;
	if (probe_busy) {
		missed(site);
		return;
	}
	probe_busy = 1;
	t = probe_self;
	if (__builtin_expect(!t, 0)) {
		t = thread_new();
		if (!t) {
			missed(site);
			probe_busy = 0;
			return;
		}
	}
	epoch_enter(t);
	l = atomic_load_explicit(&site->list, memory_order_acquire);
	if (l) {
		for (i = 0; i < l->n_entry; i++)
			l->p[i]->fn(l->p[i]->ctx, regs);
		if (l->n_return) {
			uint64_t *slot = (uint64_t *)regs->rsp;

			if (*slot == (uintptr_t)probe_return_tramp) {
				/* a tail call from a function with a return probe: that one stands
				 */
				missed(site);
			} else {
				while (t->depth &&
				       shadow_stale(&t->shadow[t->depth - 1], regs->rsp))
					t->depth--;
				if (t->depth == PROBE_SHADOW_DEPTH)
					shadow_drop_stale(t, 0, regs->rsp);
				if (t->depth < PROBE_SHADOW_DEPTH) {
					struct probe_shadow *e = &t->shadow[t->depth++];

					e->ret = *slot;
					e->sp = regs->rsp;
					e->site = site;
					e->disarmed = false;
					*slot = (uintptr_t)probe_return_tramp;
				} else {
					missed(site);
				}
			}
		}
	}
	epoch_exit(t);
	probe_busy = 0;
}

/* Is the slot of entry e above sp, on the same stack: a frame that is still there? */
static bool shadow_above(const struct probe_shadow *e, uint64_t sp)
{
	return e->sp > sp && e->sp - sp < PROBE_SAME_STACK;
}

void probe_shadow_disarm(uint64_t sp)
{
	struct probe_thread *t = probe_self;

	for (unsigned i = 0; t && i < t->depth; i++) {
		struct probe_shadow *e = &t->shadow[i];
		uint64_t *slot = (uint64_t *)e->sp;

		if (!e->disarmed && shadow_above(e, sp) && *slot == (uintptr_t)probe_return_tramp) {
			*slot = e->ret;
			e->disarmed = true;
		}
	}
}

void probe_shadow_rearm(uint64_t sp)
{
	struct probe_thread *t = probe_self;
	unsigned k = 0;

	if (!t)
		return;
	for (unsigned i = 0; i < t->depth; i++) {
		struct probe_shadow *e = &t->shadow[i];
		uint64_t *slot = (uint64_t *)e->sp;

		if (shadow_stale(e, sp))
			continue; /* its frame was unwound */
		if (e->disarmed && shadow_above(e, sp) && *slot == e->ret) {
			*slot = (uintptr_t)probe_return_tramp;
			e->disarmed = false;
		}
		t->shadow[k++] = *e;
	}
	t->depth = k;
}

uint64_t probe_dispatch_return(struct pt_regs *regs)
{
	struct probe_thread *t = probe_self;
	struct probe_shadow s;
	struct probe_list *l;
	unsigned i;

	/* the return address was at rsp - 8 */
	if (!t || !shadow_take(t, regs->rsp - 8, &s)) {
		/* no record of where to return: nothing sane can go on */
		fprintf(stderr, "uebpf probe: return trampoline without its shadow entry\n");
		abort();
	}
	regs->rip = s.ret;
	if (probe_busy) {
		missed(s.site);
		return s.ret;
	}
	probe_busy = 1;
	epoch_enter(t);
	l = atomic_load_explicit(&s.site->list, memory_order_acquire);
	for (i = 0; l && i < l->n_return; i++)
		l->p[l->n_entry + i]->fn(l->p[l->n_entry + i]->ctx, regs);
	epoch_exit(t);
	probe_busy = 0;
	return s.ret;
}
