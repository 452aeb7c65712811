// SPDX-License-Identifier: MIT
/*
 * BPF_OBJ_PIN and BPF_OBJ_GET, under a pin directory instead of bpffs: the
 * caller's path P is DIR/P, parent directories made as needed. DIR is
 * $UEBPF_PIN_DIR, else the state directory's "pins" (common/state_dir.h).
 *
 * A map is its file in the state directory, so its pin is a hard link of
 * that file into DIR: the map outlives every process, as a pinned kernel
 * map does, and any later process that gets the pin maps the same memory
 * (it is adopted from the file). A hard link cannot cross filesystems: a
 * DIR elsewhere is refused with -EXDEV and says why.
 *
 * A program or BTF object has no file that would bring it back (a program
 * is a VM built in the process that loaded it), so its pin is a symbolic
 * link to the pinning process's own fd of it (/proc/PID/fd/N): it can be
 * got while that process lives, and only by a process that can reach it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/state_dir.h"
#include "syscall/internal.h"

/* The pin directory into dir; 0 or a negative errno with the message set. */
static int pin_dir(char *dir, size_t len)
{
	const char *env = getenv("UEBPF_PIN_DIR");
	char err[256];
	size_t n;
	int ret;

	if (env && *env) {
		if (snprintf(dir, len, "%s", env) >= (int)len) {
			sys_error("UEBPF_PIN_DIR is too long");
			return -ENAMETOOLONG;
		}
		return 0;
	}
	ret = state_dir(dir, len, err, sizeof(err));
	if (ret) {
		sys_error("%s", err);
		return ret;
	}
	n = strlen(dir);
	if (n + sizeof("/pins") > len) {
		sys_error("state directory path is too long");
		return -ENAMETOOLONG;
	}
	memcpy(dir + n, "/pins", sizeof("/pins"));
	return 0;
}

static int pin_path(const char *user, char *path, size_t len)
{
	char cwd[PATH_MAX], dir[PATH_MAX];
	int n, ret;

	if (!user || !*user) {
		sys_error("pin path is empty");
		return -EINVAL;
	}
	ret = pin_dir(dir, sizeof(dir));
	if (ret)
		return ret;
	if (user[0] == '/') {
		n = snprintf(path, len, "%s%s", dir, user);
	} else {
		if (!getcwd(cwd, sizeof(cwd))) {
			sys_error("getcwd: %s", strerror(errno));
			return -errno;
		}
		n = snprintf(path, len, "%s%s/%s", dir, cwd, user);
	}
	if (n < 0 || (size_t)n >= len) {
		sys_error("pin path %s is too long", user);
		return -ENAMETOOLONG;
	}
	return 0;
}

/* mkdir -p of the directories above path. */
static int make_parents(char *path)
{
	for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			sys_error("mkdir %s: %s", path, strerror(errno));
			*s = '/';
			return -errno;
		}
		*s = '/';
	}
	return 0;
}

/* A hard link of the object's file (whose fd is fd) at path. */
static int pin_file(int fd, const char *path)
{
	char proc[64];
	int ret;

	/* through /proc, which needs no privilege, unlike AT_EMPTY_PATH */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (!linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW))
		return 0;
	ret = -errno;
	if (ret == -EXDEV)
		sys_error("pin %s: the pin directory is on another filesystem than the state "
			  "directory, where maps live; point UEBPF_PIN_DIR at a directory on that "
			  "filesystem (or unset it)",
			  path);
	else
		sys_error("pin %s: %s", path, strerror(-ret));
	return ret;
}

/* A symbolic link at path to this process's fd of the object. */
static int pin_fd_link(int fd, const char *path)
{
	char target[64];
	int ret;

	snprintf(target, sizeof(target), "/proc/%d/fd/%d", (int)getpid(), fd);
	if (!symlink(target, path))
		return 0;
	ret = -errno;
	sys_error("pin %s: %s", path, strerror(-ret));
	return ret;
}

int sys_obj_pin(union bpf_attr *attr)
{
	char path[PATH_MAX];
	struct sys_obj *obj;
	int ret;

	ret = sys_check_attr(attr, SYS_ATTR_END(file_flags), "BPF_OBJ_PIN");
	if (ret)
		return ret;
	if (attr->file_flags) {
		sys_error("BPF_OBJ_PIN: file_flags must be 0");
		return -EINVAL;
	}
	ret = pin_path(sys_ptr(attr->pathname), path, sizeof(path));
	if (ret)
		return ret;
	ret = sys_obj_get((int)attr->bpf_fd, 0, &obj);
	if (ret)
		return ret;
	ret = make_parents(path);
	if (!ret)
		ret = obj->kind == SYS_MAP ? pin_file(obj->fd, path) : pin_fd_link(obj->fd, path);
	if (!ret)
		sys_obj_set_pinned(obj);
	sys_obj_put(obj);
	return ret;
}

int sys_obj_get_pinned(union bpf_attr *attr)
{
	char path[PATH_MAX];
	struct sys_obj *obj;
	int ret, fd;

	ret = sys_check_attr(attr, SYS_ATTR_END(file_flags), "BPF_OBJ_GET");
	if (ret)
		return ret;
	if (attr->bpf_fd || attr->file_flags & ~(uint32_t)(BPF_F_RDONLY | BPF_F_WRONLY)) {
		sys_error("BPF_OBJ_GET: bpf_fd must be 0 and file_flags RDONLY or WRONLY");
		return -EINVAL;
	}
	ret = pin_path(sys_ptr(attr->pathname), path, sizeof(path));
	if (ret)
		return ret;
	/* read-write whatever file_flags say: a map's memory is mapped writable to use it */
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		sys_error("pinned object %s: %s", path, strerror(errno));
		return ret;
	}
	ret = sys_obj_get(fd, 0, &obj);
	if (ret) {
		close(fd);
		return ret;
	}
	sys_obj_put(obj);
	return fd;
}
