// SPDX-License-Identifier: MIT
/*
 * bpf_trace_printk and bpf_snprintf. trace_printk writes one line per call,
 * prefixed as in the kernel's trace_pipe (thread name-id, CPU, seconds), to
 * the file UEBPF_TRACE_PIPE names or to stderr, with a single write so lines
 * from many threads and processes do not mix.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "helpers/internal.h"

#define PRINTK_MAX 1024	     /* a message, as the kernel's trace_printk buffer */
#define SNPRINTF_MAX_ARGS 12 /* MAX_BPF_FUNC_VARARGS */

#define COMM_REFRESH_NS 10000000 /* how old a thread's cached name may get */

static int trace_fd = STDERR_FILENO;

/*
 * The line's prefix costs no system call in the common case: a thread's id
 * is read once (again after a fork, which gives the thread a new one), its
 * name at most every COMM_REFRESH_NS, so a rename shows within 10 ms.
 */
struct printk_self {
	unsigned fork_gen;
	int tid;
	int64_t comm_at;
	char comm[16];
};

static unsigned fork_gen = 1;
static __thread struct printk_self self;

static void count_fork(void)
{
	fork_gen++;
}

static void refresh_self(int64_t now)
{
	if (self.fork_gen != __atomic_load_n(&fork_gen, __ATOMIC_RELAXED)) {
		self.fork_gen = __atomic_load_n(&fork_gen, __ATOMIC_RELAXED);
		self.tid = (int)gettid();
		self.comm_at = now - COMM_REFRESH_NS;
	}
	if (now - self.comm_at < COMM_REFRESH_NS)
		return;
	prctl(PR_GET_NAME, self.comm);
	self.comm[sizeof(self.comm) - 1] = '\0';
	self.comm_at = now;
}

static void open_trace(void)
{
	const char *path = getenv("UEBPF_TRACE_PIPE");
	int fd;

	pthread_atfork(NULL, NULL, count_fork);
	if (!path || !*path)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		trace_fd = fd;
	else
		fprintf(stderr, "uebpf: cannot open UEBPF_TRACE_PIPE %s: %m; tracing to stderr\n",
			path);
}

/* The format must end, with its NUL, inside the memory the program gave. */
static bool fmt_ok(uint64_t fmt, uint64_t max)
{
	return max && helper_mem_ok(fmt, max, false) && memchr((void *)(uintptr_t)fmt, 0, max);
}

HELPER(trace_printk)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	uint64_t args[3] = {r3, r4, r5};
	char msg[PRINTK_MAX], line[PRINTK_MAX + 64];
	struct timespec ts;
	int n, len;

	if (!fmt_ok(r1, r2))
		return helper_err(EINVAL);
	n = helper_format(msg, sizeof(msg), (const char *)(uintptr_t)r1, args, 3);
	if (n < 0)
		return (uint64_t)(int64_t)n;
	pthread_once(&once, open_trace);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	refresh_self((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
	len = snprintf(line, sizeof(line), "%16s-%-7d [%03d] %5lld.%06ld: bpf_trace_printk: %s",
		       self.comm, self.tid, sched_getcpu(), (long long)ts.tv_sec,
		       ts.tv_nsec / 1000, msg);
	if (len >= (int)sizeof(line))
		len = (int)sizeof(line) - 1;
	if (len > 0 && line[len - 1] != '\n')
		line[len++] = '\n';
	if (write(trace_fd, line, (size_t)len) < 0)
		return helper_err(EIO);
	return (uint64_t)(n < (int)sizeof(msg) ? n : (int)sizeof(msg) - 1);
}

/* The kernel's bpf_snprintf: the length the whole output needs, NUL included. */
HELPER(snprintf)
{
	const struct vm_run *run = vm_current_run;
	uint64_t args[SNPRINTF_MAX_ARGS];
	int n;

	if (r5 % 8 || r5 > sizeof(args) || (r5 && !r4) || !run)
		return helper_err(EINVAL);
	if (!helper_mem_ok(r1, r2, true) || !helper_mem_ok(r4, r5, false))
		return helper_err(EFAULT);
	if (!fmt_ok(r3, vm_run_mem_avail(run, r3, false)))
		return helper_err(EINVAL);
	memcpy(args, (void *)(uintptr_t)r4, r5);
	n = helper_format((char *)(uintptr_t)r1, r2, (const char *)(uintptr_t)r3, args,
			  (unsigned)(r5 / 8));
	return n < 0 ? (uint64_t)(int64_t)n : (uint64_t)n + 1;
}
