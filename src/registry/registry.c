// SPDX-License-Identifier: MIT
/*
 * The registry directory: where it is, opening it with the owner-only
 * check, naming maps in it, and its trace file. A map's file already lives
 * on the state directory's tmpfs (maps/shm.c), so naming it is a hard link
 * through /proc/self/fd, which works for an unnamed O_TMPFILE file too.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "common/state_dir.h"
#include "registry/internal.h"

static bool name_ok(const char *name)
{
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (const char *c = name; *c; c++)
		if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') &&
		    !(*c >= '0' && *c <= '9') && *c != '_' && *c != '-' && *c != '.')
			return false;
	return true;
}

int reg_path(const char *name, char *path, size_t len, char *err, size_t err_len)
{
	char state[256];
	int n, ret;

	if (!name || !*name)
		name = REG_DEFAULT;
	if (strchr(name, '/')) {
		n = snprintf(path, len, "%s", name);
	} else {
		if (!name_ok(name)) {
			errbuf_set(err, err_len,
				   "registry name '%s': use letters, digits, '_', '-' and '.'",
				   name);
			return -EINVAL;
		}
		ret = state_dir(state, sizeof(state), err, err_len);
		if (ret)
			return ret;
		n = snprintf(path, len, "%s/registry", state);
		if (n > 0 && (size_t)n < len && mkdir(path, 0700) < 0 && errno != EEXIST) {
			ret = -errno;
			errbuf_set(err, err_len, "cannot make %s: %s", path, strerror(errno));
			return ret;
		}
		n = snprintf(path, len, "%s/registry/%s", state, name);
	}
	if (n < 0 || (size_t)n >= len) {
		errbuf_set(err, err_len, "registry path is too long");
		return -ENAMETOOLONG;
	}
	return 0;
}

int reg_open(const char *path, bool create, struct reg **out, char *err, size_t err_len)
{
	struct stat st;
	struct reg *r;
	int fd, ret;

	if (create && mkdir(path, 0700) < 0 && errno != EEXIST) {
		ret = -errno;
		errbuf_set(err, err_len, "cannot make registry %s: %s", path, strerror(errno));
		return ret;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		errbuf_set(err, err_len, "registry %s: %s", path, strerror(errno));
		return ret;
	}
	/* what is in it must be its owner's alone, as the state directory is */
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 077)) {
		errbuf_set(err, err_len,
			   "registry %s must be a directory of user %u with mode 0700", path,
			   (unsigned)geteuid());
		close(fd);
		return -EPERM;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		close(fd);
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->dirfd = fd;
	*out = r;
	return 0;
}

void reg_close(struct reg *r)
{
	if (!r)
		return;
	close(r->dirfd);
	free(r);
}

const char *reg_dir(const struct reg *r)
{
	return r->path;
}

int reg_dirfd(const struct reg *r)
{
	return r->dirfd;
}

DIR *reg_opendir(struct reg *r, int *ret, char *err, size_t err_len)
{
	int fd = openat(r->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);

	if (d)
		return d;
	*ret = -errno;
	if (fd >= 0)
		close(fd);
	errbuf_set(err, err_len, "registry %s: %s", r->path, strerror(-*ret));
	return NULL;
}

int reg_remove(struct reg *r, char *err, size_t err_len)
{
	struct dirent *e;
	int ret = 0;
	DIR *d;

	d = reg_opendir(r, &ret, err, err_len);
	if (!d)
		return ret;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    unlinkat(r->dirfd, e->d_name, 0) < 0 && !ret)
			ret = -errno;
	closedir(d);
	if (!ret && rmdir(r->path) < 0)
		ret = -errno;
	if (ret)
		errbuf_set(err, err_len, "cannot remove registry %s: %s", r->path, strerror(-ret));
	return ret;
}

int reg_link_fd(struct reg *r, int fd, const char *name, char *err, size_t err_len)
{
	char proc[64];
	int ret;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (!linkat(AT_FDCWD, proc, r->dirfd, name, AT_SYMLINK_FOLLOW))
		return 0;
	ret = -errno;
	if (ret == -EXDEV)
		errbuf_set(err, err_len,
			   "registry %s is not on the file system of uebpf's state directory",
			   r->path);
	else
		errbuf_set(err, err_len, "cannot name %s in registry %s: %s", name, r->path,
			   strerror(-ret));
	return ret;
}

int reg_add_map(struct reg *r, int fd, char name[REG_NAME_MAX], char *err, size_t err_len)
{
	struct stat st, there;
	int ret;

	if (fstat(fd, &st) < 0) {
		ret = -errno;
		errbuf_set(err, err_len, "map fd %d: %s", fd, strerror(errno));
		return ret;
	}
	snprintf(name, REG_NAME_MAX, "map-%llu", (unsigned long long)st.st_ino);
	ret = reg_link_fd(r, fd, name, err, err_len);
	if (ret != -EEXIST)
		return ret;
	/* named before (another program uses it): only if it is the same file */
	if (!fstatat(r->dirfd, name, &there, AT_SYMLINK_NOFOLLOW) && there.st_ino == st.st_ino &&
	    there.st_dev == st.st_dev)
		return 0;
	errbuf_set(err, err_len, "registry %s: %s is another file", r->path, name);
	return -EEXIST;
}

int reg_open_map(struct reg *r, const char *name, int *fd, char *err, size_t err_len)
{
	int ret;

	if (!name_ok(name)) {
		errbuf_set(err, err_len, "registry %s: bad map name '%s'", r->path, name);
		return -EINVAL;
	}
	*fd = openat(r->dirfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (*fd >= 0)
		return 0;
	ret = -errno;
	errbuf_set(err, err_len, "registry %s: map %s: %s", r->path, name, strerror(errno));
	return ret;
}

int reg_trace_path(struct reg *r, char *path, size_t len, char *err, size_t err_len)
{
	int n = snprintf(path, len, "%s/trace", r->path), fd, ret;

	if (n < 0 || (size_t)n >= len) {
		errbuf_set(err, err_len, "registry path is too long");
		return -ENAMETOOLONG;
	}
	fd = openat(r->dirfd, "trace", O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	if (fd < 0) {
		ret = -errno;
		errbuf_set(err, err_len, "%s: %s", path, strerror(errno));
		return ret;
	}
	close(fd);
	return 0;
}

int reg_tmpfile(struct reg *r, int *fd, char *err, size_t err_len)
{
	int ret;

	*fd = openat(r->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (*fd >= 0)
		return 0;
	ret = -errno;
	errbuf_set(err, err_len, "registry %s: cannot make a file: %s", r->path, strerror(errno));
	return ret;
}

bool reg_name_ok(const char *name)
{
	return name_ok(name);
}
