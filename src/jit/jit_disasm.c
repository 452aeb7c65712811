// SPDX-License-Identifier: MIT
/*
 * jit_print_disasm: a JIT-compiled program as eBPF text, each instruction
 * followed by the x86-64 code it became (Capstone, Intel syntax), with
 * offsets from the start of the code. The code that belongs to no single
 * instruction (prologue and epilogue, out-of-line stubs, shared routines)
 * comes before and after the body.
 */
#define _GNU_SOURCE /* dladdr */
#include <capstone/capstone.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "isa/asm.h"
#include "jit.h"
#include "jit_internal.h"

/* The name of a C function the code calls: a helper of vm's, or the JIT's own. */
static const char *callee_name(const struct uebpf_vm *vm, const void *fn)
{
	static const struct {
		const void *fn;
		const char *name;
	} own[] = {
		{(const void *)jit_access_ok, "jit_access_ok"},
		{(const void *)jit_fault, "jit_fault"},
		{(const void *)vm_helper, "vm_helper"},
	};
	Dl_info info;

	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		if (own[i].fn == fn)
			return own[i].name;
	}
	for (uint32_t id = 0; id < vm->nhelpers; id++) {
		if (vm->helpers[id].fn && (const void *)vm->helpers[id].fn == fn)
			return vm->helpers[id].name;
	}
	if (dladdr(fn, &info) && info.dli_sname && info.dli_saddr == fn)
		return info.dli_sname;
	return NULL;
}

/*
 * Offsets are from the start of the code, so a direct call to C shows as an
 * offset past its end: say which function it reaches.
 */
static void print_callee(const struct uebpf_vm *vm, const struct jit_image *img,
			 const cs_insn *insn, FILE *out)
{
	const char *name;
	const void *fn;
	uint64_t off;
	char *end;

	if (strcmp(insn->mnemonic, "call"))
		return;
	off = strtoull(insn->op_str, &end, 16);
	if (*end || off < img->code_len)
		return;
	fn = (const uint8_t *)img->code + off;
	name = callee_name(vm, fn);
	fprintf(out, "  # %p%s%s%s", fn, name ? " <" : "", name ? name : "", name ? ">" : "");
}

static void print_native(csh cs, const struct uebpf_vm *vm, size_t from, size_t to, FILE *out)
{
	const struct jit_image *img = vm->engine_state;
	const uint8_t *code = (const uint8_t *)img->code + from;
	size_t len = to - from;
	uint64_t addr = from;
	cs_insn *insn = cs_malloc(cs);

	if (!insn)
		return;
	while (len && cs_disasm_iter(cs, &code, &len, &addr, insn)) {
		fprintf(out, "\t%6" PRIx64 ":  %-7s %s", insn->address, insn->mnemonic,
			insn->op_str);
		print_callee(vm, img, insn, out);
		fputc('\n', out);
	}
	cs_free(insn, 1);
	/* Capstone stops at bytes it cannot decode: show them rather than hide them */
	for (; len; len--, addr++, code++)
		fprintf(out, "\t%6" PRIx64 ":  .byte   0x%02x\n", addr, *code);
}

int jit_print_disasm(const struct uebpf_vm *vm, FILE *out)
{
	const struct jit_image *img;
	const void *start;
	size_t len, pc;
	char text[128];
	csh cs;
	int ret;

	if (jit_insn_range(vm, 0, &start, &len))
		return -EINVAL;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return -ENOMEM;
	img = vm->engine_state;
	if (img->insn_off[0]) {
		fprintf(out, "prologue:\n");
		print_native(cs, vm, 0, img->insn_off[0], out);
	}
	for (pc = 0; pc < vm->ninsns; pc += ret > 0 ? (size_t)ret : 1) {
		ret = isa_disasm_insn(vm->insns, vm->ninsns, pc, text, sizeof(text));
		fprintf(out, "%5zu: %s\n", pc, text);
		print_native(cs, vm, img->insn_off[pc], img->insn_off[pc + (ret == 2 ? 2 : 1)],
			     out);
	}
	if (img->insn_off[vm->ninsns] < img->code_len) {
		fprintf(out, "out of line:\n");
		print_native(cs, vm, img->insn_off[vm->ninsns], img->code_len, out);
	}
	cs_close(&cs);
	return ferror(out) ? -EIO : 0;
}
