// SPDX-License-Identifier: MIT
/*
 * The disassembler. It prints an instruction only when the assembler would
 * encode that text back into exactly the same bits: every field the syntax
 * cannot express (a reserved field that is not zero, a register above r10,
 * an unknown opcode or atomic operation, an lddw without a clean second
 * slot) makes the slot a `.raw 0x<64-bit word>` line instead. The assembler
 * rejects `.raw`, so a program with such a slot fails its round trip with an
 * error naming the line rather than coming back silently different.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asm.h"
#include "names.h"

#define DISASM_LINE 96

/* Marks of isa_disassemble, one byte per slot. */
enum {
	DISASM_START = 1, /* an instruction (or .raw line) starts here */
	DISASM_VALID = 2, /* ... and it decodes */
	DISASM_LABEL = 4, /* some jump or local call lands here */
};

static bool reg_ok(unsigned reg)
{
	return reg < ISA_NREGS;
}

/* Small immediates in decimal, large ones in hex; both assemble back alike. */
static void fmt_imm(char *out, size_t len, int32_t imm)
{
	if (imm > -0x10000 && imm < 0x10000)
		snprintf(out, len, "%" PRId32, imm);
	else if (imm < 0)
		snprintf(out, len, "-0x%" PRIx64, -(int64_t)imm);
	else
		snprintf(out, len, "0x%" PRIx32, (uint32_t)imm);
}

static void fmt_mem(char *out, size_t len, unsigned reg, int16_t off)
{
	if (off)
		snprintf(out, len, "[%%r%u%+d]", reg, off);
	else
		snprintf(out, len, "[%%r%u]", reg);
}

/* The slot offset a jump or local call adds to pc + 1, if the opcode is one. */
static bool jump_delta(const struct isa_insn *in, int64_t *delta)
{
	unsigned op = isa_op(in->opcode);

	if (in->opcode == ISA_OP_CALL && in->src == ISA_CALL_LOCAL) {
		*delta = in->imm;
		return true;
	}
	if (!isa_is_jmp(in->opcode) || op == ISA_CALL || op == ISA_EXIT)
		return false;
	*delta = op == ISA_JA && isa_class(in->opcode) == ISA_JMP32 ? in->imm : in->off;
	return true;
}

static int fmt_alu(const struct isa_insn *in, char *buf, size_t len)
{
	bool is32 = isa_class(in->opcode) == ISA_ALU;
	bool x = isa_srcbit(in->opcode) == ISA_X;
	unsigned op = isa_op(in->opcode);
	const char *w = is32 ? "32" : "";
	const char *name = isa_alu_names[op >> 4];
	const char *sign = "";
	char imm[24];

	if (!reg_ok(in->dst))
		return -EINVAL;
	if (op == ISA_END) {
		if (in->src || in->off || (in->imm != 16 && in->imm != 32 && in->imm != 64) ||
		    (!is32 && x))
			return -EINVAL;
		snprintf(buf, len, "%s%" PRId32 " %%r%u",
			 !is32 ? "bswap"
			 : x   ? "be"
			       : "le",
			 in->imm, in->dst);
		return 1;
	}
	if (op == ISA_NEG) {
		if (x || in->src || in->off || in->imm)
			return -EINVAL;
		snprintf(buf, len, "neg%s %%r%u", w, in->dst);
		return 1;
	}
	if (!name || (x && (in->imm || !reg_ok(in->src))) || (!x && in->src))
		return -EINVAL;
	if (in->off) {
		if (op == ISA_MOV && x &&
		    (in->off == 8 || in->off == 16 || (!is32 && in->off == 32))) {
			snprintf(buf, len, "movsx%d%s %%r%u, %%r%u", in->off, is32 ? "32" : "64",
				 in->dst, in->src);
			return 1;
		}
		if ((op != ISA_DIV && op != ISA_MOD) || in->off != 1)
			return -EINVAL;
		sign = "s";
	}
	if (x) {
		snprintf(buf, len, "%s%s%s %%r%u, %%r%u", sign, name, w, in->dst, in->src);
	} else {
		fmt_imm(imm, sizeof(imm), in->imm);
		snprintf(buf, len, "%s%s%s %%r%u, %s", sign, name, w, in->dst, imm);
	}
	return 1;
}

static int fmt_call(const struct isa_insn *in, const char *target, char *buf, size_t len)
{
	if (in->off)
		return -EINVAL;
	if (isa_srcbit(in->opcode) == ISA_X) {
		if (in->src || in->imm || !reg_ok(in->dst))
			return -EINVAL;
		snprintf(buf, len, "call %%r%u", in->dst);
		return 1;
	}
	if (in->dst)
		return -EINVAL;
	if (in->src == ISA_CALL_HELPER)
		snprintf(buf, len, "call %" PRId32, in->imm);
	else if (in->src == ISA_CALL_LOCAL)
		snprintf(buf, len, "call local %s", target);
	else
		return -EINVAL;
	return 1;
}

static int fmt_jmp(const struct isa_insn *in, const char *target, char *buf, size_t len)
{
	bool is32 = isa_class(in->opcode) == ISA_JMP32;
	bool x = isa_srcbit(in->opcode) == ISA_X;
	unsigned op = isa_op(in->opcode);
	const char *w = is32 ? "32" : "";
	const char *name = isa_jmp_names[op >> 4];
	char imm[24];

	switch (op) {
	case ISA_JA:
		if (x || in->dst || in->src || (is32 ? in->off : in->imm))
			return -EINVAL;
		snprintf(buf, len, "ja%s %s", w, target);
		return 1;
	case ISA_CALL:
		return is32 ? -EINVAL : fmt_call(in, target, buf, len);
	case ISA_EXIT:
		if (is32 || x || in->dst || in->src || in->off || in->imm)
			return -EINVAL;
		snprintf(buf, len, "exit");
		return 1;
	}
	if (!name || !reg_ok(in->dst) || (x && (in->imm || !reg_ok(in->src))) || (!x && in->src))
		return -EINVAL;
	if (x) {
		snprintf(buf, len, "%s%s %%r%u, %%r%u, %s", name, w, in->dst, in->src, target);
	} else {
		fmt_imm(imm, sizeof(imm), in->imm);
		snprintf(buf, len, "%s%s %%r%u, %s, %s", name, w, in->dst, imm, target);
	}
	return 1;
}

static int fmt_lddw(const struct isa_insn *insns, size_t n, size_t pc, char *buf, size_t len)
{
	const struct isa_insn *in = &insns[pc], *hi = in + 1;

	if (in->opcode != ISA_OP_LDDW || in->src || in->off || !reg_ok(in->dst) || pc + 1 >= n ||
	    hi->opcode || hi->dst || hi->src || hi->off)
		return -EINVAL;
	snprintf(buf, len, "lddw %%r%u, 0x%" PRIx64, in->dst,
		 (uint64_t)(uint32_t)hi->imm << 32 | (uint32_t)in->imm);
	return 2;
}

static int fmt_atomic(const struct isa_insn *in, const char *mem, char *buf, size_t len)
{
	const char *w = isa_size(in->opcode) == ISA_W ? "32" : "";

	if (isa_size(in->opcode) != ISA_W && isa_size(in->opcode) != ISA_DW)
		return -EINVAL;
	for (size_t i = 0; i < ISA_NATOMIC_NAMES; i++) {
		const struct isa_atomic_name *a = &isa_atomic_names[i];
		bool fetch = in->imm == (a->imm | ISA_FETCH) && !(a->imm & ISA_FETCH);

		if (in->imm != a->imm && !fetch)
			continue;
		snprintf(buf, len, "lock %s%s%s %s, %%r%u", fetch ? "fetch " : "", a->name, w, mem,
			 in->src);
		return 1;
	}
	return -EINVAL;
}

static int fmt_mem_insn(const struct isa_insn *in, char *buf, size_t len)
{
	const char *size = isa_size_names[isa_size(in->opcode) >> 3];
	unsigned mode = isa_mode(in->opcode);
	char mem[32], imm[24];

	if (!reg_ok(in->dst))
		return -EINVAL;
	switch (isa_class(in->opcode)) {
	case ISA_LDX:
		if (in->imm || !reg_ok(in->src) ||
		    (mode != ISA_MEM && (mode != ISA_MEMSX || isa_size(in->opcode) == ISA_DW)))
			return -EINVAL;
		fmt_mem(mem, sizeof(mem), in->src, in->off);
		snprintf(buf, len, "ldx%s%s %%r%u, %s", mode == ISA_MEMSX ? "s" : "", size, in->dst,
			 mem);
		return 1;
	case ISA_ST:
		if (mode != ISA_MEM || in->src)
			return -EINVAL;
		fmt_mem(mem, sizeof(mem), in->dst, in->off);
		fmt_imm(imm, sizeof(imm), in->imm);
		snprintf(buf, len, "st%s %s, %s", size, mem, imm);
		return 1;
	default: /* ISA_STX */
		if (!reg_ok(in->src))
			return -EINVAL;
		fmt_mem(mem, sizeof(mem), in->dst, in->off);
		if (mode == ISA_ATOMIC)
			return fmt_atomic(in, mem, buf, len);
		if (mode != ISA_MEM || in->imm)
			return -EINVAL;
		snprintf(buf, len, "stx%s %s, %%r%u", size, mem, in->src);
		return 1;
	}
}

/* Text of insns[pc] with `target` standing for its jump target. */
static int fmt_insn(const struct isa_insn *insns, size_t n, size_t pc, const char *target,
		    char *buf, size_t len)
{
	const struct isa_insn *in = &insns[pc];
	uint64_t word;
	int ret;

	switch (isa_class(in->opcode)) {
	case ISA_ALU:
	case ISA_ALU64:
		ret = fmt_alu(in, buf, len);
		break;
	case ISA_JMP:
	case ISA_JMP32:
		ret = fmt_jmp(in, target, buf, len);
		break;
	case ISA_LD:
		ret = fmt_lddw(insns, n, pc, buf, len);
		break;
	default:
		ret = fmt_mem_insn(in, buf, len);
		break;
	}
	if (ret < 0) {
		memcpy(&word, in, sizeof(word));
		snprintf(buf, len, ".raw 0x%016" PRIx64, word);
	}
	return ret;
}

int isa_disasm_insn(const struct isa_insn *insns, size_t n, size_t pc, char *buf, size_t len)
{
	char target[24] = "";
	int64_t delta;

	if (!insns || pc >= n) {
		if (len)
			buf[0] = '\0';
		return -EINVAL;
	}
	if (jump_delta(&insns[pc], &delta))
		snprintf(target, sizeof(target), "%+" PRId64, delta);
	return fmt_insn(insns, n, pc, target, buf, len);
}

/* Where each instruction starts, which decode, and which are jumped to. */
static void mark_slots(const struct isa_insn *insns, size_t n, uint8_t *mark)
{
	char buf[DISASM_LINE];
	int64_t delta, t;
	size_t pc;
	int ret;

	for (pc = 0; pc<n; pc += ret> 0 ? ret : 1) {
		ret = fmt_insn(insns, n, pc, "", buf, sizeof(buf));
		mark[pc] = DISASM_START | (ret > 0 ? DISASM_VALID : 0);
	}
	for (pc = 0; pc < n; pc++) {
		if (!(mark[pc] & DISASM_VALID) || !jump_delta(&insns[pc], &delta))
			continue;
		t = (int64_t)pc + 1 + delta;
		if (t >= 0 && t < (int64_t)n && (mark[t] & DISASM_START))
			mark[t] |= DISASM_LABEL;
	}
}

char *isa_disassemble(const struct isa_insn *insns, size_t n)
{
	char buf[DISASM_LINE], target[24];
	uint8_t *mark;
	size_t pc, size = 0;
	char *out = NULL;
	int64_t delta, t;
	bool ok = true;
	FILE *f;
	int ret;

	mark = calloc(n ? n : 1, 1);
	if (!mark)
		return NULL;
	f = open_memstream(&out, &size);
	if (!f) {
		free(mark);
		return NULL;
	}
	mark_slots(insns, n, mark);
	for (pc = 0; pc<n; pc += ret> 0 ? ret : 1) {
		target[0] = '\0';
		if (jump_delta(&insns[pc], &delta)) {
			t = (int64_t)pc + 1 + delta;
			if (t >= 0 && t < (int64_t)n && (mark[t] & DISASM_LABEL))
				snprintf(target, sizeof(target), "L%" PRId64, t);
			else
				snprintf(target, sizeof(target), "%+" PRId64, delta);
		}
		ret = fmt_insn(insns, n, pc, target, buf, sizeof(buf));
		if (mark[pc] & DISASM_LABEL)
			ok &= fprintf(f, "L%zu:\n", pc) > 0;
		ok &= fprintf(f, "%s\n", buf) > 0;
	}
	ok &= fclose(f) == 0;
	free(mark);
	if (!ok) {
		free(out);
		return NULL;
	}
	return out;
}
