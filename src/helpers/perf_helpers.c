// SPDX-License-Identifier: MIT
/*
 * bpf_perf_event_output: a record into the ring of the perf event at an
 * index of a PERF_EVENT_ARRAY (src/maps/perf_array.c). The context
 * argument names no data here: the tracing form, whose flags are only the
 * index or BPF_F_CURRENT_CPU (BPF_F_CTXLEN_MASK, the packet-appending
 * bits of the skb and XDP forms, gives -EINVAL).
 */
#include <linux/bpf.h>

#include "helpers/internal.h"
#include "maps/maps.h"

HELPER(perf_event_output)
{
	const struct vm_map *vm_map = helper_map(r2);

	(void)r1;
	if (!vm_map || map_info(vm_map->map)->type != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
		return helper_err(EINVAL);
	if (!helper_mem_ok(r4, r5, false))
		return helper_err(EFAULT);
	return (uint64_t)(int64_t)map_perf_event_output(vm_map->map, r3,
							(const void *)(uintptr_t)r4, r5);
}
