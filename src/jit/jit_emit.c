// SPDX-License-Identifier: MIT
/*
 * The x86-64 encoder: prefixes, REX, ModRM, SIB and immediates of the
 * instructions the JIT emits. Register numbers 8-15 take a REX bit; the byte
 * registers spl, bpl, sil and dil exist only under a REX prefix (without one
 * their numbers mean ah, ch, dh, bh); rsp and r12 as a base need a SIB byte;
 * rbp and r13 as a base need a displacement, even a zero one, because mod 00
 * with their number means RIP-relative or no base.
 */
#include <string.h>

#include "jit_emit.h"

void jit_emit32(struct jit_buf *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		jit_emit8(b, (uint8_t)(v >> (8 * i)));
}

void jit_emit64(struct jit_buf *b, uint64_t v)
{
	jit_emit32(b, (uint32_t)v);
	jit_emit32(b, (uint32_t)(v >> 32));
}

void jit_patch8(struct jit_buf *b, size_t pos, int8_t v)
{
	if (pos < b->cap)
		b->p[pos] = (uint8_t)v;
}

void jit_patch32(struct jit_buf *b, size_t pos, int32_t v)
{
	if (pos + 4 <= b->cap)
		memcpy(b->p + pos, &v, 4);
}

static bool byte_reg_needs_rex(unsigned reg)
{
	return reg >= X_RSP && reg <= X_RDI;
}

static void prefixes(struct jit_buf *b, unsigned flags, unsigned reg, unsigned index, unsigned rm,
		     bool rm_is_reg)
{
	uint8_t rex = 0;
	bool force = false;

	if (flags & JIT_LOCK)
		jit_emit8(b, 0xf0);
	if (flags & JIT_OP16)
		jit_emit8(b, 0x66);
	if (flags & JIT_W)
		rex |= 8;
	if (reg & 8)
		rex |= 4;
	if (index != X_NOINDEX && (index & 8))
		rex |= 2;
	if (rm & 8)
		rex |= 1;
	if ((flags & JIT_REG8) && byte_reg_needs_rex(reg))
		force = true;
	if ((flags & JIT_RM8) && rm_is_reg && byte_reg_needs_rex(rm))
		force = true;
	if (rex || force)
		jit_emit8(b, 0x40 | rex);
}

static void opcode(struct jit_buf *b, unsigned op)
{
	if (op > 0xff)
		jit_emit8(b, (uint8_t)(op >> 8));
	jit_emit8(b, (uint8_t)op);
}

void jit_rr(struct jit_buf *b, unsigned flags, unsigned op, unsigned reg, unsigned rm)
{
	prefixes(b, flags, reg, X_NOINDEX, rm, true);
	opcode(b, op);
	jit_emit8(b, (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7)));
}

void jit_rm(struct jit_buf *b, unsigned flags, unsigned op, unsigned reg, unsigned base,
	    unsigned index, int32_t disp)
{
	unsigned mod;

	prefixes(b, flags, reg, index, base, false);
	opcode(b, op);
	if (disp == 0 && (base & 7) != X_RBP)
		mod = 0;
	else if (jit_fits8(disp))
		mod = 1;
	else
		mod = 2;
	if (index == X_NOINDEX && (base & 7) != X_RSP) {
		jit_emit8(b, (uint8_t)(mod << 6 | (reg & 7) << 3 | (base & 7)));
	} else {
		/* SIB, scale 1; index 100 without REX.X means none */
		jit_emit8(b, (uint8_t)(mod << 6 | (reg & 7) << 3 | X_RSP));
		jit_emit8(b, (uint8_t)(((index == X_NOINDEX ? X_RSP : index) & 7) << 3 | (base & 7)));
	}
	if (mod == 1)
		jit_emit8(b, (uint8_t)disp);
	else if (mod == 2)
		jit_emit32(b, (uint32_t)disp);
}

void jit_mov_rr(struct jit_buf *b, bool w, unsigned dst, unsigned src)
{
	jit_rr(b, w ? JIT_W : 0, OP_MOV, src, dst);
}

void jit_mov_ri(struct jit_buf *b, unsigned dst, uint64_t k)
{
	if (k == 0) {
		jit_rr(b, 0, OP_XOR, dst, dst);
	} else if (k <= UINT32_MAX) {
		/* mov r32, imm32 zero-extends */
		prefixes(b, 0, 0, X_NOINDEX, dst, true);
		jit_emit8(b, (uint8_t)(0xb8 | (dst & 7)));
		jit_emit32(b, (uint32_t)k);
	} else if (jit_fits32((int64_t)k)) {
		jit_rr(b, JIT_W, 0xc7, 0, dst);
		jit_emit32(b, (uint32_t)k);
	} else {
		prefixes(b, JIT_W, 0, X_NOINDEX, dst, true);
		jit_emit8(b, (uint8_t)(0xb8 | (dst & 7)));
		jit_emit64(b, k);
	}
}

void jit_alu_ri(struct jit_buf *b, bool w, unsigned ext, unsigned dst, int32_t imm)
{
	if (jit_fits8(imm)) {
		jit_rr(b, w ? JIT_W : 0, 0x83, ext, dst);
		jit_emit8(b, (uint8_t)imm);
	} else {
		jit_rr(b, w ? JIT_W : 0, 0x81, ext, dst);
		jit_emit32(b, (uint32_t)imm);
	}
}

void jit_shift_ri(struct jit_buf *b, bool w, unsigned ext, unsigned dst, uint8_t count)
{
	jit_rr(b, w ? JIT_W : 0, 0xc1, ext, dst);
	jit_emit8(b, count);
}

void jit_shift_cl(struct jit_buf *b, bool w, unsigned ext, unsigned dst)
{
	jit_rr(b, w ? JIT_W : 0, 0xd3, ext, dst);
}

void jit_bswap(struct jit_buf *b, bool w, unsigned reg)
{
	prefixes(b, w ? JIT_W : 0, 0, X_NOINDEX, reg, true);
	jit_emit8(b, 0x0f);
	jit_emit8(b, (uint8_t)(0xc8 | (reg & 7)));
}

void jit_push(struct jit_buf *b, unsigned reg)
{
	if (reg & 8)
		jit_emit8(b, 0x41);
	jit_emit8(b, (uint8_t)(0x50 | (reg & 7)));
}

void jit_pop(struct jit_buf *b, unsigned reg)
{
	if (reg & 8)
		jit_emit8(b, 0x41);
	jit_emit8(b, (uint8_t)(0x58 | (reg & 7)));
}

void jit_call_abs(struct jit_buf *b, const void *fn)
{
	jit_mov_ri(b, X_RAX, (uint64_t)(uintptr_t)fn);
	jit_rr(b, 0, 0xff, 2, X_RAX);
}

size_t jit_jump_op(struct jit_buf *b, int cc, bool wide)
{
	if (cc < 0) {
		jit_emit8(b, wide ? 0xe9 : 0xeb);
		return wide ? 5 : 2;
	}
	if (wide) {
		jit_emit8(b, 0x0f);
		jit_emit8(b, (uint8_t)(0x80 | cc));
		return 6;
	}
	jit_emit8(b, (uint8_t)(0x70 | cc));
	return 2;
}

void jit_load32_fs(struct jit_buf *b, unsigned dst, int32_t disp)
{
	jit_emit8(b, 0x64);
	if (dst & 8)
		jit_emit8(b, 0x44);
	jit_emit8(b, 0x8b);
	/* ModRM rm 100 and SIB base 101, index 100, mod 00: [disp32], no base */
	jit_emit8(b, (uint8_t)((dst & 7) << 3 | X_RSP));
	jit_emit8(b, 0x25);
	jit_emit32(b, (uint32_t)disp);
}
