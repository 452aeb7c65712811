// SPDX-License-Identifier: MIT
/*
 * What a translation depends on besides its instructions, decided once per
 * program and shared by the emitter (which writes it into the C) and the
 * engine (which hands the run what the code then expects): the shapes of
 * the maps it refers to, the helpers it open-codes, whether it has
 * callbacks; and its identity, the words that say all of it.
 *
 * Map references are not constants of the code: an object compiled ahead
 * of time (uebpf aot OBJ, or a cache entry made by another process) meets
 * the maps only when a program is loaded. The code gets them at each run
 * in struct aot_ctx.maps, AOT_MAP_WORDS per map in the order of vm->maps
 * (the order of first reference in the program, the same at every load),
 * and is specialised for their shapes alone (type, sizes, max_entries,
 * flags, CPUs, layout), which its identity carries: a load whose maps have
 * another shape cannot use it.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>

#include "aot_internal.h"
#include "helpers/helpers.h"
#include "maps/maps.h"

/* The helpers the emitter can open-code, by bit of aot_plan.inline_mask. */
static const uint32_t inline_ids[AOT_INLINE_COUNT] = {
	[AOT_INLINE_MAP_LOOKUP] = BPF_FUNC_map_lookup_elem,
	[AOT_INLINE_KTIME] = BPF_FUNC_ktime_get_ns,
	[AOT_INLINE_KTIME_BOOT] = BPF_FUNC_ktime_get_boot_ns,
	[AOT_INLINE_KTIME_COARSE] = BPF_FUNC_ktime_get_coarse_ns,
	[AOT_INLINE_PRANDOM] = BPF_FUNC_get_prandom_u32,
	[AOT_INLINE_CPU] = BPF_FUNC_get_smp_processor_id,
	[AOT_INLINE_CSUM_DIFF] = BPF_FUNC_csum_diff,
	[AOT_INLINE_MAP_UPDATE] = BPF_FUNC_map_update_elem,
	[AOT_INLINE_MAP_DELETE] = BPF_FUNC_map_delete_elem,
};

bool aot_is_reloc(const struct uebpf_vm *vm, size_t pc)
{
	return vm->ops[pc].code == VM_LDDW && vm->insns[pc].src != ISA_PSEUDO_IMM64;
}

int aot_reloc(const struct uebpf_vm *vm, const struct aot_plan *plan, size_t pc,
	      struct aot_reloc *r)
{
	uint64_t k = vm->ops[pc].k;

	switch (vm->insns[pc].src) {
	case ISA_PSEUDO_FUNC:
		r->kind = AOT_RELOC_FUNC;
		r->index = (k - (uintptr_t)vm->ops) / sizeof(struct vm_op);
		return 0;
	case ISA_PSEUDO_MAP_FD:
	case ISA_PSEUDO_MAP_IDX:
		r->kind = AOT_RELOC_MAP;
		r->index = (k - (uintptr_t)vm->maps) / sizeof(struct vm_map);
		r->off = 0;
		return r->index < vm->nmaps ? 0 : -EINVAL;
	default: /* a value: inside the memory of a one-entry array */
		r->kind = AOT_RELOC_VALUE;
		for (size_t i = 0; i < plan->nmaps; i++) {
			uint64_t off = k - plan->base[i];

			if (plan->base[i] && off < plan->maps[i].range_len) {
				r->index = i;
				r->off = off;
				return 0;
			}
		}
		return -EINVAL;
	}
}

static int plan_maps(const struct uebpf_vm *vm, struct aot_plan *plan)
{
	plan->nmaps = vm->nmaps;
	plan->maps = calloc(vm->nmaps ? vm->nmaps : 1, sizeof(*plan->maps));
	plan->base = calloc(vm->nmaps ? vm->nmaps : 1, sizeof(*plan->base));
	if (!plan->maps || !plan->base)
		return -ENOMEM;
	for (size_t i = 0; i < vm->nmaps; i++) {
		const struct map *m = vm->maps[i].map;
		const struct map_info *info = map_info(m);
		struct aot_map_shape *s = &plan->maps[i];
		struct map_array_inline arr;
		void *base;
		size_t len;

		map_prog_range(m, &base, &len);
		plan->base[i] = len ? (uintptr_t)base : 0;
		s->type = info->type;
		s->key_size = info->key_size;
		s->value_size = info->value_size;
		s->max_entries = info->max_entries;
		s->flags = info->flags;
		s->nr_cpus = info->nr_cpus;
		s->rdonly_prog = vm->maps[i].rdonly_prog;
		s->range_len = len;
		if (!map_array_inline_info(m, &arr) && (uintptr_t)arr.values == plan->base[i]) {
			s->array = true;
			s->stride = arr.stride;
			s->cpu_step = arr.cpu_step;
		} else {
			/* as the JIT (jit_inline_lookup): a key to check, and not a ring */
			s->direct = info->type != BPF_MAP_TYPE_RINGBUF && info->key_size &&
				    info->key_size <= ISA_STACK_SIZE;
		}
	}
	return 0;
}

/* Whether the helper the program calls as id is the one of src/helpers the emitter copies. */
static bool builtin(const struct uebpf_vm *vm, uint32_t id)
{
	const struct vm_helper *h = vm_helper(vm, id);

	return h && !h->flags && helpers_is_builtin(id, h->fn);
}

static void plan_helpers(const struct uebpf_vm *vm, struct aot_plan *plan)
{
	bool arrays = false, percpu = false, changes = false;

	for (size_t i = 0; i < plan->nmaps; i++) {
		arrays |= plan->maps[i].array || plan->maps[i].direct;
		percpu |= plan->maps[i].array && plan->maps[i].cpu_step;
		changes |= aot_changes_direct(&plan->maps[i]);
	}
	for (size_t pc = 0; pc < vm->ninsns; pc++) {
		if (vm->ops[pc].code != VM_CALL)
			continue;
		for (unsigned i = 0; i < AOT_INLINE_COUNT; i++) {
			if ((uint32_t)vm->insns[pc].imm != inline_ids[i] ||
			    (i == AOT_INLINE_MAP_LOOKUP && !arrays) ||
			    ((i == AOT_INLINE_MAP_UPDATE || i == AOT_INLINE_MAP_DELETE) &&
			     !changes) ||
			    !builtin(vm, inline_ids[i]))
				continue;
			plan->inline_mask |= 1u << i;
		}
	}
	plan->needs_cpu = (plan->inline_mask & (1u << AOT_INLINE_CPU)) ||
			  ((plan->inline_mask & (1u << AOT_INLINE_MAP_LOOKUP)) && percpu);
	plan->needs_prandom = plan->inline_mask & (1u << AOT_INLINE_PRANDOM);
}

int aot_plan(const struct uebpf_vm *vm, struct aot_plan *plan)
{
	int ret;

	*plan = (struct aot_plan){0};
	ret = plan_maps(vm, plan);
	if (ret) {
		aot_plan_free(plan);
		return ret;
	}
	for (size_t pc = 0; pc < vm->ninsns; pc++) {
		if (vm->ops[pc].code == VM_LDDW && vm->insns[pc].src == ISA_PSEUDO_FUNC)
			plan->callbacks = true;
	}
	plan_helpers(vm, plan);
	return 0;
}

void aot_plan_free(struct aot_plan *plan)
{
	free(plan->maps);
	free(plan->base);
	plan->maps = NULL;
	plan->base = NULL;
}

bool aot_changes_direct(const struct aot_map_shape *s)
{
	return (s->array || s->direct) && !s->rdonly_prog && s->key_size <= ISA_STACK_SIZE &&
	       s->value_size <= ISA_STACK_SIZE;
}

bool aot_inlines(const struct aot_plan *plan, uint32_t id)
{
	for (unsigned i = 0; i < AOT_INLINE_COUNT; i++) {
		if (inline_ids[i] == id)
			return plan->inline_mask & (1u << i);
	}
	return false;
}

/* Words of one map's shape in the identity. */
#define AOT_SHAPE_WORDS 6

/*
 * The decoded codes are part of it too: they carry what decode and the
 * verifier proved (which accesses go unchecked) and the helpers' flags. A
 * map reference is there as the map's index (its fd or fd_array slot
 * differs from load to load), the map as its shape.
 */
uint64_t *aot_identity(const struct uebpf_vm *vm, const struct aot_opts *opts,
		       const struct aot_plan *plan, size_t *n)
{
	size_t ncodes = (vm->ninsns + 7) / 8, i;
	uint64_t *w = calloc(5 + vm->ninsns + plan->nmaps * AOT_SHAPE_WORDS + ncodes, sizeof(*w));

	if (!w)
		return NULL;
	w[0] = AOT_EMIT_VERSION;
	w[1] = opts->budgeted;
	w[2] = vm->ninsns;
	w[3] = plan->inline_mask;
	w[4] = plan->nmaps;
	i = 5;
	for (size_t pc = 0; pc < vm->ninsns; pc++, i++) {
		struct isa_insn in = vm->insns[pc];
		struct aot_reloc r;

		if (aot_is_reloc(vm, pc) && !aot_reloc(vm, plan, pc, &r) &&
		    r.kind != AOT_RELOC_FUNC)
			in.imm = (int32_t)r.index;
		memcpy(&w[i], &in, sizeof(in));
	}
	for (size_t m = 0; m < plan->nmaps; m++, i += AOT_SHAPE_WORDS) {
		const struct aot_map_shape *s = &plan->maps[m];

		w[i] = (uint64_t)s->type << 32 | s->flags;
		w[i + 1] = (uint64_t)s->key_size << 32 | s->value_size;
		w[i + 2] = (uint64_t)s->max_entries << 32 | s->nr_cpus;
		w[i + 3] = s->range_len;
		w[i + 4] =
			(uint64_t)s->stride << 3 | s->direct << 2 | s->array << 1 | s->rdonly_prog;
		w[i + 5] = s->cpu_step;
	}
	for (size_t pc = 0; pc < vm->ninsns; pc++)
		w[i + pc / 8] |= (uint64_t)vm->ops[pc].code << (pc % 8 * 8);
	*n = i + ncodes;
	return w;
}
