// SPDX-License-Identifier: MIT
/*
 * Verification at load (uebpf_vm_set_verify): the verifier's verdict turned
 * into what decode needs, the slots whose load or store may run unchecked.
 *
 * The verifier says, per access, which memory it was proven inside of. Only
 * memory every run is sure to have counts: the stack (the engines give each
 * of the eight frames its 512 bytes) and, for raw-memory programs, the run's
 * memory [r1, r1 + r2), which uebpf_vm_run passes exactly. A context
 * structure or packet reached from one is whatever the embedder passed, of
 * whatever length, so accesses to those keep their checks.
 */
#include <errno.h>
#include <stdlib.h>

#include "common/errbuf.h"
#include "maps/maps.h"
#include "verifier/verifier.h"
#include "vm.h"

int uebpf_vm_set_verify(struct uebpf_vm *vm, enum uebpf_prog_type type)
{
	if (!vm || (unsigned)type > UEBPF_PROG_TRACEPOINT)
		return -EINVAL;
	if (vm->ops)
		return -EBUSY;
	vm->verify = true;
	vm->prog_type = type;
	return 0;
}

/* The verifier's view of a map the VM's resolver bound (bind.c ran first). */
static int verify_map_of(void *ctx, const struct isa_insn *in, struct verifier_map *out)
{
	const struct uebpf_vm *vm = ctx;

	return verifier_map_describe(
		vm->map_resolve ? vm->map_resolve(vm->map_resolve_ctx, in->src, in->imm) : NULL, out);
}

int vm_verify(struct uebpf_vm *vm, const struct isa_insn *insns, size_t n, char *err,
	      size_t err_len)
{
	struct verifier_opts opts = {.type = vm->prog_type, .map_of = verify_map_of, .map_ctx = vm};
	unsigned trusted = VERIFIER_MEM_STACK;
	int ret;

	if (!vm->verify)
		return 0;
	vm->proven = malloc(n ? n : 1);
	if (!vm->proven) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	ret = verifier_check(insns, n, &opts, vm->proven, NULL, err, err_len);
	if (ret) {
		free(vm->proven);
		vm->proven = NULL;
		return ret;
	}
	if (vm->prog_type == UEBPF_PROG_RAW_MEM)
		trusted |= VERIFIER_MEM_PKT;
	for (size_t pc = 0; pc < n; pc++)
		vm->proven[pc] = vm->proven[pc] && !(vm->proven[pc] & ~trusted);
	return 0;
}
