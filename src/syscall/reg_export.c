// SPDX-License-Identifier: MIT
/*
 * A loaded program written into the registry, when it is first attached,
 * in a form another process can load: each lddw map reference becomes an
 * index into the program's map table (BPF_PSEUDO_MAP_IDX, or _IDX_VALUE
 * with the value offset in the second slot, as the kernel reads it), and
 * the table names each map's file in the registry.
 *
 * The map an lddw meant is read from what the VM made of it at load (its
 * decoded constant: a handle into the VM's map table, or the address of a
 * byte of a value), not from the fd in the instruction: by attach time the
 * loader may have closed that fd, and its number may name something else.
 *
 * A PROG_ARRAY's slots hold this process's program IDs; each update is
 * recorded too (registry/reg_tail.c), naming the program's file, so a
 * target can tail-call the program a slot holds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maps/maps.h"
#include "registry/registry.h"
#include "syscall/internal.h"
#include "vm/vm.h"

/* The bound map and offset a decoded lddw of a map value's address refers to. */
static int value_ref(const struct uebpf_vm *vm, uint64_t addr, size_t *idx, uint32_t *off)
{
	for (size_t i = 0; i < vm->nmaps; i++) {
		const struct map *m = vm->maps[i].map;
		void *base;

		if (map_direct_value_addr(m, 0, &base))
			continue;
		if (addr - (uintptr_t)base < map_info(m)->value_size) {
			*idx = i;
			*off = (uint32_t)(addr - (uintptr_t)base);
			return 0;
		}
	}
	return -ENOENT;
}

static int map_slot(struct reg *r, struct reg_prog *out, int32_t *table, const struct map *m,
		    size_t vm_idx)
{
	char err[512];
	int ret;

	if (table[vm_idx] >= 0)
		return 0;
	ret = reg_add_map(r, map_fd(m), out->maps[out->nmaps], err, sizeof(err));
	if (ret) {
		sys_error("%s", err);
		return ret;
	}
	table[vm_idx] = (int32_t)out->nmaps++;
	return 0;
}

static int rewrite(struct reg *r, const struct uebpf_vm *vm, struct reg_prog *out)
{
	int32_t *table = malloc((vm->nmaps ? vm->nmaps : 1) * sizeof(*table));
	int ret = 0;

	if (!table)
		return -ENOMEM;
	for (size_t i = 0; i < vm->nmaps; i++)
		table[i] = -1;
	for (size_t pc = 0; pc + 1 < out->ninsns && !ret; pc++) {
		struct isa_insn *in = &out->insns[pc];
		const struct vm_map *vmap;
		uint32_t off = 0;
		size_t idx;

		if (in->opcode != ISA_OP_LDDW)
			continue;
		if (in->src == ISA_PSEUDO_MAP_FD || in->src == ISA_PSEUDO_MAP_IDX) {
			vmap = vm_map_from_handle(vm, vm->ops[pc].k);
			if (!vmap) {
				ret = -EINVAL;
				break;
			}
			idx = (size_t)(vmap - vm->maps);
			in->src = ISA_PSEUDO_MAP_IDX;
		} else if (in->src == ISA_PSEUDO_MAP_VALUE || in->src == ISA_PSEUDO_MAP_IDX_VALUE) {
			if (value_ref(vm, vm->ops[pc].k, &idx, &off)) {
				ret = -EINVAL;
				break;
			}
			in->src = ISA_PSEUDO_MAP_IDX_VALUE;
			in[1].imm = (int32_t)off;
		} else {
			pc++;
			continue;
		}
		ret = map_slot(r, out, table, vm->maps[idx].map, idx);
		in->imm = table[idx];
		pc++;
	}
	if (ret == -EINVAL)
		sys_error("program %s: a map reference does not match the loaded program",
			  out->name);
	free(table);
	return ret;
}

int sys_prog_export(struct reg *r, struct sys_obj *obj)
{
	struct sys_prog *p = &obj->prog;
	struct reg_prog out = {.type = p->type,
			       .expected_attach_type = p->expected_attach_type,
			       .ninsns = p->ninsns};
	char name[REG_NAME_MAX], err[512];
	int ret;

	if (p->reg_name[0])
		return 0;
	memcpy(out.name, p->name, sizeof(out.name));
	out.insns = malloc((size_t)p->ninsns * sizeof(*out.insns));
	out.maps = calloc(p->vm->nmaps ? p->vm->nmaps : 1, sizeof(*out.maps));
	if (!out.insns || !out.maps) {
		ret = -ENOMEM;
		sys_error("out of memory");
		goto out;
	}
	memcpy(out.insns, p->insns, (size_t)p->ninsns * sizeof(*out.insns));
	ret = rewrite(r, p->vm, &out);
	if (ret)
		goto out;
	ret = reg_add_prog(r, &out, name, err, sizeof(err));
	if (ret)
		sys_error("%s", err);
	else
		snprintf(p->reg_name, sizeof(p->reg_name), "%s", name);
out:
	free(out.insns);
	free(out.maps);
	return ret;
}

int sys_prog_array_export(struct sys_obj *map, uint32_t index, struct sys_obj *prog)
{
	struct reg_tail t = {.index = index};
	char err[512];
	struct reg *r;
	int ret = sys_registry(&r);

	if (ret || !r)
		return ret;
	ret = reg_add_map(r, map_fd(map->map.map), t.map, err, sizeof(err));
	if (ret) {
		sys_error("%s", err);
		return ret;
	}
	if (!prog) {
		ret = reg_clear_tail(r, t.map, index, err, sizeof(err));
	} else {
		ret = sys_prog_export(r, prog);
		if (ret)
			return ret;
		t.id = prog->id;
		snprintf(t.prog, sizeof(t.prog), "%s", prog->prog.reg_name);
		ret = reg_set_tail(r, &t, err, sizeof(err));
	}
	if (ret)
		sys_error("%s", err);
	return ret;
}
