// SPDX-License-Identifier: MIT
/*
 * The syscall events: names to numbers (the table generated at build time
 * from asm/unistd_64.h), event names, and tracepoint ids, uebpf's own and the
 * kernel's.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "systp/systp.h"

struct syscall_name {
	const char *name;
	long nr;
};

static const struct syscall_name table[] = {
#include "systp_names.inc"
};

#define NTABLE (sizeof(table) / sizeof(table[0]))

/*
 * uebpf's own ids: two per system call number (entry, exit), then the two
 * raw_syscalls events. common_type is 16 bits, so they must stay below
 * 65536; the kernel numbers its events upward from a few dozen, one per
 * event (a few thousand), far below OWN_BASE.
 */
#define OWN_BASE 0xe000u
#define NR_LIMIT 1024 /* x86-64 numbers are below; x32's (bit 30) are not events */
#define OWN_RAW (OWN_BASE + 2 * NR_LIMIT)

long systp_nr(const char *name)
{
	for (size_t i = 0; i < NTABLE; i++)
		if (!strcmp(table[i].name, name))
			return table[i].nr;
	return -ENOENT;
}

const char *systp_name(long nr)
{
	for (size_t i = 0; i < NTABLE; i++)
		if (table[i].nr == nr)
			return table[i].name;
	return NULL;
}

int systp_event_parse(const char *category, const char *name, struct systp_event *ev)
{
	bool exit;
	long nr;

	if (!strcmp(category, "raw_syscalls")) {
		if (strcmp(name, "sys_enter") && strcmp(name, "sys_exit"))
			return -ENOENT;
		*ev = (struct systp_event){.exit = !strcmp(name, "sys_exit"), .nr = SYSTP_ANY};
		return 0;
	}
	if (strcmp(category, "syscalls"))
		return -ENOENT;
	if (!strncmp(name, "sys_enter_", 10))
		exit = false;
	else if (!strncmp(name, "sys_exit_", 9))
		exit = true;
	else
		return -ENOENT;
	nr = systp_nr(name + (exit ? 9 : 10));
	if (nr < 0 || nr >= NR_LIMIT)
		return -ENOENT;
	*ev = (struct systp_event){.exit = exit, .nr = nr};
	return 0;
}

void systp_event_name(const struct systp_event *ev, char name[SYSTP_NAME_MAX])
{
	const char *call = systp_name(ev->nr);

	if (ev->nr == SYSTP_ANY || !call)
		snprintf(name, SYSTP_NAME_MAX, "raw_syscalls/sys_%s", ev->exit ? "exit" : "enter");
	else
		snprintf(name, SYSTP_NAME_MAX, "syscalls/sys_%s_%s", ev->exit ? "exit" : "enter",
			 call);
}

uint32_t systp_own_id(const struct systp_event *ev)
{
	if (ev->nr == SYSTP_ANY)
		return OWN_RAW + ev->exit;
	return OWN_BASE + 2 * (uint32_t)ev->nr + ev->exit;
}

static int own_event(uint64_t id, struct systp_event *ev)
{
	if (id < OWN_BASE || id > OWN_RAW + 1)
		return -ENOENT;
	if (id >= OWN_RAW) {
		*ev = (struct systp_event){.exit = id == OWN_RAW + 1, .nr = SYSTP_ANY};
		return 0;
	}
	*ev = (struct systp_event){.exit = (id - OWN_BASE) & 1, .nr = (long)(id - OWN_BASE) / 2};
	return systp_name(ev->nr) ? 0 : -ENOENT;
}

/* The kernel's ids of the syscall events, read from tracefs once. */
struct kernel_id {
	uint32_t id;
	struct systp_event ev;
};

static struct kernel_id *kernel_ids;
static size_t nkernel_ids;

static int read_id(int dirfd, const char *event, uint32_t *id)
{
	char path[300], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/id", event);
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	*id = (uint32_t)strtoul(buf, NULL, 10);
	return 0;
}

static void scan_category(const char *events, const char *category)
{
	char path[256];
	struct systp_event ev;
	struct kernel_id *k;
	struct dirent *e;
	uint32_t id = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", events, category);
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (systp_event_parse(category, e->d_name, &ev) ||
		    read_id(dirfd(d), e->d_name, &id))
			continue;
		k = realloc(kernel_ids, (nkernel_ids + 1) * sizeof(*k));
		if (!k)
			break;
		kernel_ids = k;
		kernel_ids[nkernel_ids++] = (struct kernel_id){.id = id, .ev = ev};
	}
	closedir(d);
}

static void scan_tracefs(void)
{
	static const char *const roots[] = {"/sys/kernel/tracing/events",
					    "/sys/kernel/debug/tracing/events"};

	for (size_t i = 0; i < 2 && !nkernel_ids; i++) {
		scan_category(roots[i], "syscalls");
		scan_category(roots[i], "raw_syscalls");
	}
}

int systp_event_of_id(uint64_t id, struct systp_event *ev)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	if (!own_event(id, ev))
		return 0;
	pthread_once(&once, scan_tracefs);
	for (size_t i = 0; i < nkernel_ids; i++) {
		if (kernel_ids[i].id == id) {
			*ev = kernel_ids[i].ev;
			return 0;
		}
	}
	return -ENOENT;
}
