// SPDX-License-Identifier: MIT
/*
 * Raw bytes shaped into mostly valid programs, for the harnesses that run
 * or verify programs (shape.h).
 */
#include <stdbool.h>
#include <string.h>

#include "isa/isa.h"
#include "shape.h"

static const uint8_t opcodes[] = {
	0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x44, 0x4c, 0x54, 0x5c, 0x64, 0x6c, 0x74,
	0x7c, 0x84, 0x94, 0x9c, 0xa4, 0xac, 0xb4, 0xbc, 0xc4, 0xcc, 0xd4, 0xdc, 0x07, 0x0f, 0x17,
	0x1f, 0x27, 0x2f, 0x37, 0x3f, 0x47, 0x4f, 0x57, 0x5f, 0x67, 0x6f, 0x77, 0x7f, 0x87, 0x97,
	0x9f, 0xa7, 0xaf, 0xb7, 0xbf, 0xc7, 0xcf, 0xd7, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45,
	0x4d, 0x55, 0x5d, 0x65, 0x6d, 0x75, 0x7d, 0xa5, 0xad, 0xb5, 0xbd, 0xc5, 0xcd, 0xd5, 0xdd,
	0x16, 0x1e, 0x26, 0x2e, 0x36, 0x3e, 0x46, 0x4e, 0x56, 0x5e, 0x66, 0x6e, 0x76, 0x7e, 0xa6,
	0xae, 0xb6, 0xbe, 0xc6, 0xce, 0xd6, 0xde, 0x05, 0x06, 0x85, 0x8d, 0x95, 0x61, 0x69, 0x71,
	0x79, 0x81, 0x89, 0x91, 0x62, 0x6a, 0x72, 0x7a, 0x63, 0x6b, 0x73, 0x7b, 0xc3, 0xdb, 0x18,
};

static const int32_t atomic_ops[] = {
	ISA_ADD,
	ISA_OR,
	ISA_AND,
	ISA_XOR,
	ISA_ADD | ISA_FETCH,
	ISA_OR | ISA_FETCH,
	ISA_AND | ISA_FETCH,
	ISA_XOR | ISA_FETCH,
	ISA_XCHG,
	ISA_CMPXCHG,
};

static const int32_t special_imms[] = {0, 1, -1, 2, 7, 8, 16, 31, 32, 63, 64, INT32_MIN, INT32_MAX};

uint64_t fuzz_mix(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	return (a * 0x9e3779b97f4a7c15ull) ^ (b + 3) ^ (c << 7) ^ (d * 31) ^ (e >> 3);
}

static int32_t pick_imm(const uint8_t *b)
{
	int32_t raw;

	switch (b[3] & 3) {
	case 0:
		memcpy(&raw, b + 4, 4);
		return raw;
	case 1:
		return (int8_t)b[4];
	default:
		return special_imms[b[4] % (sizeof(special_imms) / sizeof(special_imms[0]))];
	}
}

#define INSN(op, d, s, o, i) \
	((struct isa_insn){.opcode = (op), .dst = (d), .src = (s), .off = (o), .imm = (i)})

/*
 * A map helper call from 8 bytes at b, in place of a call of mix (nmaps
 * maps): a 4-byte key at fp-8, the map (lddw of fd 0..nmaps-1), for an
 * update a value at fp-16 (flags 0), the call of lookup, update or delete,
 * r1-r5 set again, and after a lookup an access through r0 (mostly
 * null-checked, at offset 0 or any small one, of any size: the verifier
 * must refuse what is out of bounds or unchecked). The slots used, 0
 * without room.
 */
static size_t map_call(const uint8_t *b, struct isa_insn *out, size_t room, unsigned nmaps)
{
	static const uint32_t ids[] = {1, 2, 3, 1}; /* lookup, update, delete */
	static const uint8_t sizes[] = {ISA_B, ISA_H, ISA_W, ISA_DW};
	uint32_t id = ids[b[4] % 4];
	size_t n = 0;

	if (room < 18)
		return 0;
	out[n++] = INSN(ISA_ST | ISA_MEM | ISA_W, ISA_REG_FP, 0, -8, b[5] & 7);
	out[n++] = INSN(ISA_ALU64 | ISA_MOV | ISA_X, 2, ISA_REG_FP, 0, 0);
	out[n++] = INSN(ISA_ALU64 | ISA_ADD | ISA_K, 2, 0, 0, -8);
	out[n++] = INSN(ISA_OP_LDDW, 1, ISA_PSEUDO_MAP_FD, 0, b[6] % nmaps);
	out[n++] = INSN(0, 0, 0, 0, 0);
	if (id == 2) {
		out[n++] = INSN(ISA_ST | ISA_MEM | ISA_DW, ISA_REG_FP, 0, -16, (int8_t)b[7]);
		out[n++] = INSN(ISA_ALU64 | ISA_MOV | ISA_X, 3, ISA_REG_FP, 0, 0);
		out[n++] = INSN(ISA_ALU64 | ISA_ADD | ISA_K, 3, 0, 0, -16);
		out[n++] = INSN(ISA_ALU64 | ISA_MOV | ISA_K, 4, 0, 0, 0);
	}
	out[n++] = INSN(ISA_OP_CALL, 0, 0, 0, (int32_t)id);
	for (uint8_t r = 1; r <= 5; r++)
		out[n++] = INSN(ISA_ALU64 | ISA_MOV | ISA_K, r, 0, 0, r * 11);
	if (id == 1) {
		uint8_t size = sizes[b[2] % 4];
		int16_t off = b[3] & 4 ? (int16_t)((int8_t)b[7] % 40) : 0;

		if (b[3] & 9)
			out[n++] = INSN(ISA_JMP | ISA_JEQ | ISA_K, 0, 0, 1, 0);
		out[n++] = b[3] & 2 ? INSN(ISA_STX | ISA_MEM | size, 0, 3, off, 0)
				    : INSN(ISA_LDX | ISA_MEM | size, 3, 0, off, 0);
	}
	return n;
}

/*
 * One instruction from 8 bytes at b (two slots for lddw; with nmaps, a
 * quarter are map helper calls instead); the slots used. Fields the encoding reserves
 * are left 0 and r10 is never written, so that most programs load; jump
 * targets are fixed by build().
 */
static size_t shape(const uint8_t *b, struct isa_insn *out, size_t room, unsigned nmaps)
{
	uint8_t op = opcodes[b[0] % sizeof(opcodes)];
	uint8_t cls = op & 7, dst = (b[1] & 15) % 11, src = (b[1] >> 4) % 11;
	struct isa_insn in = {.opcode = op, .dst = dst, .src = src};
	bool x = op & ISA_X;

	if (nmaps && b[0] % 4 == 0)
		return map_call(b, out, room, nmaps);
	/* r10 is read only as a memory base, so no pointer to either engine's stack leaks */
	if (in.dst == ISA_REG_FP && cls != ISA_ST && cls != ISA_STX)
		in.dst = 0;
	if (in.src == ISA_REG_FP && cls != ISA_LDX)
		in.src = 0;
	switch (cls) {
	case ISA_LDX:
		in.off = (int8_t)b[2];
		break;
	case ISA_ST:
		in.off = (int8_t)b[2];
		in.src = 0;
		in.imm = pick_imm(b);
		break;
	case ISA_STX:
		in.off = (int8_t)b[2];
		if ((op & 0xe0) == ISA_ATOMIC)
			in.imm = atomic_ops[b[3] % (sizeof(atomic_ops) / sizeof(atomic_ops[0]))];
		break;
	case ISA_JMP:
	case ISA_JMP32:
		in.off = (int16_t)((int8_t)b[2] % 12);
		if (op == (ISA_JMP | ISA_CALL)) {
			in.src = b[3] & 1 ? ISA_CALL_LOCAL : 0;
			in.dst = 0;
			in.imm = in.src ? in.off : b[4] & 7 ? FUZZ_HELPER_MIX : FUZZ_HELPER_UNKNOWN;
			in.off = 0;
		} else if (op == (ISA_JMP | ISA_CALL | ISA_X)) {
			in.src = 0;
			in.off = 0;
		} else if (op == (ISA_JMP | ISA_JA) || op == (ISA_JMP | ISA_EXIT)) {
			in.dst = in.src = 0;
			if (op == (ISA_JMP | ISA_EXIT))
				in.off = 0;
		} else if (op == (ISA_JMP32 | ISA_JA)) {
			in.dst = in.src = 0;
			in.imm = in.off;
			in.off = 0;
		} else {
			in.imm = x ? 0 : pick_imm(b);
			in.src = x ? in.src : 0;
		}
		break;
	case ISA_LD:
		if (room < 2)
			return 0;
		in.src = 0;
		in.imm = pick_imm(b);
		out[0] = in;
		out[1] =
			(struct isa_insn){.imm = (int32_t)(b[5] | b[6] << 8) * (b[7] & 1 ? -1 : 1)};
		return 2;
	default: /* ALU, ALU64 */
		in.imm = x ? 0 : pick_imm(b);
		in.src = x ? in.src : 0;
		if (isa_op(op) == ISA_DIV || isa_op(op) == ISA_MOD)
			in.off = b[2] & 1;
		else if (isa_op(op) == ISA_MOV && x)
			in.off = (int16_t[]){0, 8, 16, 32}[b[2] % (cls == ISA_ALU64 ? 4 : 3)];
		if (isa_op(op) == ISA_END) {
			in.src = 0;
			in.imm = (int32_t[]){16, 32, 64}[b[3] % 3];
		}
		if (isa_op(op) == ISA_NEG)
			in.src = 0, in.imm = 0;
		break;
	}
	out[0] = in;
	return 1;
}

static bool is_jump(const struct isa_insn *in)
{
	uint8_t cls = in->opcode & 7;

	return (cls == ISA_JMP || cls == ISA_JMP32) && in->opcode != (ISA_JMP | ISA_EXIT) &&
	       in->opcode != (ISA_JMP | ISA_CALL | ISA_X) &&
	       !(in->opcode == (ISA_JMP | ISA_CALL) && in->src != ISA_CALL_LOCAL);
}

static size_t build(const uint8_t *data, size_t size, struct isa_insn *p, unsigned nmaps)
{
	bool second[FUZZ_MAX_INSNS] = {false}, local_calls = false;
	size_t n = 0;

	for (; n < ISA_STACK_SIZE / 8; n++)
		p[n] = (struct isa_insn){.opcode = ISA_ST | ISA_MEM | ISA_DW,
					 .dst = ISA_REG_FP,
					 .off = (int16_t)(-8 * (int)(n + 1))};
	/* what the engines start with anyway, written so that the verifier knows it */
	for (uint8_t r = 0; r <= 9; r++)
		if (r != 1 && r != 2)
			p[n++] = (struct isa_insn){.opcode = ISA_ALU64 | ISA_MOV | ISA_K, .dst = r};

	for (size_t i = 0; i + 8 <= size && n + 7 < FUZZ_MAX_INSNS; i += 8) {
		size_t k = shape(data + i, p + n, FUZZ_MAX_INSNS - 7 - n, nmaps);

		if (!k)
			break;
		for (size_t j = n; j < n + k; j++)
			if (p[j].opcode == ISA_OP_LDDW)
				second[++j] = true;
		n += k;
		if (p[n - 1].opcode == (ISA_JMP | ISA_CALL) && p[n - 1].src != ISA_CALL_LOCAL) {
			for (uint8_t r = 1; r <= 5; r++)
				p[n++] = (struct isa_insn){.opcode = ISA_ALU64 | ISA_MOV | ISA_K,
							   .dst = r,
							   .imm = r * 11};
		}
	}
	p[n++] = (struct isa_insn){.opcode = ISA_JMP | ISA_EXIT};
	for (size_t pc = 0; pc < n; pc++) {
		bool by_imm = p[pc].opcode == (ISA_JMP | ISA_CALL) ||
			      p[pc].opcode == (ISA_JMP32 | ISA_JA);
		int64_t t;

		local_calls |= p[pc].opcode == (ISA_JMP | ISA_CALL) && p[pc].src == ISA_CALL_LOCAL;
		if (second[pc] || !is_jump(&p[pc]))
			continue;
		t = (int64_t)pc + 1 + (by_imm ? p[pc].imm : p[pc].off);
		if (t >= 0 && t < (int64_t)n && !second[t])
			continue;
		if (by_imm)
			p[pc].imm = (int32_t)(n - 1 - pc - 1);
		else
			p[pc].off = (int16_t)(n - 1 - pc - 1);
	}
	for (size_t pc = FUZZ_PROLOGUE; local_calls && pc < n; pc++) {
		bool fetch =
			(p[pc].opcode & 0xe7) == (ISA_ATOMIC | ISA_STX) && (p[pc].imm & ISA_FETCH);

		if (second[pc])
			continue;
		if ((p[pc].opcode & 7) == ISA_LDX && p[pc].src == ISA_REG_FP)
			p[pc].src = 1;
		if (fetch && p[pc].dst == ISA_REG_FP)
			p[pc].dst = 1;
	}
	return n;
}

size_t fuzz_build(const uint8_t *data, size_t size, struct isa_insn *p)
{
	return build(data, size, p, 0);
}

size_t fuzz_build_maps(const uint8_t *data, size_t size, struct isa_insn *p, unsigned nmaps)
{
	return build(data, size, p, nmaps);
}
