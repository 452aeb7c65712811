// SPDX-License-Identifier: MIT
/*
 * USDT semaphores. A USDT probe site whose provider declared a semaphore
 * (sys/sdt.h's _SEMAPHORE, in the .probes section) runs its argument setup
 * only while that 16-bit counter is non-zero; the kernel adds one for each
 * uprobe attached with a ref_ctr_offset and takes it off at detach. Here
 * the attachment's owner does the same in the target: the counter is found
 * by its file offset in the binary's writable mapping and changed with an
 * atomic add, since the target's own code may read it at any time (and a
 * process may have several probes on it).
 */
#include <errno.h>
#include <stdint.h>

#include "common/errbuf.h"
#include "probe.h"

int probe_semaphore_get(const char *path, uint64_t off, uint16_t **sema, char *err, size_t err_len)
{
	void *addr;
	int ret = probe_resolve_data_off(path, off, &addr, err, err_len);

	if (ret)
		return ret;
	if ((uintptr_t)addr % sizeof(uint16_t)) {
		errbuf_set(err, err_len, "%s: semaphore at file offset 0x%llx is not aligned", path,
			   (unsigned long long)off);
		return -EINVAL;
	}
	*sema = addr;
	__atomic_add_fetch(*sema, 1, __ATOMIC_SEQ_CST);
	return 0;
}

void probe_semaphore_put(uint16_t *sema)
{
	if (sema)
		__atomic_sub_fetch(sema, 1, __ATOMIC_SEQ_CST);
}
