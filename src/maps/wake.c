// SPDX-License-Identifier: MIT
/*
 * Waking a consumer that sleeps in epoll on a ring (a RINGBUF map, a perf
 * event's ring) when a producer in any process adds records.
 *
 * A consumer waits on the read end of a pipe of its own (the bpf()
 * emulation's epoll interposition puts it in the epoll set in the ring's
 * place) and publishes its write end in a slot of the ring's wait queue, a
 * struct map_waitq in the ring's shared memory: pid, fd number and the
 * pipe's inode. A producer reaches the pipe through /proc/PID/fd/FD, which
 * opens the same pipe (pipes, unlike eventfds, can be opened that way), and
 * keeps what it opened in a small per-process cache. It opens a read end
 * too, so a write never meets a pipe without readers (no EPIPE, no
 * SIGPIPE in a traced process) when the consumer has gone.
 *
 * A wakeup costs a system call, so producers make one only when a consumer
 * is about to sleep: the consumer sets armed, then looks at the ring once
 * more before it sleeps; a producer publishes its record, then takes armed
 * back with an exchange and writes to every pipe if it was set. Both
 * orders are full barriers (seq_cst store and load on one side, a locked
 * exchange after the record's release on the other), so either the
 * consumer sees the record or the producer sees armed: no lost wakeup.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maps/internal.h"

int map_waitq_join(struct map_waitq *q, int wfd)
{
	int32_t pid = getpid();
	struct stat st;

	if (fstat(wfd, &st) < 0)
		return -errno;
	for (unsigned i = 0; i < MAP_WAITQ_SLOTS; i++) {
		struct map_waiter *w = &q->waiter[i];
		int32_t old = __atomic_load_n(&w->pid, __ATOMIC_ACQUIRE);

		/* a slot is free, or its consumer is gone (-1: being filled) */
		if (old < 0 || (old && !(kill(old, 0) < 0 && errno == ESRCH)))
			continue;
		if (!__atomic_compare_exchange_n(&w->pid, &old, -1, false, __ATOMIC_ACQ_REL,
						 __ATOMIC_RELAXED))
			continue;
		w->fd = wfd;
		w->ino = st.st_ino;
		w->dev = st.st_dev;
		__atomic_store_n(&w->pid, pid, __ATOMIC_RELEASE);
		return (int)i;
	}
	return -ENOSPC;
}

void map_waitq_leave(struct map_waitq *q, int slot)
{
	if (slot >= 0 && slot < MAP_WAITQ_SLOTS)
		__atomic_store_n(&q->waiter[slot].pid, 0, __ATOMIC_RELEASE);
}

void map_waitq_arm(struct map_waitq *q)
{
	__atomic_store_n(&q->armed, 1, __ATOMIC_SEQ_CST);
	/* before the consumer's last look at the ring */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* What this process opened of a consumer's pipe. */
struct wake_pipe {
	int32_t pid;
	int32_t fd;
	uint64_t ino;
	int wfd, rfd; /* -1 when not open */
};

#define WAKE_CACHE 16

static struct wake_pipe cache[WAKE_CACHE];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned cache_next;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_init(void)
{
	for (unsigned i = 0; i < WAKE_CACHE; i++)
		cache[i] = (struct wake_pipe){.wfd = -1, .rfd = -1};
}

static void pipe_close(struct wake_pipe *p)
{
	if (p->wfd >= 0)
		close(p->wfd);
	if (p->rfd >= 0)
		close(p->rfd);
	*p = (struct wake_pipe){.wfd = -1, .rfd = -1};
}

/* Open the consumer's pipe through /proc; the result's wfd is -1 when it is gone. */
static void pipe_open(struct wake_pipe *p, int32_t pid, int32_t fd, uint64_t ino, uint64_t dev)
{
	char path[64];
	struct stat st;

	pipe_close(p);
	*p = (struct wake_pipe){.pid = pid, .fd = fd, .ino = ino, .wfd = -1, .rfd = -1};
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, (int)fd);
	p->rfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (p->rfd < 0)
		return;
	if (fstat(p->rfd, &st) < 0 || !S_ISFIFO(st.st_mode) || st.st_ino != ino ||
	    st.st_dev != dev) {
		close(p->rfd);
		p->rfd = -1;
		return;
	}
	p->wfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
}

static void wake_one(int32_t pid, int32_t fd, uint64_t ino, uint64_t dev)
{
	struct wake_pipe *p = NULL;
	char one = 1;

	pthread_once(&cache_once, cache_init);
	pthread_mutex_lock(&cache_lock);
	for (unsigned i = 0; i < WAKE_CACHE; i++)
		if (cache[i].pid == pid && cache[i].fd == fd && cache[i].ino == ino) {
			p = &cache[i];
			break;
		}
	if (!p) {
		p = &cache[cache_next++ % WAKE_CACHE];
		pipe_open(p, pid, fd, ino, dev);
	}
	/* a full pipe already says what this byte would */
	if (p->wfd >= 0 && write(p->wfd, &one, 1) < 0 && errno != EAGAIN)
		pipe_close(p);
	pthread_mutex_unlock(&cache_lock);
}

void map_waitq_wake(struct map_waitq *q)
{
	/* the record's stores before the look at armed: the consumer's side of the pact */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&q->armed, __ATOMIC_RELAXED) ||
	    !__atomic_exchange_n(&q->armed, 0, __ATOMIC_SEQ_CST))
		return;
	for (unsigned i = 0; i < MAP_WAITQ_SLOTS; i++) {
		struct map_waiter *w = &q->waiter[i];
		int32_t pid = __atomic_load_n(&w->pid, __ATOMIC_ACQUIRE);

		if (pid > 0)
			wake_one(pid, w->fd, w->ino, w->dev);
	}
}
