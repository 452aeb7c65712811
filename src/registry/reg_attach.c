// SPDX-License-Identifier: MIT
/*
 * Attachment files and their liveness. The loader's fd for an attachment
 * (the perf event's or the link's) is an fd of the attachment's own file
 * holding an OFD read lock on its first byte. OFD locks belong to the open
 * file description, which dup, fork and SCM_RIGHTS share, and the kernel
 * drops them when the last fd of that description closes, or its process
 * dies. So "some process still holds the attachment" is exactly "a read
 * lock is held on the file", which F_OFD_GETLK answers without taking one.
 * Named files that no one holds are stale and removed by whoever walks the
 * registry.
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

#define ATTACH_MAGIC "uebpfAT2" /* 2: with ref_ctr_off and cookie */
#define ATTACH_PREFIX "attach-"
#define HIDDEN_PREFIX ".off-" /* a detached attachment, kept to be enabled again */

struct attach_file {
	char magic[8];
	struct reg_attach a;
};

static struct flock lock_byte(short type)
{
	return (struct flock){.l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
}

int reg_attach_new(struct reg *r, int *fd, char *err, size_t err_len)
{
	struct flock l = lock_byte(F_RDLCK);
	int ret = reg_tmpfile(r, fd, err, err_len);

	if (ret)
		return ret;
	if (fcntl(*fd, F_OFD_SETLK, &l) < 0) {
		ret = -errno;
		errbuf_set(err, err_len, "registry %s: cannot lock an attachment: %s", r->path,
			   strerror(errno));
		close(*fd);
	}
	return ret;
}

int reg_attach_publish(struct reg *r, int fd, const struct reg_attach *a, char name[REG_NAME_MAX],
		       char *err, size_t err_len)
{
	static unsigned next;
	struct attach_file f = {.a = *a};
	ssize_t n;
	int ret;

	memcpy(f.magic, ATTACH_MAGIC, sizeof(f.magic));
	f.a.prog[sizeof(f.a.prog) - 1] = '\0';
	f.a.path[sizeof(f.a.path) - 1] = '\0';
	n = pwrite(fd, &f, sizeof(f), 0);
	if (n != (ssize_t)sizeof(f)) {
		ret = n < 0 ? -errno : -EIO;
		errbuf_set(err, err_len, "registry %s: writing an attachment: %s", r->path,
			   strerror(-ret));
		return ret;
	}
	/* a name left by an earlier process of the same pid is skipped */
	do {
		snprintf(name, REG_NAME_MAX, ATTACH_PREFIX "%d-%u", (int)getpid(),
			 __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED));
		ret = reg_link_fd(r, fd, name, err, err_len);
	} while (ret == -EEXIST);
	return ret;
}

/*
 * A file whose last name is gone can never be named again, so a detach
 * renames the attachment to a hidden name instead, and a new enable renames
 * it back: both atomic for readers.
 */
static void hidden_name(char *out, size_t len, const char *name)
{
	snprintf(out, len, HIDDEN_PREFIX "%s", name);
}

static int rename_in(struct reg *r, const char *from, const char *to, char *err, size_t err_len)
{
	int ret;

	if (!renameat(r->dirfd, from, r->dirfd, to))
		return 0;
	ret = -errno;
	errbuf_set(err, err_len, "registry %s: cannot rename %s to %s: %s", r->path, from, to,
		   strerror(errno));
	return ret;
}

int reg_attach_republish(struct reg *r, const char *name, char *err, size_t err_len)
{
	char hidden[REG_NAME_MAX + sizeof(HIDDEN_PREFIX)];

	hidden_name(hidden, sizeof(hidden), name);
	return rename_in(r, hidden, name, err, err_len);
}

int reg_attach_unpublish(struct reg *r, const char *name, char *err, size_t err_len)
{
	char hidden[REG_NAME_MAX + sizeof(HIDDEN_PREFIX)];

	hidden_name(hidden, sizeof(hidden), name);
	return rename_in(r, name, hidden, err, err_len);
}

static bool held(int fd)
{
	struct flock l = lock_byte(F_WRLCK);

	/* an error says nothing: count it as held rather than drop a live attachment */
	if (fcntl(fd, F_OFD_GETLK, &l) < 0)
		return true;
	return l.l_type != F_UNLCK;
}

bool reg_attach_live(struct reg *r, const char *name)
{
	int fd = openat(r->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	bool live;

	if (fd < 0)
		return false;
	live = held(fd);
	close(fd);
	return live;
}

static bool record_ok(const struct attach_file *f)
{
	return !memcmp(f->magic, ATTACH_MAGIC, sizeof(f->magic)) && f->a.kind <= REG_SYSCALL_EXIT &&
	       !f->a.prog[sizeof(f->a.prog) - 1] && !f->a.path[sizeof(f->a.path) - 1] &&
	       reg_name_ok(f->a.prog) && f->a.path[0];
}

int reg_for_each_attach(struct reg *r, reg_attach_fn fn, void *ctx, char *err, size_t err_len)
{
	int ret = 0;
	struct attach_file f;
	struct dirent *e;
	DIR *d;

	d = reg_opendir(r, &ret, err, err_len);
	if (!d)
		return ret;
	while (!ret && (e = readdir(d))) {
		int fd;

		bool hidden = !strncmp(e->d_name, HIDDEN_PREFIX, strlen(HIDDEN_PREFIX));

		if (!hidden && strncmp(e->d_name, ATTACH_PREFIX, strlen(ATTACH_PREFIX)))
			continue;
		fd = openat(r->dirfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue; /* renamed meanwhile: detached */
		if (!held(fd) || hidden) {
			if (!held(fd))
				unlinkat(r->dirfd, e->d_name, 0);
			close(fd);
			continue;
		}
		if (pread(fd, &f, sizeof(f), 0) == (ssize_t)sizeof(f) && record_ok(&f))
			ret = fn(ctx, e->d_name, &f.a);
		close(fd);
	}
	closedir(d);
	return ret;
}
