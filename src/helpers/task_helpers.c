// SPDX-License-Identifier: MIT
/*
 * The calling task, as the kernel's helpers see "current": this thread.
 * bpf_get_current_pid_tgid (process id high, thread id low: the kernel's
 * tgid and pid), get_current_uid_gid, get_current_comm (the thread's name),
 * and get_func_ip, which is 0 until a probe gives a program a function.
 *
 * Thread and process ids are cached per thread, as they stay the same for a
 * thread's life; a child after fork() has new ones, so fork clears the
 * cache of its one thread.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "helpers/internal.h"

static __thread uint64_t pid_tgid;

static void forget_ids(void)
{
	pid_tgid = 0;
}

uint64_t helpers_current_pid_tgid(void)
{
	return helper_get_current_pid_tgid(0, 0, 0, 0, 0);
}

static void watch_fork(void)
{
	pthread_atfork(NULL, NULL, forget_ids);
}

HELPER(get_current_pid_tgid)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
	if (__builtin_expect(!pid_tgid, 0)) {
		pthread_once(&once, watch_fork);
		pid_tgid = (uint64_t)getpid() << 32 | (uint32_t)gettid();
	}
	return pid_tgid;
}

HELPER(get_current_uid_gid)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
	return (uint64_t)getgid() << 32 | getuid();
}

/* The kernel copies the name, truncated and NUL-terminated, and zeroes the rest. */
HELPER(get_current_comm)
{
	char comm[16] = "";
	size_t n;

	(void)r3, (void)r4, (void)r5;
	if (!r2)
		return helper_err(EINVAL);
	if (!helper_mem_ok(r1, r2, true))
		return helper_err(EFAULT);
	prctl(PR_GET_NAME, comm);
	comm[sizeof(comm) - 1] = '\0';
	n = strnlen(comm, r2 - 1);
	memcpy((void *)(uintptr_t)r1, comm, n);
	memset((char *)(uintptr_t)r1 + n, 0, r2 - n);
	return 0;
}

HELPER(get_func_ip)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
	return 0;
}
