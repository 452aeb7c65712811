// SPDX-License-Identifier: MIT
/*
 * mmap and epoll for the consumers of rings (syscall/ring_poll.c): like
 * interpose.c's syscall(), these definitions come before libc's in symbol
 * lookup, in the uebpf tools and in libuebpf-shim.so. mmap of an fd, and
 * epoll_ctl, look at whether the fd is a RINGBUF map's or a BPF output
 * perf event's and hand everything else to libc; epoll_wait and
 * epoll_pwait ready the set's proxies first. Anonymous mappings, the
 * common case, go straight to libc.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <sys/epoll.h>
#include <sys/mman.h>

#include "syscall/syscall.h"

/* libc's definition of name, looked up once. */
#define NEXT(type, name)                                                                          \
	({                                                                                        \
		static type next_;                                                                \
		if (!__atomic_load_n(&next_, __ATOMIC_ACQUIRE))                                   \
			__atomic_store_n(&next_, (type)dlsym(RTLD_NEXT, name), __ATOMIC_RELEASE); \
		next_;                                                                            \
	})

typedef void *(*mmap_fn)(void *addr, size_t len, int prot, int flags, int fd, off_t off);

/* The kernel's mmap, for the calls dlsym makes (malloc) while it looks libc's up. */
static void *raw_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	register long r10 __asm__("r10") = flags;
	register long r8 __asm__("r8") = fd;
	register long r9 __asm__("r9") = off;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"((long)__NR_mmap), "D"(addr), "S"(len), "d"((long)prot), "r"(r10),
			   "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	if ((unsigned long)ret > -4096ul) {
		errno = (int)-ret;
		return MAP_FAILED;
	}
	return (void *)ret;
}

static mmap_fn libc_mmap(void)
{
	static __thread bool looking;
	static mmap_fn next;
	mmap_fn fn = __atomic_load_n(&next, __ATOMIC_ACQUIRE);

	if (fn || looking)
		return fn ?: raw_mmap;
	looking = true;
	fn = (mmap_fn)dlsym(RTLD_NEXT, "mmap");
	looking = false;
	if (!fn)
		return raw_mmap;
	__atomic_store_n(&next, fn, __ATOMIC_RELEASE);
	return fn;
}

static void *ring_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *out;

	if (fd >= 0 && !(flags & MAP_ANONYMOUS) &&
	    syscall_ring_mmap(addr, len, prot, flags, fd, off, &out))
		return out;
	return libc_mmap()(addr, len, prot, flags, fd, off);
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return ring_mmap(addr, len, prot, flags, fd, off);
}

/* the same function on 64-bit systems, where some callers use this name */
void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return ring_mmap(addr, len, prot, flags, fd, off);
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	epoll_ctl_fn next = NEXT(epoll_ctl_fn, "epoll_ctl");
	int ret;

	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	if (syscall_ring_epoll_ctl(epfd, op, fd, ev, next, &ret))
		return ret;
	return next(epfd, op, fd, ev);
}

typedef int (*epoll_wait_fn)(int epfd, struct epoll_event *ev, int max, int timeout);
typedef int (*epoll_pwait_fn)(int epfd, struct epoll_event *ev, int max, int timeout,
			      const sigset_t *mask);

int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	epoll_wait_fn next = NEXT(epoll_wait_fn, "epoll_wait");

	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	syscall_ring_epoll_prepare(epfd);
	return next(epfd, ev, max, timeout);
}

int epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout, const sigset_t *mask)
{
	epoll_pwait_fn next = NEXT(epoll_pwait_fn, "epoll_pwait");

	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	syscall_ring_epoll_prepare(epfd);
	return next(epfd, ev, max, timeout, mask);
}
