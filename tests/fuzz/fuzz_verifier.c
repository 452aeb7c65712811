// SPDX-License-Identifier: MIT
/*
 * The verifier on any bytes: a load with verification either accepts the
 * program or refuses it with a negative errno and a message; never a
 * crash, hang or leak. A program it accepts in raw-memory mode then runs
 * on the interpreter, its proven accesses unchecked, without faulting: a
 * wrong proof reads or writes outside the buffer, sized to the byte, which
 * ASan reports in `make fuzz`. Accepted programs of the context types run
 * too (their context accesses stay checked), for crashes only.
 *
 * Byte 0 picks the program type (bits 1-3) and the form of the rest: raw
 * 8-byte instructions as they come (bit 0 set), or shaped into mostly valid
 * programs (shape.h) that reach past validation into the verifier proper,
 * with calls of the map helpers on a table of maps bound at load when bit 4
 * is set (map values the verifier proves in bounds are then accessed
 * unchecked, so a wrong proof faults or corrupts the maps' memory).
 * Byte 1 is the length of the run's memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "helpers/helpers.h"
#include "isa/isa.h"
#include "maps/maps.h"
#include "shape.h"
#include "uebpf/uebpf.h"
#include "vm/vm.h"

/* Loops the verifier accepted end; this only bounds a run its bug would not end. */
#define BUDGET (1u << 22)
#define NTYPES (UEBPF_PROG_TRACEPOINT + 1)

/* The maps shaped programs name as fds 0..NMAPS-1: values of 8, 16 and 24 bytes. */
#define NMAPS 3
static const struct map_attr map_table[NMAPS] = {
	{.type = 2 /* BPF_MAP_TYPE_ARRAY */, .key_size = 4, .value_size = 8, .max_entries = 4},
	{.type = 1 /* BPF_MAP_TYPE_HASH */, .key_size = 4, .value_size = 16, .max_entries = 8},
	{.type = 2, .key_size = 4, .value_size = 24, .max_entries = 2},
};
static struct map *maps[NMAPS];

/* Made once per process: their contents carry over from input to input, as a real map's would. */
static struct map *resolve_map(void *ctx, unsigned kind, int32_t imm)
{
	char err[256];

	(void)ctx;
	if (kind != ISA_PSEUDO_MAP_FD || imm < 0 || imm >= NMAPS)
		return NULL;
	if (!maps[imm] && map_create(&map_table[imm], &maps[imm], err, sizeof(err)))
		fuzz_fail("cannot create map %d: %s", imm, err);
	return maps[imm];
}

static void check_run(struct uebpf_vm *vm, enum uebpf_prog_type type, size_t mem_len)
{
	/* context types get room for any context; raw memory is exactly what r2 says */
	size_t len = type == UEBPF_PROG_RAW_MEM ? mem_len : 4096;
	uint8_t *mem = malloc(len ? len : 1);
	char err[256] = "";
	uint64_t r0;
	int ret;

	if (!mem)
		fuzz_fail("out of memory");
	for (size_t i = 0; i < len; i++)
		mem[i] = (uint8_t)(i * 13 + 1);
	ret = uebpf_vm_run(vm, len ? mem : NULL, len, &r0, err, sizeof(err));
	if (ret && !err[0])
		fuzz_fail("run error %d without a message", ret);
	if (type == UEBPF_PROG_RAW_MEM && ret && !strstr(err, "budget"))
		fuzz_fail("a verified program faulted: %s", err);
	free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* aligned: uebpf_vm_load reads the code as struct isa_insn (see the report in README) */
	static struct isa_insn raw[8192];
	struct isa_insn shaped[FUZZ_MAX_INSNS];
	enum uebpf_prog_type type;
	struct uebpf_vm *vm;
	const void *code;
	size_t code_len, mem_len;
	char err[512] = "";
	bool with_maps;
	int ret;

	if (size < 2)
		return 0;
	with_maps = (data[0] & 0x11) == 0x10;
	type = (enum uebpf_prog_type)((data[0] >> 1) % NTYPES);
	mem_len = data[1];
	if (data[0] & 1) {
		code_len = (size - 2) & ~(size_t)7;
		if (code_len > sizeof(raw))
			code_len = sizeof(raw);
		memcpy(raw, data + 2, code_len);
		code = raw;
	} else if (with_maps) {
		code_len = fuzz_build_maps(data + 2, size - 2, shaped, NMAPS) * sizeof(shaped[0]);
		code = shaped;
	} else {
		code_len = fuzz_build(data + 2, size - 2, shaped) * sizeof(shaped[0]);
		code = shaped;
	}
	vm = uebpf_vm_create();
	if (!vm || uebpf_vm_set_verify(vm, type) || uebpf_vm_set_insn_budget(vm, BUDGET))
		fuzz_fail("cannot set up a VM");
	/* with maps, the helpers are the real ones (mix's ID is map_lookup_elem's) */
	if (with_maps ? helpers_register_all(vm) || vm_set_map_resolver(vm, resolve_map, NULL)
		      : uebpf_vm_register_helper(vm, FUZZ_HELPER_MIX, "mix", fuzz_mix))
		fuzz_fail("cannot set up the VM's helpers");
	ret = uebpf_vm_load(vm, code, code_len, err, sizeof(err));
	if (ret > 0 || ret < -4095)
		fuzz_fail("load returned %d, not 0 or a negative errno", ret);
	if (ret && !err[0])
		fuzz_fail("load refused (%d) without a message", ret);
	if (!ret)
		check_run(vm, type, mem_len);
	uebpf_vm_destroy(vm);
	return 0;
}
