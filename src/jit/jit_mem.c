// SPDX-License-Identifier: MIT
/*
 * Executable memory under W^X: a mapping is reserved read-write, the code is
 * copied into it, then it becomes read-execute. No page is ever writable and
 * executable at once, and a mapping is never made writable again: a
 * program's code lives until its VM is destroyed.
 *
 * Reservations try to land within reach of a rel32 call from the code to
 * the C functions it calls (helpers, the slow paths), so that those calls
 * are direct: a few candidate addresses below the given one, where nothing
 * else lives in a typical layout (the heap grows above the executable).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "jit_internal.h"

/* Candidates: 16 MiB steps down to 1 GiB below near, well within rel32 reach. */
#define JIT_NEAR_STEP (16ull << 20)
#define JIT_NEAR_TRIES 64

void *jit_mem_reserve(size_t len, const void *near, size_t *map_len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t n = (len + page - 1) / page * page;
	uintptr_t at = (uintptr_t)near & ~(uintptr_t)(page - 1);
	void *p;

	*map_len = n;
	for (unsigned i = 1; near && i <= JIT_NEAR_TRIES; i++) {
		uintptr_t want = at - i * JIT_NEAR_STEP - n;

		if (want > at)
			break;
		p = mmap((void *)want, n, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == (void *)want)
			return p;
		/* kernels before 4.17 take the flag as a hint and may map elsewhere */
		if (p != MAP_FAILED)
			munmap(p, n);
	}
	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

int jit_mem_seal(void *p, const void *code, size_t len, size_t map_len)
{
	memcpy(p, code, len);
	return mprotect(p, map_len, PROT_READ | PROT_EXEC) ? -errno : 0;
}

void jit_mem_unmap(void *code, size_t map_len)
{
	munmap(code, map_len);
}
