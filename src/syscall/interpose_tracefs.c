// SPDX-License-Identifier: MIT
/*
 * libbpf finds a tracepoint's id in tracefs (TRACEFS/events/CATEGORY/NAME/id,
 * with fopen), which only root may read, and may not be mounted at all. The
 * fopen here comes before libc's in symbol lookup, as interpose.c's
 * syscall() does: when libc's fopen of the id file of a syscall event fails,
 * the file is served from memory with uebpf's own id of the event
 * (systp/systp.h), which perf_event_open then takes. Every other file, and
 * every id file that can be read, is libc's.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "systp/systp.h"

static const char *const tracefs_roots[] = {"/sys/kernel/tracing/events/",
					    "/sys/kernel/debug/tracing/events/"};

/* "CATEGORY/NAME/id" under a tracefs root, naming a syscall event: its event. */
static int id_file_event(const char *path, struct systp_event *ev)
{
	char category[32], name[SYSTP_NAME_MAX], rest[4];
	const char *p = NULL;

	for (size_t i = 0; i < sizeof(tracefs_roots) / sizeof(tracefs_roots[0]) && !p; i++)
		if (!strncmp(path, tracefs_roots[i], strlen(tracefs_roots[i])))
			p = path + strlen(tracefs_roots[i]);
	if (!p || sscanf(p, "%31[a-z_]/%63[a-z0-9_]/%3s", category, name, rest) != 3 ||
	    strcmp(rest, "id"))
		return -ENOENT;
	return systp_event_parse(category, name, ev);
}

typedef FILE *(*fopen_fn)(const char *path, const char *mode);

static FILE *fopen_or_own_id(const char *sym, const char *path, const char *mode)
{
	fopen_fn next = (fopen_fn)dlsym(RTLD_NEXT, sym);
	struct systp_event ev;
	int saved;
	FILE *f;

	if (!next) {
		errno = ENOSYS;
		return NULL;
	}
	f = next(path, mode);
	if (f || !path || (errno != EACCES && errno != EPERM && errno != ENOENT) ||
	    mode[0] != 'r' || id_file_event(path, &ev))
		return f;
	saved = errno;
	f = fmemopen(NULL, 16, "w+");
	if (!f) {
		errno = saved;
		return NULL;
	}
	fprintf(f, "%u\n", systp_own_id(&ev));
	rewind(f);
	return f;
}

FILE *fopen(const char *path, const char *mode)
{
	return fopen_or_own_id("fopen", path, mode);
}

FILE *fopen64(const char *path, const char *mode)
{
	return fopen_or_own_id("fopen64", path, mode);
}
