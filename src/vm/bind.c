// SPDX-License-Identifier: MIT
/*
 * Binding the maps a program refers to, at load. An lddw with a map pseudo
 * source becomes a plain constant: the handle of the map (the address of
 * its struct vm_map entry, which helpers check against the VM's table) or
 * the address of a value's bytes (global data). So every engine runs map
 * references as ordinary lddw. Each map's memory that pointers from helpers
 * lead into becomes a region of the VM, read-only for BPF_F_RDONLY_PROG.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>

#include "common/errbuf.h"
#include "maps/maps.h"
#include "vm.h"

int vm_set_map_resolver(struct uebpf_vm *vm, vm_map_resolve_fn fn, void *ctx)
{
	if (!vm)
		return -EINVAL;
	if (vm->ops)
		return -EBUSY;
	vm->map_resolve = fn;
	vm->map_resolve_ctx = ctx;
	return 0;
}

static bool is_map_ref(const struct isa_insn *in)
{
	return in->opcode == ISA_OP_LDDW &&
	       (in->src == ISA_PSEUDO_MAP_FD || in->src == ISA_PSEUDO_MAP_VALUE ||
		in->src == ISA_PSEUDO_MAP_IDX || in->src == ISA_PSEUDO_MAP_IDX_VALUE);
}

static bool is_value_ref(const struct isa_insn *in)
{
	return in->src == ISA_PSEUDO_MAP_VALUE || in->src == ISA_PSEUDO_MAP_IDX_VALUE;
}

static long map_index(const struct uebpf_vm *vm, const struct map *m)
{
	for (size_t i = 0; i < vm->nmaps; i++)
		if (vm->maps[i].map == m)
			return (long)i;
	return -1;
}

static struct map *resolve(const struct uebpf_vm *vm, const struct isa_insn *in)
{
	return vm->map_resolve ? vm->map_resolve(vm->map_resolve_ctx, in->src, in->imm) : NULL;
}

static int add_regions(struct uebpf_vm *vm, char *err, size_t err_len)
{
	for (size_t i = 0; i < vm->nmaps; i++) {
		void *base;
		size_t len;
		int ret;

		map_prog_range(vm->maps[i].map, &base, &len);
		if (!len)
			continue;
		ret = uebpf_vm_add_region(vm, base, len, !vm->maps[i].rdonly_prog);
		if (ret) {
			errbuf_set(err, err_len, "cannot add the memory of a map as a region");
			return ret;
		}
	}
	return 0;
}

/* The value reference at pc must name byte off of a one-entry array's value. */
static int check_value_ref(const struct isa_insn *in, size_t pc, struct map *m, char *err,
			   size_t err_len)
{
	uint32_t off = (uint32_t)in[1].imm;
	void *addr;
	int ret = map_direct_value_addr(m, off, &addr);

	if (ret == -EOPNOTSUPP)
		errbuf_set(err, err_len,
			   "insn %zu: direct value access needs an array map of one entry", pc);
	else if (ret)
		errbuf_set(err, err_len, "insn %zu: offset %u is past the map's value of %u bytes",
			   pc, off, map_info(m)->value_size);
	return ret;
}

int vm_bind_maps(struct uebpf_vm *vm, const struct isa_insn *insns, size_t n, char *err,
		 size_t err_len)
{
	struct vm_map *maps;
	size_t pc;
	int ret;

	vm->nuser_regions = vm->nregions;
	for (pc = 0; pc < n; pc++) {
		const struct isa_insn *in = &insns[pc];
		struct map *m;

		if (in->opcode == ISA_OP_LDDW)
			pc++;
		if (!is_map_ref(in))
			continue;
		m = resolve(vm, in);
		if (!m) {
			errbuf_set(err, err_len, "insn %zu: lddw refers to map %s %d, which %s",
				   pc - 1,
				   in->src == ISA_PSEUDO_MAP_FD || in->src == ISA_PSEUDO_MAP_VALUE
					   ? "fd"
					   : "index",
				   in->imm,
				   vm->map_resolve ? "is not a map"
						   : "nothing resolves (no loader)");
			ret = -EBADF;
			goto fail;
		}
		if (is_value_ref(in)) {
			ret = check_value_ref(in, pc - 1, m, err, err_len);
			if (ret)
				goto fail;
		}
		if (map_index(vm, m) >= 0)
			continue;
		maps = realloc(vm->maps, (vm->nmaps + 1) * sizeof(*maps));
		if (!maps) {
			errbuf_set(err, err_len, "out of memory");
			ret = -ENOMEM;
			goto fail;
		}
		vm->maps = maps;
		vm->maps[vm->nmaps++] = (struct vm_map){
			.map = m,
			.rdonly_prog = (map_info(m)->flags & BPF_F_RDONLY_PROG) != 0,
		};
	}
	ret = add_regions(vm, err, err_len);
	if (!ret)
		return 0;
fail:
	vm_unbind_maps(vm);
	return ret;
}

uint64_t vm_lddw_value(const struct uebpf_vm *vm, const struct isa_insn *in)
{
	struct map *m = resolve(vm, in);
	void *addr;

	if (is_value_ref(in)) {
		map_direct_value_addr(m, (uint32_t)in[1].imm, &addr);
		return (uintptr_t)addr;
	}
	return (uintptr_t)&vm->maps[map_index(vm, m)];
}

void vm_unbind_maps(struct uebpf_vm *vm)
{
	free(vm->maps);
	vm->maps = NULL;
	vm->nmaps = 0;
	vm->nregions = vm->nuser_regions;
}
