// SPDX-License-Identifier: MIT
/*
 * The shared object behind a map: an unnamed file in uebpf's state
 * directory (O_TMPFILE on its tmpfs), sized once and mapped MAP_SHARED. It
 * is as anonymous as a memfd until someone gives it a name: a pin or a
 * registry links it into the directory, which a memfd, on a mount of its
 * own, could never be. Memory is zero when first touched, which is what
 * arrays and fresh elements need.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "common/state_dir.h"
#include "maps/internal.h"

int map_shm_create(const char *name, uint64_t size, int *fd, void **base, char *err, size_t err_len)
{
	char dir[256];
	void *p;
	int ret;

	/* tmpfs pages are only allocated when touched: refuse what could never fit */
	if (size > (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE)) {
		errbuf_set(err, err_len, "map needs %llu bytes, more than this machine's memory",
			   (unsigned long long)size);
		return -ENOMEM;
	}
	ret = state_dir(dir, sizeof(dir), err, err_len);
	if (ret)
		return ret;
	*fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (*fd < 0) {
		ret = -errno;
		errbuf_set(err, err_len, "map %s: cannot make a file in %s: %s", name, dir,
			   strerror(errno));
		return ret;
	}
	if (ftruncate(*fd, (off_t)size) < 0)
		goto fail;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	*base = p;
	return 0;
fail:
	ret = errno == EFBIG || errno == EINVAL ? -ENOMEM : -errno;
	errbuf_set(err, err_len, "cannot size or map %llu bytes of shared memory: %s",
		   (unsigned long long)size, strerror(errno));
	close(*fd);
	return ret;
}

int map_shm_attach(int fd, size_t *size, void **base, char *err, size_t err_len)
{
	struct stat st;
	void *p;

	if (fstat(fd, &st) < 0) {
		errbuf_set(err, err_len, "fd %d: %s", fd, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < (off_t)MAP_HDR_SIZE) {
		errbuf_set(err, err_len, "fd %d is not a map: too small for a header", fd);
		return -EINVAL;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		errbuf_set(err, err_len, "fd %d: mmap: %s", fd, strerror(errno));
		return -errno;
	}
	*size = (size_t)st.st_size;
	*base = p;
	return 0;
}

void map_shm_release(void *base, size_t size)
{
	munmap(base, size);
}
