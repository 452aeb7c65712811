// SPDX-License-Identifier: MIT
/*
 * The fence of a multi-byte patch: no thread may be stopped at an
 * instruction boundary inside the bytes about to be rewritten.
 *
 * Why: patching victim_endbr (endbr64; push %rbp) replaces 5 bytes holding
 * two instructions. A thread preempted after the endbr64, at +4, resumes
 * after the patch in the middle of the jmp and runs whatever byte 4 of its
 * rel32 decodes to (0xfd, std, in place of the push: its stack is then 8
 * bytes off and its ret goes astray). The int3 written first keeps new
 * threads out, but not one already past the first instruction.
 *
 * How: with the int3 in place and visible everywhere, every thread that may
 * be in user code right now (state R, or D: a fault taken by an instruction)
 * gets a SIGTRAP queued with rt_tgsigqueueinfo, tagged with the round's
 * number. The SIGTRAP handler (probe_patch.c) passes such a signal here: the
 * thread looks at where it was interrupted and reports whether that lies in
 * (addr, addr + len), then acknowledges. A thread found inside leaves within
 * an instruction or two once it runs (it cannot come back: the int3 sends
 * new arrivals to the stub), so the round repeats until no thread is inside.
 * Threads asleep in a system call (state S) are not signalled: they are at a
 * syscall instruction, not inside the patch, and an interrupted wait would
 * return EINTR to the application.
 *
 * Not seen by the fence: a thread whose SIGTRAP is blocked (it would be
 * killed by the int3 anyway, so it must not be calling the function), and
 * one that took another signal there whose handler is still running (the
 * fence sees the handler's position, not the interrupted one).
 *
 * Rounds are serialized by the caller (probe_attach's mutex).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "probe_internal.h"

/* A round's tag: this mark in the high byte of si_value, the round's number below. */
#define FENCE_MARK 0x7b000000u
#define FENCE_MASK 0xff000000u
/* Rounds before giving up on a thread that keeps stopping inside the bytes. */
#define FENCE_ROUNDS 1000
/* How long a round waits for the acknowledgements of signalled threads. */
#define FENCE_WAIT_NS 200000000ll

/* The answers of a round, in one word so that a late answer cannot count in the next round. */
#define FENCE_INSIDE (1ull << 31)
#define FENCE_ACKS (FENCE_INSIDE - 1)

static struct {
	_Atomic uint64_t state; /* the round's tag << 32 | FENCE_INSIDE | acknowledgements */
	_Atomic uintptr_t lo, hi;
} fence;

bool probe_fence_signal(const siginfo_t *si, uintptr_t ip)
{
	unsigned tag = (unsigned)si->si_value.sival_int;
	uint64_t old, new;
	bool inside;

	if (si->si_code != SI_QUEUE || si->si_pid != getpid() || (tag & FENCE_MASK) != FENCE_MARK)
		return false;
	old = atomic_load_explicit(&fence.state, memory_order_acquire);
	inside = ip > atomic_load_explicit(&fence.lo, memory_order_relaxed) &&
		 ip < atomic_load_explicit(&fence.hi, memory_order_relaxed);
	do {
		/* a signal of an earlier round (delivered late) is ours, but answers nothing */
		if (old >> 32 != tag)
			return true;
		new = (old + 1) | (inside ? FENCE_INSIDE : 0);
	} while (!atomic_compare_exchange_weak_explicit(&fence.state, &old, new,
							memory_order_acq_rel, memory_order_acquire));
	return true;
}

/* May the thread be running user code: runnable, or in a fault (D)? */
static bool thread_may_run(pid_t pid, const char *tid)
{
	char path[64], buf[512], *p;
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

/* Signals every other thread that may run; returns how many were signalled. */
static unsigned signal_threads(unsigned tag)
{
	pid_t pid = getpid(), self = (pid_t)syscall(SYS_gettid);
	unsigned sent = 0;
	struct dirent *d;
	DIR *dir;

	dir = opendir("/proc/self/task");
	if (!dir)
		return 0;
	while ((d = readdir(dir))) {
		siginfo_t si;
		pid_t tid = (pid_t)strtol(d->d_name, NULL, 10);

		if (tid <= 0 || tid == self || !thread_may_run(pid, d->d_name))
			continue;
		memset(&si, 0, sizeof(si));
		si.si_signo = SIGTRAP;
		si.si_code = SI_QUEUE;
		si.si_pid = pid;
		si.si_uid = getuid();
		si.si_value.sival_int = (int)tag;
		if (!syscall(SYS_rt_tgsigqueueinfo, pid, tid, SIGTRAP, &si))
			sent++;
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

int probe_fence(uintptr_t addr, size_t len)
{
	static unsigned number;

	atomic_store_explicit(&fence.lo, addr, memory_order_relaxed);
	atomic_store_explicit(&fence.hi, addr + len, memory_order_relaxed);
	for (unsigned r = 0; r < FENCE_ROUNDS; r++) {
		unsigned tag = FENCE_MARK | (++number & ~FENCE_MASK), sent;
		long long end;
		uint64_t st;

		atomic_store_explicit(&fence.state, (uint64_t)tag << 32, memory_order_release);
		sent = signal_threads(tag);
		end = now_ns() + FENCE_WAIT_NS;
		/* a thread that never answers has SIGTRAP blocked: see the limits above */
		while (((st = atomic_load_explicit(&fence.state, memory_order_acquire)) & FENCE_ACKS) <
			       sent &&
		       now_ns() < end)
			sched_yield();
		if (!(st & FENCE_INSIDE))
			return 0;
		sched_yield();
	}
	return -EBUSY;
}
