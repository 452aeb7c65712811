// SPDX-License-Identifier: MIT
/*
 * bpf_ringbuf_output/reserve/submit/discard/query over src/maps. A sample
 * handed out by reserve lies in the ring's memory, which is a region of the
 * VM, so the program writes it directly. submit and discard get only the
 * sample: the ring is the bound ring buffer whose memory holds it.
 */
#include <linux/bpf.h>

#include "helpers/internal.h"
#include "maps/maps.h"

static struct map *ringbuf_of(uint64_t handle)
{
	const struct vm_map *vm_map = helper_map(handle);

	if (!vm_map || map_info(vm_map->map)->type != BPF_MAP_TYPE_RINGBUF)
		return NULL;
	return vm_map->map;
}

HELPER(ringbuf_output)
{
	struct map *m = ringbuf_of(r1);

	(void)r5;
	if (!m)
		return helper_err(EINVAL);
	if (!helper_mem_ok(r2, r3, false))
		return helper_err(EFAULT);
	return (uint64_t)(int64_t)map_ringbuf_output(m, (const void *)(uintptr_t)r2, r3, r4);
}

HELPER(ringbuf_reserve)
{
	struct map *m = ringbuf_of(r1);

	(void)r4, (void)r5;
	return m ? (uintptr_t)map_ringbuf_reserve(m, r2, r3) : 0;
}

/* The bound ring buffer whose memory holds sample, or NULL. */
static struct map *ring_holding(uint64_t sample)
{
	const struct vm_run *run = vm_current_run;

	if (!run)
		return NULL;
	for (size_t i = 0; i < run->vm->nmaps; i++) {
		struct map *m = run->vm->maps[i].map;
		void *base;
		size_t len;

		if (map_info(m)->type != BPF_MAP_TYPE_RINGBUF)
			continue;
		map_prog_range(m, &base, &len);
		if (sample - (uintptr_t)base < len)
			return m;
	}
	return NULL;
}

/* The kernel's submit and discard return nothing; a bad sample is ignored here. */
HELPER(ringbuf_submit)
{
	struct map *m = ring_holding(r1);

	(void)r3, (void)r4, (void)r5;
	if (m)
		map_ringbuf_submit(m, (void *)(uintptr_t)r1, r2);
	return 0;
}

HELPER(ringbuf_discard)
{
	struct map *m = ring_holding(r1);

	(void)r3, (void)r4, (void)r5;
	if (m)
		map_ringbuf_discard(m, (void *)(uintptr_t)r1, r2);
	return 0;
}

HELPER(ringbuf_query)
{
	struct map *m = ringbuf_of(r1);

	(void)r3, (void)r4, (void)r5;
	return m ? map_ringbuf_query(m, r2) : 0;
}
