// SPDX-License-Identifier: MIT
/*
 * Consumers of rings use mmap and epoll on the fds bpf() and
 * perf_event_open gave them, as on the kernel's: libbpf's ring_buffer maps
 * a RINGBUF map's fd and waits for it in epoll, its perf_buffer does the
 * same with BPF output events. The fds here are files of the state
 * directory, which the kernel would map as plain files and refuse in epoll
 * (EPERM), so interpose_ring.c sends those calls here first.
 *
 * mmap: a RINGBUF fd is mapped as the kernel lays it out
 * (map_ringbuf_mmap); a perf event's first mmap sizes its ring.
 *
 * epoll: the ring's fd is replaced in the epoll set by the read end of a
 * pipe of this process (a proxy) whose write end is joined to the ring's
 * wait queue (src/maps/wake.c), so a producer in any process wakes it.
 * Before an epoll_wait on a set with proxies, each proxy's pipe is
 * drained, its queue armed, and the ring looked at once more: a ring with
 * data makes its own pipe readable, so the wait returns at once as the
 * kernel's level-triggered poll does. A proxy ends with EPOLL_CTL_DEL, or
 * when its epoll set no longer holds its pipe (the set was closed: found
 * through /proc/self/fdinfo at the next EPOLL_CTL_ADD).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "maps/maps.h"
#include "syscall/internal.h"
#include "syscall/syscall.h"

struct proxy {
	int epfd;
	int rfd, wfd; /* the pipe */
	int slot;     /* in the wait queue */
	struct sys_obj *obj;
	struct map_waitq *q;
	struct proxy *next;
};

static struct proxy *proxies;
static pthread_mutex_t proxy_lock = PTHREAD_MUTEX_INITIALIZER;
static int nproxies; /* read without the lock: 0 means no epoll_wait needs a look */

/* The ring object behind fd with a reference, or NULL. */
static struct sys_obj *ring_obj(int fd)
{
	struct sys_obj *obj;

	if (sys_obj_find(fd, &obj))
		return NULL;
	if (obj->kind == SYS_PERF_OUTPUT ||
	    (obj->kind == SYS_MAP && map_info(obj->map.map)->type == BPF_MAP_TYPE_RINGBUF))
		return obj;
	sys_obj_put(obj);
	return NULL;
}

static struct map_waitq *obj_waitq(struct sys_obj *obj)
{
	return obj->kind == SYS_PERF_OUTPUT ? map_perf_ring_waitq(obj->ring)
					    : map_ringbuf_waitq(obj->map.map);
}

static bool obj_readable(struct sys_obj *obj)
{
	if (obj->kind == SYS_PERF_OUTPUT)
		return map_perf_ring_readable(obj->ring);
	return map_ringbuf_query(obj->map.map, BPF_RB_AVAIL_DATA) > 0;
}

/*
 * Only the mappings a consumer makes are the ring's: uebpf's own mappings
 * of the same files (a map opened again, a producer's view of a perf ring)
 * are plain.
 */
static bool consumer_mapping(struct sys_obj *obj, size_t len, off_t off)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (obj->kind == SYS_PERF_OUTPUT)
		return off == 0 && len > page;
	return (off == 0 && len == page) ||
	       ((size_t)off == page &&
		len == page + 2 * (size_t)map_info(obj->map.map)->max_entries);
}

bool syscall_ring_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off, void **out)
{
	struct sys_obj *obj;
	bool perf;
	int ret;

	if (fd < 0 || !(obj = ring_obj(fd)))
		return false;
	if (!consumer_mapping(obj, len, off)) {
		sys_obj_put(obj);
		return false;
	}
	/* a perf ring, once sized, is mapped as the plain file it is, by libc */
	perf = obj->kind == SYS_PERF_OUTPUT;
	if (perf)
		ret = map_perf_ring_set_size(obj->ring, len);
	else
		ret = map_ringbuf_mmap(obj->map.map, addr, len, prot, flags, off, out);
	sys_obj_put(obj);
	if (ret) {
		*out = MAP_FAILED;
		errno = -ret;
		return true;
	}
	return !perf;
}

static void proxy_free(struct proxy *p)
{
	map_waitq_leave(p->q, p->slot);
	close(p->rfd);
	close(p->wfd);
	sys_obj_put(p->obj);
	free(p);
}

/* Does epoll set epfd still hold fd? (Its fdinfo lists every target as "tfd: FD ".) */
static bool epoll_holds(int epfd, int fd)
{
	char path[64], line[256];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", epfd);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		int tfd;

		found = sscanf(line, "tfd: %d ", &tfd) == 1 && tfd == fd;
	}
	fclose(f);
	return found;
}

/* Free the proxies whose epoll set is gone (closed without EPOLL_CTL_DEL). */
static void proxies_collect_locked(void)
{
	for (struct proxy **pp = &proxies; *pp;) {
		struct proxy *p = *pp;

		if (epoll_holds(p->epfd, p->rfd)) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		__atomic_store_n(&nproxies, nproxies - 1, __ATOMIC_RELAXED);
		proxy_free(p);
	}
}

static struct proxy *proxy_find_locked(int epfd, struct sys_obj *obj, struct proxy ***link)
{
	for (struct proxy **pp = &proxies; *pp; pp = &(*pp)->next)
		if ((*pp)->epfd == epfd && (*pp)->obj == obj) {
			*link = pp;
			return *pp;
		}
	return NULL;
}

static int proxy_add_locked(int epfd, struct sys_obj *obj, struct epoll_event *ev,
			    epoll_ctl_fn real)
{
	struct proxy *p = calloc(1, sizeof(*p));
	int pfd[2], ret;

	if (!p)
		return -ENOMEM;
	if (pipe2(pfd, O_NONBLOCK | O_CLOEXEC) < 0) {
		ret = -errno;
		free(p);
		return ret;
	}
	*p = (struct proxy){.epfd = epfd, .rfd = pfd[0], .wfd = pfd[1], .obj = obj};
	p->q = obj_waitq(obj);
	p->slot = map_waitq_join(p->q, p->wfd);
	ret = p->slot < 0 ? p->slot : 0;
	if (!ret && real(epfd, EPOLL_CTL_ADD, p->rfd, ev) < 0)
		ret = -errno;
	if (ret) {
		map_waitq_leave(p->q, p->slot);
		close(p->rfd);
		close(p->wfd);
		free(p);
		return ret;
	}
	p->next = proxies;
	proxies = p;
	__atomic_store_n(&nproxies, nproxies + 1, __ATOMIC_RELAXED);
	return 0;
}

bool syscall_ring_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev, epoll_ctl_fn real,
			    int *result)
{
	struct proxy *p, **link;
	struct sys_obj *obj;
	int ret = 0;

	if (!(obj = ring_obj(fd)))
		return false;
	pthread_mutex_lock(&proxy_lock);
	p = proxy_find_locked(epfd, obj, &link);
	switch (op) {
	case EPOLL_CTL_ADD:
		proxies_collect_locked();
		p = proxy_find_locked(epfd, obj, &link);
		if (p) {
			ret = -EEXIST;
			break;
		}
		ret = proxy_add_locked(epfd, obj, ev, real);
		if (!ret)
			obj = NULL; /* the proxy's reference now */
		break;
	case EPOLL_CTL_MOD:
		ret = !p ? -ENOENT : real(epfd, EPOLL_CTL_MOD, p->rfd, ev) < 0 ? -errno : 0;
		break;
	case EPOLL_CTL_DEL:
		if (!p) {
			ret = -ENOENT;
			break;
		}
		real(epfd, EPOLL_CTL_DEL, p->rfd, NULL);
		*link = p->next;
		__atomic_store_n(&nproxies, nproxies - 1, __ATOMIC_RELAXED);
		proxy_free(p);
		break;
	default:
		ret = -EINVAL;
	}
	pthread_mutex_unlock(&proxy_lock);
	if (obj)
		sys_obj_put(obj);
	if (ret) {
		errno = -ret;
		*result = -1;
	} else {
		*result = 0;
	}
	return true;
}

void syscall_ring_epoll_prepare(int epfd)
{
	char buf[64];

	if (!__atomic_load_n(&nproxies, __ATOMIC_RELAXED))
		return;
	pthread_mutex_lock(&proxy_lock);
	for (struct proxy *p = proxies; p; p = p->next) {
		if (p->epfd != epfd)
			continue;
		while (read(p->rfd, buf, sizeof(buf)) > 0)
			;
		map_waitq_arm(p->q);
		/* the look after arming: data a producer added before it saw armed */
		if (obj_readable(p->obj)) {
			/* a full pipe is readable already */
			ssize_t n = write(p->wfd, "", 1);

			(void)n;
		}
	}
	pthread_mutex_unlock(&proxy_lock);
}
