// SPDX-License-Identifier: MIT
/*
 * libbpf refuses to pin (LIBBPF_PIN_BY_NAME, bpf_map__pin) unless statfs
 * says the pin's directory is a bpffs, though uebpf keeps the pins
 * elsewhere (pin.c). Like interpose.c's syscall(), the statfs here comes
 * before libc's in symbol lookup: a directory at or under /sys/fs/bpf, the
 * bpffs mount point libbpf and bpftool use, is reported as a bpffs when it
 * exists and is not one already; everything else is libc's answer.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/vfs.h>

#define BPFFS_ROOT "/sys/fs/bpf"

static bool under_bpffs_root(const char *path)
{
	size_t n = strlen(BPFFS_ROOT);

	return path && !strncmp(path, BPFFS_ROOT, n) && (path[n] == '\0' || path[n] == '/');
}

typedef int (*statfs_fn)(const char *path, struct statfs *buf);

static int statfs_as_pins(const char *sym, const char *path, struct statfs *buf)
{
	statfs_fn next = (statfs_fn)dlsym(RTLD_NEXT, sym);
	int ret;

	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	ret = next(path, buf);
	if (!ret && under_bpffs_root(path))
		buf->f_type = BPF_FS_MAGIC;
	return ret;
}

int statfs(const char *path, struct statfs *buf)
{
	return statfs_as_pins("statfs", path, buf);
}

_Static_assert(sizeof(struct statfs) == sizeof(struct statfs64), "one layout on 64-bit systems");

/* the same structure on 64-bit systems, where libbpf calls this name */
int statfs64(const char *path, struct statfs64 *buf)
{
	return statfs_as_pins("statfs64", path, (struct statfs *)buf);
}
