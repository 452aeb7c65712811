// SPDX-License-Identifier: MIT
/*
 * Helpers that call back into the program: bpf_loop and
 * bpf_for_each_map_elem. The callback is a function of the program (an
 * lddw of BPF_PSEUDO_FUNC), run by the engine's call_sub on a frame below
 * the caller's, so the context pointer the caller passes (often into its
 * own frame) stays valid.
 *
 * for_each_map_elem hands the callback a pointer to the key, and the key
 * must be memory the program may read: it is a copy at the lowest bytes of
 * the callback's own frame, which a callback using its whole 512 bytes of
 * stack overwrites (only its own view changes). Hash maps are walked with
 * get_next_key one key ahead, so the callback may delete the element it is
 * given; deleting the one after it restarts the walk, and the number of
 * callbacks is bounded by max_entries all the same.
 */
#include <linux/bpf.h>
#include <string.h>

#include "helpers/internal.h"
#include "maps/maps.h"

#define LOOP_MAX (1u << 23) /* BPF_MAX_LOOPS */

/* The callback's r0, with the caller's frame kept for the next call. */
static uint64_t call_back(struct vm_run *run, const struct vm_op *fn, uintptr_t frame, uint64_t r1,
			  uint64_t r2, uint64_t r3, uint64_t r4)
{
	const uint64_t args[5] = {r1, r2, r3, r4, 0};

	run->frame_lo = frame;
	return run->vm->engine->call_sub(run, fn, args);
}

HELPER(loop)
{
	struct vm_run *run = vm_current_run;
	const struct vm_op *fn = run ? vm_callback_from_handle(run->vm, r2) : NULL;
	uintptr_t frame;
	uint64_t i;

	(void)r5;
	if (!fn || !run->vm->engine->call_sub || r4)
		return helper_err(EINVAL);
	if (r1 > LOOP_MAX)
		return helper_err(E2BIG);
	frame = run->frame_lo;
	for (i = 0; i < r1; i++) {
		uint64_t ret = call_back(run, fn, frame, i, r3, 0, 0);

		if (run->fault)
			return 0;
		if (ret)
			return i + 1;
	}
	return i;
}

static bool walkable(uint32_t type)
{
	switch (type) {
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
		return true;
	default:
		return false;
	}
}

HELPER(for_each_map_elem)
{
	struct vm_run *run = vm_current_run;
	const struct vm_map *vm_map = helper_map(r1);
	const struct vm_op *fn = run ? vm_callback_from_handle(run->vm, r2) : NULL;
	uint8_t next[ISA_STACK_SIZE];
	const struct map_info *info;
	uint64_t calls = 0;
	uintptr_t frame, key;
	bool more;

	(void)r5;
	if (!vm_map || !fn || !run->vm->engine->call_sub || r4)
		return helper_err(EINVAL);
	info = map_info(vm_map->map);
	if (!walkable(info->type))
		return helper_err(EINVAL);
	if (info->key_size > sizeof(next))
		return helper_err(E2BIG);
	frame = run->frame_lo;
	if (frame - run->stack_lo < ISA_STACK_SIZE) {
		/* no frame left for the callback: call_sub reports the depth */
		call_back(run, fn, frame, r1, 0, 0, r3);
		return 0;
	}
	key = frame - ISA_STACK_SIZE;
	more = map_get_next_key(vm_map->map, NULL, next) == 0;
	/* elements deleted under the walk may restart it: bounded all the same */
	for (uint64_t steps = 0;
	     more && calls < info->max_entries && steps <= 2ull * info->max_entries; steps++) {
		void *value;
		uint64_t ret;

		memcpy((void *)key, next, info->key_size);
		more = map_get_next_key(vm_map->map, (void *)key, next) == 0;
		value = map_lookup(vm_map->map, (void *)key);
		if (!value)
			continue;
		calls++;
		ret = call_back(run, fn, frame, r1, key, (uintptr_t)value, r3);
		if (run->fault)
			return 0;
		if (ret)
			break;
	}
	return calls;
}
