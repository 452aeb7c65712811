// SPDX-License-Identifier: MIT
/*
 * Emptying a ring buffer between slices, so that a test's runs never meet a
 * full ring. Nothing reads the records: the consumer position is moved up
 * to the producer's. The kernel's ring is mmapped as libbpf's consumer
 * does it (the consumer page writable at offset 0, the producer page
 * read-only after it); uebpf's is consumed through the maps library.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "maps/maps.h"
#include "suite.h"

struct suite_ring {
	struct map *map;	    /* uebpf */
	unsigned long *cons, *prod; /* the kernel's pages */
	size_t page;
};

int suite_ring_open(int fd, bool kernel, struct suite_ring **out, char *err, size_t err_len)
{
	struct suite_ring *r = calloc(1, sizeof(*r));
	int ret = 0;

	*out = NULL;
	if (!r) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	r->page = (size_t)sysconf(_SC_PAGESIZE);
	if (!kernel) {
		ret = map_open_fd(fd, &r->map, err, err_len);
	} else {
		r->cons = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		r->prod = mmap(NULL, r->page, PROT_READ, MAP_SHARED, fd, (off_t)r->page);
		if (r->cons == MAP_FAILED || r->prod == MAP_FAILED) {
			ret = -errno;
			errbuf_set(err, err_len, "cannot map the ring buffer: %s", strerror(errno));
		}
	}
	if (ret) {
		suite_ring_close(r);
		return ret;
	}
	*out = r;
	return 0;
}

static int skip_record(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

void suite_ring_drain(struct suite_ring *r)
{
	if (r->map) {
		map_ringbuf_consume(r->map, skip_record, NULL);
		return;
	}
	__atomic_store_n(r->cons, __atomic_load_n(r->prod, __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
}

void suite_ring_close(struct suite_ring *r)
{
	if (!r)
		return;
	if (r->map)
		map_close(r->map);
	if (r->cons && r->cons != MAP_FAILED)
		munmap(r->cons, r->page);
	if (r->prod && r->prod != MAP_FAILED)
		munmap(r->prod, r->page);
	free(r);
}
