// SPDX-License-Identifier: MIT
/*
 * PROG_ARRAY slots, for tail calls in target processes. A PROG_ARRAY's
 * memory holds program IDs of the process that filled it, which mean
 * nothing elsewhere; a record "tail-MAP-INDEX" says which program file the
 * slot of the map file MAP names, together with the ID the slot held when
 * it was written. A target trusts a record only while the slot still holds
 * that ID, so an update it has not read yet makes the tail call fail (as an
 * empty slot does), never call the wrong program.
 *
 * A record is replaced whole: written unnamed, linked under a private name,
 * then renamed over the record's name (atomic for readers); a delete
 * removes the name.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "registry/internal.h"

#define TAIL_MAGIC "uebpfTC1"
#define TAIL_PREFIX "tail-"

struct tail_file {
	char magic[8];
	struct reg_tail t;
};

static int tail_name(char *out, size_t len, const char *map, uint32_t index)
{
	int n = snprintf(out, len, TAIL_PREFIX "%s-%u", map, index);

	return n > 0 && (size_t)n < len && reg_name_ok(map) ? 0 : -EINVAL;
}

int reg_set_tail(struct reg *r, const struct reg_tail *t, char *err, size_t err_len)
{
	static unsigned next;
	struct tail_file f = {.t = *t};
	char name[REG_NAME_MAX + 16], tmp[REG_NAME_MAX];
	int fd, ret;

	f.t.map[sizeof(f.t.map) - 1] = '\0';
	f.t.prog[sizeof(f.t.prog) - 1] = '\0';
	if (tail_name(name, sizeof(name), f.t.map, t->index) || !reg_name_ok(f.t.prog)) {
		errbuf_set(err, err_len, "registry %s: bad tail call slot %s[%u] -> %s", r->path,
			   f.t.map, t->index, f.t.prog);
		return -EINVAL;
	}
	memcpy(f.magic, TAIL_MAGIC, sizeof(f.magic));
	ret = reg_tmpfile(r, &fd, err, err_len);
	if (ret)
		return ret;
	if (pwrite(fd, &f, sizeof(f), 0) != (ssize_t)sizeof(f)) {
		ret = -EIO;
		errbuf_set(err, err_len, "registry %s: writing %s failed", r->path, name);
		close(fd);
		return ret;
	}
	do {
		snprintf(tmp, sizeof(tmp), ".new-tail-%d-%u", (int)getpid(),
			 __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED));
		ret = reg_link_fd(r, fd, tmp, err, err_len);
	} while (ret == -EEXIST);
	close(fd);
	if (ret)
		return ret;
	if (renameat(r->dirfd, tmp, r->dirfd, name)) {
		ret = -errno;
		errbuf_set(err, err_len, "registry %s: cannot name %s: %s", r->path, name,
			   strerror(errno));
		unlinkat(r->dirfd, tmp, 0);
	}
	return ret;
}

int reg_clear_tail(struct reg *r, const char *map, uint32_t index, char *err, size_t err_len)
{
	char name[REG_NAME_MAX + 16];
	int ret;

	if (tail_name(name, sizeof(name), map, index)) {
		errbuf_set(err, err_len, "registry %s: bad map name '%s'", r->path, map);
		return -EINVAL;
	}
	if (!unlinkat(r->dirfd, name, 0) || errno == ENOENT)
		return 0;
	ret = -errno;
	errbuf_set(err, err_len, "registry %s: cannot remove %s: %s", r->path, name,
		   strerror(errno));
	return ret;
}

static bool record_ok(const struct tail_file *f)
{
	return !memcmp(f->magic, TAIL_MAGIC, sizeof(f->magic)) && !f->t.map[REG_NAME_MAX - 1] &&
	       !f->t.prog[REG_NAME_MAX - 1] && reg_name_ok(f->t.map) && reg_name_ok(f->t.prog);
}

int reg_for_each_tail(struct reg *r, reg_tail_fn fn, void *ctx, char *err, size_t err_len)
{
	int ret = 0;
	struct tail_file f;
	struct dirent *e;
	DIR *d;

	d = reg_opendir(r, &ret, err, err_len);
	if (!d)
		return ret;
	while (!ret && (e = readdir(d))) {
		int fd;

		if (strncmp(e->d_name, TAIL_PREFIX, strlen(TAIL_PREFIX)))
			continue;
		fd = openat(r->dirfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue; /* replaced or cleared meanwhile */
		if (pread(fd, &f, sizeof(f), 0) == (ssize_t)sizeof(f) && record_ok(&f))
			ret = fn(ctx, &f.t);
		close(fd);
	}
	closedir(d);
	return ret;
}
