// SPDX-License-Identifier: MIT
/*
 * Which bpf_map_lookup_elem calls the JIT does itself: a call of this
 * module's own helper whose r1 is known at compile time to hold a map's
 * handle. An ARRAY's or PERCPU_ARRAY's lookup is open-coded, as the
 * kernel's JIT does; another type's calls the map's lookup directly, past
 * the helper's checks of the handle (proven here) and of the key (done
 * inline by the code, or proven here too). bpf_map_update_elem and
 * _delete_elem call map_update / map_delete directly when handle, key and
 * value are all proven.
 *
 * Knowing r1 is a local proof. Walking back from the call inside its basic
 * block, the first instruction that writes r1 must be an lddw of a map
 * (BPF_PSEUDO_MAP_FD or _IDX, which vm/bind.c turned into the map's handle).
 * Every path to the call runs that lddw and then the instructions between
 * it and the call, in order, because none of those is a place control can
 * enter from elsewhere: the walk stops at a block leader (a jump or call
 * target, the instruction after a jump or exit, a callback's entry), which
 * makes r1 unknown. A call of any kind writes r1 (r1-r5 are clobbered), an
 * atomic fetch writes its source register, moves and loads their
 * destination; all of them end the walk.
 */
#include <linux/bpf.h>
#include <stddef.h>
#include <sys/rseq.h>

#include "helpers/helpers.h"
#include "jit_internal.h"
#include "maps/maps.h"

/* Whether the operation may write register r. */
static bool writes_reg(const struct vm_op *op, unsigned r)
{
	unsigned c = op->code;
	bool load = (c >= VM_LDXB && c <= VM_LDXSW) || (c >= VM_LDXB_FP && c <= VM_LDXSW_FP);
	bool fetch = (c >= VM_AFADD64 && c <= VM_AXCHG64) || (c >= VM_AFADD32 && c <= VM_AXCHG32);

	if (c >= VM_CALL && c <= VM_CALL_LOCAL)
		return true;
	if (fetch)
		return op->src == r;
	if ((c <= VM_LDDW && c != VM_NOP) || load)
		return op->dst == r;
	return false;
}

/*
 * Where register r (a key or value pointer) points at the call at pc, when
 * the same walk proves it: its last writer an add of a constant to r,
 * whose own last writer is r = r10, the frame pointer: the size bytes then
 * lie at that constant from the frame's top, known to be inside the frame,
 * and the code uses them with no test. false otherwise.
 */
static bool reg_in_frame(const struct uebpf_vm *vm, const uint8_t *leader, size_t pc, unsigned r,
			 uint32_t size, int32_t *off)
{
	const struct vm_op *ops = vm->ops;
	int64_t add = 0;
	bool added = false;

	for (size_t q = pc; q > 0 && !leader[q];) {
		q--;
		if (!writes_reg(&ops[q], r))
			continue;
		if (!added && ops[q].code == VM_ADD64_K) {
			add = (int64_t)ops[q].k;
			added = true;
			continue;
		}
		if (added && ops[q].code == VM_MOV64_X && ops[q].src == 10 &&
		    add >= -ISA_STACK_SIZE && add <= -(int64_t)size) {
			*off = (int32_t)add;
			return true;
		}
		return false;
	}
	return false;
}

/* The map r1 holds at the call at pc, a call of this module's helper id; else NULL. */
static const struct vm_map *known_map(const struct uebpf_vm *vm, const uint8_t *leader, size_t pc,
				      int32_t id)
{
	const struct vm_op *ops = vm->ops;
	const struct vm_helper *h;

	if (ops[pc].code != VM_CALL || vm->insns[pc].imm != id)
		return NULL;
	h = vm_helper(vm, (uint32_t)id);
	if (!h || h->flags || h->fn != ops[pc].fn || !helpers_is_builtin((uint32_t)id, ops[pc].fn))
		return NULL;
	for (size_t q = pc; q > 0 && !leader[q];) {
		q--;
		if (!writes_reg(&ops[q], 1))
			continue;
		if (ops[q].code == VM_LDDW && (vm->insns[q].src == ISA_PSEUDO_MAP_FD ||
					       vm->insns[q].src == ISA_PSEUDO_MAP_IDX))
			return vm_map_from_handle(vm, ops[q].k);
		break;
	}
	return NULL;
}

bool jit_inline_lookup(const struct uebpf_vm *vm, const uint8_t *leader, size_t pc,
		       struct jit_lookup *out)
{
	const struct vm_map *vm_map = known_map(vm, leader, pc, BPF_FUNC_map_lookup_elem);
	struct map_array_inline arr;
	const struct map_info *info;

	if (!vm_map)
		return false;
	info = map_info(vm_map->map);
	out->key_size = info->key_size;
	out->key_known =
		info->key_size && reg_in_frame(vm, leader, pc, 2, info->key_size, &out->key_off);
	if (!map_array_inline_info(vm_map->map, &arr)) {
		out->kind = JIT_LOOKUP_ARRAY;
		out->values = (uintptr_t)arr.values;
		out->stride = arr.stride;
		out->max_entries = arr.max_entries;
		out->cpu_step = arr.cpu_step;
		out->nr_cpus = info->nr_cpus;
		return true;
	}
	/* the helper answers NULL for a ring buffer; a key must be there to check */
	if (info->type == BPF_MAP_TYPE_RINGBUF || !info->key_size ||
	    info->key_size > ISA_STACK_SIZE)
		return false;
	out->kind = JIT_LOOKUP_CALL;
	out->map = vm_map->map;
	out->fn = (const void *)map_lookup_func(vm_map->map);
	return true;
}

/*
 * bpf_map_update_elem and bpf_map_delete_elem on a known map that
 * programs may change, key (and value) proven inside the frame: all the
 * helper checks besides (handle, key, value, read-only) is then proven,
 * and what it calls, map_update(map, key, value, flags) or map_delete(map,
 * key), takes the program's r2-r4 as they are.
 */
bool jit_inline_change(const struct uebpf_vm *vm, const uint8_t *leader, size_t pc,
		       struct jit_lookup *out)
{
	const struct vm_map *vm_map = known_map(vm, leader, pc, BPF_FUNC_map_update_elem);
	const struct map_info *info;
	bool update = vm_map != NULL;
	int32_t off;

	if (!vm_map)
		vm_map = known_map(vm, leader, pc, BPF_FUNC_map_delete_elem);
	if (!vm_map || vm_map->rdonly_prog)
		return false;
	info = map_info(vm_map->map);
	if (!info->key_size || !reg_in_frame(vm, leader, pc, 2, info->key_size, &off) ||
	    (update && !reg_in_frame(vm, leader, pc, 3, info->value_size, &off)))
		return false;
	out->kind = JIT_CHANGE_CALL;
	out->map = vm_map->map;
	out->fn = update ? (const void *)map_update : (const void *)map_delete;
	return true;
}

/*
 * The thread's CPU as the kernel keeps it in the rseq area glibc registers
 * for every thread: the code reads it at fs:off (the thread pointer is the
 * fs base). false when glibc registered none (the code then asks the
 * helper, which asks sched_getcpu).
 */
bool jit_rseq_cpu_off(int32_t *off)
{
	ptrdiff_t o = __rseq_offset + (ptrdiff_t)offsetof(struct rseq, cpu_id);

	if (!__rseq_size || o < INT32_MIN || o > INT32_MAX)
		return false;
	*off = (int32_t)o;
	return true;
}
