// SPDX-License-Identifier: MIT
/*
 * The table of objects bpf() handed out, found by file identity or id.
 * A map fd that is not in the table (made by another process, reached
 * through a pin or /proc/PID/fd) is adopted: opened with map_open_fd and
 * added, so it works as if it had been created here.
 *
 * Collection: the process's fds cannot be watched as they close, so when
 * the table has doubled since the last collection, /proc/self/fd is read
 * and every object whose file no fd (other than the table's own) refers to,
 * that no pin names and that nothing holds a reference to, is taken out
 * and freed. Freeing a program drops its maps' references; they go in a
 * later collection.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maps/maps.h"
#include "syscall/internal.h"

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sys_obj **table;
static size_t table_len, table_cap;
static uint32_t next_id = 1;
static size_t collect_at = 64; /* table length that starts the next collection */

static __thread char last_error[512];

void sys_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
}

const char *syscall_last_error(void)
{
	return last_error;
}

static const char *const kind_names[] = {
	[SYS_MAP] = "map",
	[SYS_PROG] = "program",
	[SYS_BTF] = "BTF object",
	[SYS_PERF_EVENT] = "perf event",
	[SYS_LINK] = "link",
	[SYS_PERF_OUTPUT] = "perf output event",
};

int sys_obj_memfd(const char *what, const char *name)
{
	char memfd_name[64];
	int fd;

	snprintf(memfd_name, sizeof(memfd_name), "uebpf-%s:%s", what, name);
	fd = memfd_create(memfd_name, MFD_CLOEXEC);
	if (fd < 0) {
		sys_error("memfd_create: %s", strerror(errno));
		return -errno;
	}
	return fd;
}

int sys_obj_new_fd(struct sys_obj *obj)
{
	int fd = fcntl(obj->fd, F_DUPFD_CLOEXEC, 0);

	if (fd < 0) {
		sys_error("cannot make a new fd: %s", strerror(errno));
		return -errno;
	}
	return fd;
}

static void obj_free(struct sys_obj *obj)
{
	switch (obj->kind) {
	case SYS_MAP:
		if (obj->map.btf)
			sys_obj_put(obj->map.btf);
		sys_prog_array_release(&obj->map);
		map_close(obj->map.map); /* closes obj->fd, the map's memfd */
		break;
	case SYS_PROG:
		sys_prog_release(&obj->prog);
		close(obj->fd);
		break;
	case SYS_BTF:
		free(obj->btf.data);
		close(obj->fd);
		break;
	case SYS_PERF_EVENT:
		sys_perf_event_release(obj);
		close(obj->fd);
		break;
	case SYS_LINK:
		sys_link_release(obj);
		close(obj->fd);
		break;
	case SYS_PERF_OUTPUT:
		map_perf_ring_close(obj->ring); /* closes obj->fd, the ring's file */
		break;
	}
	free(obj);
}

/* Mark in live the objects some fd of the process, not the table's own, refers to. */
static void mark_open_locked(bool *live)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	struct stat st;

	if (!d) {
		/* without the list nothing is known to be unused */
		memset(live, 1, table_len * sizeof(*live));
		return;
	}
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] == '.' || fd == dirfd(d) || fstat(fd, &st) < 0)
			continue;
		for (size_t i = 0; i < table_len; i++)
			if (table[i]->ino == st.st_ino && table[i]->dev == st.st_dev &&
			    table[i]->fd != fd)
				live[i] = true;
	}
	closedir(d);
}

static void collect(void)
{
	struct sys_obj **dead;
	size_t ndead = 0, kept = 0;
	bool *live;

	pthread_mutex_lock(&table_lock);
	live = calloc(table_len, sizeof(*live));
	dead = calloc(table_len, sizeof(*dead));
	if (!live || !dead) {
		pthread_mutex_unlock(&table_lock);
		free(live);
		free(dead);
		return;
	}
	mark_open_locked(live);
	for (size_t i = 0; i < table_len; i++) {
		struct sys_obj *obj = table[i];

		if (!live[i] && !obj->pinned && obj->refs == 1)
			dead[ndead++] = obj;
		else
			table[kept++] = obj;
	}
	table_len = kept;
	collect_at = 2 * table_len > 64 ? 2 * table_len : 64;
	pthread_mutex_unlock(&table_lock);
	for (size_t i = 0; i < ndead; i++)
		obj_free(dead[i]);
	free(live);
	free(dead);
}

static int obj_add(struct sys_obj *obj, int user_fd)
{
	struct stat st;
	bool full;
	int fd;

	pthread_mutex_lock(&table_lock);
	full = table_len >= collect_at;
	pthread_mutex_unlock(&table_lock);
	if (full)
		collect();

	if (fstat(obj->fd, &st) < 0) {
		sys_error("fstat: %s", strerror(errno));
		return -errno;
	}
	obj->dev = st.st_dev;
	obj->ino = st.st_ino;
	fd = user_fd >= 0 ? user_fd : sys_obj_new_fd(obj);
	if (fd < 0)
		return fd;
	pthread_mutex_lock(&table_lock);
	if (table_len == table_cap) {
		size_t cap = table_cap ? 2 * table_cap : 64;
		struct sys_obj **t = realloc(table, cap * sizeof(*t));

		if (!t) {
			pthread_mutex_unlock(&table_lock);
			if (fd != user_fd)
				close(fd);
			sys_error("out of memory");
			return -ENOMEM;
		}
		table = t;
		table_cap = cap;
	}
	/* a program's id is its VM's, which tail calls look up (vm/tail_call.c) */
	if (!obj->id)
		obj->id = next_id++;
	obj->refs = 1;
	table[table_len++] = obj;
	pthread_mutex_unlock(&table_lock);
	return fd;
}

int sys_obj_add(struct sys_obj *obj)
{
	return obj_add(obj, -1);
}

int sys_obj_add_user_fd(struct sys_obj *obj, int user_fd)
{
	int fd = obj_add(obj, user_fd);

	if (fd < 0)
		close(user_fd);
	return fd;
}

static struct sys_obj *find_locked(dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < table_len; i++)
		if (table[i]->dev == dev && table[i]->ino == ino)
			return table[i];
	return NULL;
}

/* A map made elsewhere: open it and add it to the table. */
static int adopt_map(int fd, struct sys_obj **out)
{
	struct sys_obj *obj;
	char err[256];
	int ret, newfd;

	obj = calloc(1, sizeof(*obj));
	if (!obj) {
		sys_error("out of memory");
		return -ENOMEM;
	}
	ret = map_open_fd(fd, &obj->map.map, err, sizeof(err));
	if (ret) {
		sys_error("fd %d is not a uebpf object: %s", fd, err);
		free(obj);
		return -EINVAL;
	}
	obj->kind = SYS_MAP;
	obj->fd = map_fd(obj->map.map);
	newfd = sys_obj_add(obj);
	if (newfd < 0) {
		map_close(obj->map.map);
		free(obj);
		return newfd;
	}
	/* the caller's reference, taken before the new fd closes so it is never unused */
	pthread_mutex_lock(&table_lock);
	obj->refs++;
	pthread_mutex_unlock(&table_lock);
	close(newfd);
	*out = obj;
	return 0;
}

int sys_obj_get(int fd, enum sys_kind kind, struct sys_obj **out)
{
	struct sys_obj *obj;
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0) {
		sys_error("fd %d is not open", fd);
		return -EBADF;
	}
	pthread_mutex_lock(&table_lock);
	obj = find_locked(st.st_dev, st.st_ino);
	if (obj)
		obj->refs++;
	pthread_mutex_unlock(&table_lock);
	if (!obj) {
		/* an open fd of something else: -EINVAL, as the kernel says of a non-BPF fd */
		if (kind != SYS_MAP && kind != 0) {
			sys_error("fd %d is not a uebpf %s", fd, kind_names[kind]);
			return -EINVAL;
		}
		if (!S_ISREG(st.st_mode)) {
			sys_error("fd %d is not a uebpf object", fd);
			return -EINVAL;
		}
		return adopt_map(fd, out);
	}
	if (kind && obj->kind != kind) {
		sys_error("fd %d is a %s, not a %s", fd, kind_names[obj->kind], kind_names[kind]);
		sys_obj_put(obj);
		return -EINVAL;
	}
	*out = obj;
	return 0;
}

int sys_obj_find(int fd, struct sys_obj **out)
{
	struct sys_obj *obj;
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return -ENOENT;
	pthread_mutex_lock(&table_lock);
	obj = find_locked(st.st_dev, st.st_ino);
	if (obj)
		obj->refs++;
	pthread_mutex_unlock(&table_lock);
	*out = obj;
	return obj ? 0 : -ENOENT;
}

struct sys_obj *sys_obj_get_id(enum sys_kind kind, uint32_t id)
{
	struct sys_obj *obj = NULL;

	pthread_mutex_lock(&table_lock);
	for (size_t i = 0; i < table_len; i++) {
		if (table[i]->kind == kind && table[i]->id == id) {
			obj = table[i];
			obj->refs++;
			break;
		}
	}
	pthread_mutex_unlock(&table_lock);
	return obj;
}

uint32_t sys_obj_next_id(enum sys_kind kind, uint32_t id)
{
	uint32_t next = 0;

	pthread_mutex_lock(&table_lock);
	for (size_t i = 0; i < table_len; i++)
		if (table[i]->kind == kind && table[i]->id > id && (!next || table[i]->id < next))
			next = table[i]->id;
	pthread_mutex_unlock(&table_lock);
	return next;
}

/* Objects are freed by collection only, once the table's is the last reference. */
void sys_obj_put(struct sys_obj *obj)
{
	pthread_mutex_lock(&table_lock);
	obj->refs--;
	pthread_mutex_unlock(&table_lock);
}

void sys_obj_set_pinned(struct sys_obj *obj)
{
	pthread_mutex_lock(&table_lock);
	obj->pinned = true;
	pthread_mutex_unlock(&table_lock);
}
