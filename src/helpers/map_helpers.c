// SPDX-License-Identifier: MIT
/*
 * bpf_map_lookup/update/delete_elem and bpf_map_push/pop/peek_elem over
 * src/maps. Keys and values are checked against the run's memory for the
 * map's sizes before the map sees them; a map the program may only read
 * (BPF_F_RDONLY_PROG) refuses changes with -EPERM, where the kernel's
 * verifier would have refused the program.
 */
#include <linux/bpf.h>

#include "helpers/internal.h"
#include "maps/maps.h"

HELPER(map_lookup_elem)
{
	const struct vm_map *vm_map = helper_map(r1);
	const struct map_info *info;

	(void)r3, (void)r4, (void)r5;
	if (!vm_map)
		return 0;
	info = map_info(vm_map->map);
	if (info->type == BPF_MAP_TYPE_RINGBUF || !helper_mem_ok(r2, info->key_size, false))
		return 0;
	return (uintptr_t)map_lookup(vm_map->map, (const void *)(uintptr_t)r2);
}

HELPER(map_update_elem)
{
	const struct vm_map *vm_map = helper_map(r1);
	const struct map_info *info;

	(void)r5;
	if (!vm_map)
		return helper_err(EINVAL);
	if (vm_map->rdonly_prog)
		return helper_err(EPERM);
	info = map_info(vm_map->map);
	if (!helper_mem_ok(r2, info->key_size, false) ||
	    !helper_mem_ok(r3, info->value_size, false))
		return helper_err(EFAULT);
	return (uint64_t)(int64_t)map_update(vm_map->map, (const void *)(uintptr_t)r2,
					     (const void *)(uintptr_t)r3, r4);
}

HELPER(map_delete_elem)
{
	const struct vm_map *vm_map = helper_map(r1);

	(void)r3, (void)r4, (void)r5;
	if (!vm_map)
		return helper_err(EINVAL);
	if (vm_map->rdonly_prog)
		return helper_err(EPERM);
	if (!helper_mem_ok(r2, map_info(vm_map->map)->key_size, false))
		return helper_err(EFAULT);
	return (uint64_t)(int64_t)map_delete(vm_map->map, (const void *)(uintptr_t)r2);
}

HELPER(map_push_elem)
{
	const struct vm_map *vm_map = helper_map(r1);

	(void)r4, (void)r5;
	if (!vm_map)
		return helper_err(EINVAL);
	if (vm_map->rdonly_prog)
		return helper_err(EPERM);
	if (!helper_mem_ok(r2, map_info(vm_map->map)->value_size, false))
		return helper_err(EFAULT);
	return (uint64_t)(int64_t)map_push(vm_map->map, (const void *)(uintptr_t)r2, r3);
}

/* pop (del) or peek into the program's value buffer */
static uint64_t pop_or_peek(uint64_t handle, uint64_t value, bool del)
{
	const struct vm_map *vm_map = helper_map(handle);

	if (!vm_map)
		return helper_err(EINVAL);
	if (del && vm_map->rdonly_prog)
		return helper_err(EPERM);
	if (!helper_mem_ok(value, map_info(vm_map->map)->value_size, true))
		return helper_err(EFAULT);
	if (del)
		return (uint64_t)(int64_t)map_pop(vm_map->map, (void *)(uintptr_t)value);
	return (uint64_t)(int64_t)map_peek(vm_map->map, (void *)(uintptr_t)value);
}

HELPER(map_pop_elem)
{
	(void)r3, (void)r4, (void)r5;
	return pop_or_peek(r1, r2, true);
}

HELPER(map_peek_elem)
{
	(void)r3, (void)r4, (void)r5;
	return pop_or_peek(r1, r2, false);
}
