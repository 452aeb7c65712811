// SPDX-License-Identifier: MIT
/*
 * Reaching the other threads of the process: each gets SH_THREAD_SIG
 * (queued with rt_tgsigqueueinfo, tagged with the round's number), does what the tag asks in its
 * handler and answers; the caller waits for the answers a while.
 *
 * Rounds are serialized by the caller (syshook_api.c's lock).
 *
 * SH_TAG_ENABLE: turn SUD on (the threads that exist at the first install).
 * SH_TAG_FENCE: report whether the thread was stopped inside the bytes of
 * a site being patched (syshook_rewrite.c).
 *
 * The fence signals only the threads that may be running (state R or D):
 * one asleep in a system call is at a syscall instruction, never inside
 * displaced bytes. SUD must reach every thread, asleep ones too: one asleep
 * in a call that SA_RESTART does not restart (poll, epoll_wait) sees EINTR,
 * as with any signal. A thread that blocks
 * the signal never answers: it does not get SUD (the rewritten sites still
 * serve it), and the fence does not see it (see the limits in
 * docs/ARCHITECTURE.md). Signals of that number that are not ours go to the
 * handler installed before (sigchain).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "common/sigchain.h"
#include "syshook_internal.h"

/* probe's fence uses SIGRTMAX */
#define SH_THREAD_SIG (SIGRTMAX - 1)
/* si_value: this mark, the round's number, the tag */
#define SH_TAG_MARK 0x5d000000
#define SH_MARK_MASK 0xff000000
#define SH_ROUND_MASK 0x00fffff0
#define SH_WAIT_MS 300

static struct sigchain thread_chain;
static _Atomic unsigned acks, round_;

static void thread_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	int saved_errno = errno;
	unsigned v = (unsigned)si->si_value.sival_int;

	if (si->si_code != SI_QUEUE || si->si_pid != getpid() ||
	    (v & SH_MARK_MASK) != SH_TAG_MARK) {
		sigchain_forward(&thread_chain, sig, si, ucv);
		return;
	}
	if ((v & 0xf) == SH_TAG_ENABLE) {
		/* the mask the thread returns to is the frame's */
		if (!sh_sud_enable_self())
			sigdelset(&uc->uc_sigmask, SIGSYS);
	} else {
		sh_fence_check((uintptr_t)uc->uc_mcontext.gregs[REG_RIP]);
	}
	/* a late answer to an earlier round does not count in this one */
	if ((v & SH_ROUND_MASK) == atomic_load(&round_))
		atomic_fetch_add(&acks, 1);
	errno = saved_errno;
}

/* May the thread be running user code: runnable, or in a fault (D)? */
static bool thread_may_run(pid_t tid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* "tid (comm) S ...": comm may hold anything, so the state follows the last ')' */
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && (p[2] == 'R' || p[2] == 'D');
}

static pthread_once_t thread_once = PTHREAD_ONCE_INIT;
static int thread_ret;

static void thread_sig_init(void)
{
	thread_chain.sig = SH_THREAD_SIG;
	thread_ret = sigchain_install_async(&thread_chain, thread_handler);
}

int sh_signal_others(int tag)
{
	pid_t pid = getpid(), self = (pid_t)syscall(SYS_gettid);
	unsigned sent = 0;
	struct dirent *d;
	DIR *dir;

	pthread_once(&thread_once, thread_sig_init);
	if (thread_ret)
		return thread_ret;
	dir = opendir("/proc/self/task");
	if (!dir)
		return -errno;
	atomic_store(&acks, 0);
	atomic_store(&round_, (atomic_load(&round_) + 0x10) & SH_ROUND_MASK);
	while ((d = readdir(dir))) {
		pid_t tid = (pid_t)strtol(d->d_name, NULL, 10);
		siginfo_t si;

		if (tid <= 0 || tid == self || (tag == SH_TAG_FENCE && !thread_may_run(tid)))
			continue;
		memset(&si, 0, sizeof(si));
		si.si_signo = SH_THREAD_SIG;
		si.si_code = SI_QUEUE;
		si.si_pid = pid;
		si.si_uid = getuid();
		si.si_value.sival_int = (int)(SH_TAG_MARK | atomic_load(&round_) | (unsigned)tag);
		if (!syscall(SYS_rt_tgsigqueueinfo, pid, tid, SH_THREAD_SIG, &si))
			sent++;
	}
	closedir(dir);
	for (int i = 0; i < SH_WAIT_MS && atomic_load(&acks) < sent; i++) {
		struct timespec ts = {0, 1000000};

		nanosleep(&ts, NULL);
	}
	return (int)(sent - atomic_load(&acks));
}
