// SPDX-License-Identifier: MIT
/*
 * The fence of a multi-byte patch: no thread may be stopped at an
 * instruction boundary inside the bytes about to be rewritten.
 *
 * Why: patching victim_endbr (endbr64; push %rbp) replaces 5 bytes holding
 * two instructions. A thread preempted after the endbr64, at +4, resumes
 * after the patch in the middle of the jmp and runs whatever byte 4 of its
 * rel32 decodes to (seen: 0xfd, std, so the push never happened and the
 * function's ret took the caller's saved register). The int3 written first
 * keeps new threads out, but not one already past the first instruction.
 *
 * How: with the int3 in place and visible everywhere, every thread that may
 * be in user code right now (state R, or D: a fault taken by an instruction)
 * gets PROBE_FENCE_SIG queued with rt_tgsigqueueinfo, tagged with the
 * round's number; its handler looks at where the thread was interrupted,
 * reports whether that lies in (addr, addr + len) and acknowledges. A thread
 * found inside leaves within an instruction or two once it runs (it cannot
 * come back: the int3 sends new arrivals to the stub), so the round repeats
 * until no thread is inside. Threads asleep in a system call (state S) are
 * not signalled: they are at a syscall instruction, not inside the patch,
 * and an interrupted wait would return EINTR to the application.
 *
 * The signal is a real-time one because those queue: a second SIGTRAP
 * pending on a thread is dropped, and a thread that met the int3 while the
 * fence's SIGTRAP was pending would lose its trap and run the bytes after
 * the int3. Signals of that number that are not the fence's go to the
 * handler installed before (sigchain).
 *
 * Not seen by the fence: a thread with the signal blocked, or whose
 * handler the application replaced (the round gives up waiting for it after
 * FENCE_WAIT_NS), and one that took another signal there whose handler is
 * still running (the fence sees the handler's position, not the interrupted
 * one).
 *
 * Rounds are serialized by the caller (probe_attach's mutex).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "common/sigchain.h"
#include "probe_internal.h"

/* The last real-time signal: glibc keeps the first ones for itself. */
#define PROBE_FENCE_SIG SIGRTMAX

/* A round's tag: this mark in the high byte of si_value, the round's number below. */
#define FENCE_MARK 0x7b000000u
#define FENCE_MASK 0xff000000u
/* Rounds before giving up on a thread that keeps stopping inside the bytes. */
#define FENCE_ROUNDS 100
/* How long a round waits for the acknowledgements of signalled threads. */
#define FENCE_WAIT_NS 200000000ll

/* The answers of a round, in one word so that a late answer cannot count in the next round. */
#define FENCE_INSIDE (1ull << 31)
#define FENCE_ACKS (FENCE_INSIDE - 1)

static struct {
	_Atomic uint64_t state;	  /* the round's tag << 32 | FENCE_INSIDE | acknowledgements */
	_Atomic uint32_t answers; /* a futex: bumped by each answer, the patcher sleeps on it */
	_Atomic uintptr_t lo, hi;
} fence;

static struct sigchain fence_chain;

static void fence_handler(int sig, siginfo_t *si, void *ucv)
{
	uintptr_t ip = (uintptr_t)((ucontext_t *)ucv)->uc_mcontext.gregs[REG_RIP];
	unsigned tag = (unsigned)si->si_value.sival_int;
	int saved_errno = errno;
	uint64_t old, new;
	bool inside;

	if (si->si_code != SI_QUEUE || si->si_pid != getpid() || (tag & FENCE_MASK) != FENCE_MARK) {
		sigchain_forward(&fence_chain, sig, si, ucv);
		return;
	}
	old = atomic_load_explicit(&fence.state, memory_order_acquire);
	inside = ip > atomic_load_explicit(&fence.lo, memory_order_relaxed) &&
		 ip < atomic_load_explicit(&fence.hi, memory_order_relaxed);
	do {
		/* a signal of an earlier round (delivered late) is ours, but answers nothing */
		if (old >> 32 != tag)
			goto out;
		new = (old + 1) | (inside ? FENCE_INSIDE : 0);
	} while (!atomic_compare_exchange_weak_explicit(
		&fence.state, &old, new, memory_order_acq_rel, memory_order_acquire));
	atomic_fetch_add_explicit(&fence.answers, 1, memory_order_release);
	syscall(SYS_futex, &fence.answers, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
out:
	errno = saved_errno;
}

/* May the thread be running user code: runnable, or in a fault (D)? */
static bool thread_may_run(pid_t pid, const char *tid)
{
	char path[320], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", (int)pid, tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false; /* gone */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* "tid (comm) S ...": comm may hold anything, so the state follows the last ')' */
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && (p[2] == 'R' || p[2] == 'D');
}

/*
 * Signals every other thread that may run: how many were signalled, or a
 * negative errno (-EAGAIN: the queue of pending signals is full, try again).
 */
static int signal_threads(unsigned tag)
{
	pid_t pid = getpid(), self = (pid_t)syscall(SYS_gettid);
	int sent = 0;
	struct dirent *d;
	DIR *dir;

	dir = opendir("/proc/self/task");
	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		siginfo_t si;
		pid_t tid = (pid_t)strtol(d->d_name, NULL, 10);

		if (tid <= 0 || tid == self || !thread_may_run(pid, d->d_name))
			continue;
		memset(&si, 0, sizeof(si));
		si.si_signo = PROBE_FENCE_SIG;
		si.si_code = SI_QUEUE;
		si.si_pid = pid;
		si.si_uid = getuid();
		si.si_value.sival_int = (int)tag;
		if (!syscall(SYS_rt_tgsigqueueinfo, pid, tid, PROBE_FENCE_SIG, &si))
			sent++;
		else if (errno != ESRCH) /* ESRCH: the thread is gone */
			sent = -errno;
		if (sent < 0)
			break;
	}
	closedir(dir);
	return sent;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/*
 * Waits for sent answers (or until end): sleeping rather than yielding, so
 * that on a busy machine the signalled threads get the CPU to answer.
 */
static uint64_t wait_answers(int sent, long long end)
{
	for (;;) {
		uint32_t seen = atomic_load_explicit(&fence.answers, memory_order_acquire);
		uint64_t st = atomic_load_explicit(&fence.state, memory_order_acquire);
		long long left = end - now_ns();
		struct timespec ts;

		if ((st & FENCE_ACKS) >= (uint64_t)sent || left <= 0)
			return st;
		ts.tv_sec = left / 1000000000ll;
		ts.tv_nsec = left % 1000000000ll;
		syscall(SYS_futex, &fence.answers, FUTEX_WAIT_PRIVATE, seen, &ts, NULL, 0);
	}
}

static pthread_once_t fence_once = PTHREAD_ONCE_INIT;
static int fence_ret;

/*
 * Without SA_NODEFER (sigchain_install_async), a round's signal that comes
 * while the thread still runs the handler of the round before waits for
 * that handler's return, so that it sees the thread's own position rather
 * than the handler's.
 */
static void fence_init(void)
{
	fence_chain.sig = PROBE_FENCE_SIG;
	fence_ret = sigchain_install_async(&fence_chain, fence_handler);
}

int probe_fence(uintptr_t addr, size_t len)
{
	static unsigned number;

	pthread_once(&fence_once, fence_init);
	if (fence_ret)
		return fence_ret;
	atomic_store_explicit(&fence.lo, addr, memory_order_relaxed);
	atomic_store_explicit(&fence.hi, addr + len, memory_order_relaxed);
	for (unsigned r = 0; r < FENCE_ROUNDS; r++) {
		unsigned tag = FENCE_MARK | (++number & ~FENCE_MASK);
		uint64_t st;
		int sent;

		atomic_store_explicit(&fence.state, (uint64_t)tag << 32, memory_order_release);
		sent = signal_threads(tag);
		if (sent < 0 && sent != -EAGAIN)
			return sent;
		/* a thread that never answers blocks the signal: see the limits above */
		st = wait_answers(sent < 0 ? 0 : sent, now_ns() + FENCE_WAIT_NS);
		if (sent >= 0 && !(st & FENCE_INSIDE))
			return 0;
		sched_yield();
	}
	return -EBUSY;
}
