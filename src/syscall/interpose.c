// SPDX-License-Identifier: MIT
/*
 * The syscall() that routes bpf() to uebpf. libbpf makes every bpf() call
 * through libc's syscall(); a definition of syscall in the executable (the
 * uebpf tools link this file) or in a preloaded library (libuebpf-shim.so)
 * comes before libc's in symbol lookup, so libbpf's calls land here. bpf()
 * goes to syscall_bpf, with the kernel's -1/errno convention, and so does
 * perf_event_open on the uprobe PMU (syscall_perf_event_open); every other
 * system call goes on to libc's syscall.
 *
 * libbpf attaches a program to a perf event with ioctl(), a libc function
 * of its own: the ioctl here takes the three perf event requests when the
 * fd is one of uebpf's events and hands everything else to libc's.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "syscall/syscall.h"

typedef long (*syscall_fn)(long number, ...);

long syscall(long number, ...)
{
	static syscall_fn next;
	long a[6];
	va_list ap;

	/* syscall() takes six arguments at most; the ABI lets us read all of them */
	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (number == __NR_bpf || (number == __NR_perf_event_open &&
				   syscall_perf_event_ours((struct perf_event_attr *)a[0]))) {
		long ret = number == __NR_bpf
				   ? syscall_bpf((int)a[0], (void *)a[1], (unsigned int)a[2])
				   : syscall_perf_event_open((struct perf_event_attr *)a[0],
							     (pid_t)a[1], (int)a[2], (int)a[3],
							     (unsigned long)a[4]);

		if (ret < 0) {
			errno = (int)-ret;
			return -1;
		}
		return ret;
	}
	if (!__atomic_load_n(&next, __ATOMIC_ACQUIRE))
		__atomic_store_n(&next, (syscall_fn)dlsym(RTLD_NEXT, "syscall"), __ATOMIC_RELEASE);
	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	return next(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

typedef int (*ioctl_fn)(int fd, unsigned long req, ...);

int ioctl(int fd, unsigned long req, ...)
{
	static ioctl_fn next;
	unsigned long arg;
	bool handled;
	va_list ap;
	long ret;

	/* every request takes one argument at most; the ABI lets us read it */
	va_start(ap, req);
	arg = va_arg(ap, unsigned long);
	va_end(ap);
	ret = syscall_perf_ioctl(fd, req, arg, &handled);
	if (handled) {
		if (ret < 0) {
			errno = (int)-ret;
			return -1;
		}
		return (int)ret;
	}
	if (!__atomic_load_n(&next, __ATOMIC_ACQUIRE))
		__atomic_store_n(&next, (ioctl_fn)dlsym(RTLD_NEXT, "ioctl"), __ATOMIC_RELEASE);
	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	return next(fd, req, arg);
}
