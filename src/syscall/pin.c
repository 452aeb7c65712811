// SPDX-License-Identifier: MIT
/*
 * BPF_OBJ_PIN and BPF_OBJ_GET, under UEBPF_PIN_DIR (default
 * /run/uebpf/pins) instead of bpffs: the caller's path P is
 * UEBPF_PIN_DIR/P, parent directories made as needed.
 *
 * A pin is a symbolic link to the pinning process's own fd of the object
 * (/proc/PID/fd/N), so opening it opens the object's file: any process may
 * get a pinned map (it is adopted from its memfd), while the pinning
 * process lives. A program or BTF object can be got back in the process
 * that pinned it.
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

#include "syscall/internal.h"

#define DEFAULT_PIN_DIR "/run/uebpf/pins"

static int pin_path(const char *user, char *path, size_t len)
{
	const char *dir = getenv("UEBPF_PIN_DIR");
	char cwd[PATH_MAX];
	int n;

	if (!user || !*user) {
		sys_error("pin path is empty");
		return -EINVAL;
	}
	if (!dir || !*dir)
		dir = DEFAULT_PIN_DIR;
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

int sys_obj_pin(union bpf_attr *attr)
{
	char path[PATH_MAX], target[64];
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
	snprintf(target, sizeof(target), "/proc/%d/fd/%d", (int)getpid(), obj->fd);
	ret = make_parents(path);
	if (!ret && symlink(target, path) < 0) {
		ret = -errno;
		sys_error("pin %s: %s", path, strerror(errno));
	}
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
