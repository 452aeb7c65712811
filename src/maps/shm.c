// SPDX-License-Identifier: MIT
/*
 * The shared object behind a map: a memfd, sized once and mapped
 * MAP_SHARED. Memory is zero when first touched, which is what arrays and
 * fresh elements need.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "maps/internal.h"

int map_shm_create(const char *name, uint64_t size, int *fd, void **base, char *err, size_t err_len)
{
	char memfd_name[32];
	void *p;
	int ret;

	/* memfd pages are only allocated when touched: refuse what could never fit */
	if (size > (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE)) {
		errbuf_set(err, err_len, "map needs %llu bytes, more than this machine's memory",
			   (unsigned long long)size);
		return -ENOMEM;
	}
	snprintf(memfd_name, sizeof(memfd_name), "uebpf-map:%s", name);
	*fd = memfd_create(memfd_name, MFD_CLOEXEC);
	if (*fd < 0) {
		ret = -errno;
		errbuf_set(err, err_len, "memfd_create: %s", strerror(errno));
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
