// SPDX-License-Identifier: MIT
/*
 * The syscall() that routes bpf() to uebpf. libbpf makes every bpf() call
 * through libc's syscall(); a definition of syscall in the executable (the
 * uebpf tools link this file) or in a preloaded library (libuebpf-shim.so)
 * comes before libc's in symbol lookup, so libbpf's calls land here. bpf()
 * goes to syscall_bpf, with the kernel's -1/errno convention; every other
 * system call goes on to libc's syscall.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
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
	if (number == __NR_bpf) {
		long ret = syscall_bpf((int)a[0], (void *)a[1], (unsigned int)a[2]);

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
