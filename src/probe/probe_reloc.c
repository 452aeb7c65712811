// SPDX-License-Identifier: MIT
/*
 * Moving instructions: the bytes a patch displaces run again in the site's
 * page, so every operand that depends on where an instruction sits is
 * rewritten for its new address (Capstone decodes; the rewriting is by
 * opcode, for the forms that occur):
 *
 * - RIP-relative memory operands get a new disp32 to the same target;
 * - jmp rel8/rel32 become jmp rel32, jcc rel8/rel32 become jcc rel32;
 * - a call whose return address lies past the patched bytes (the call is
 *   then the last displaced instruction) becomes a push of that original
 *   return address and a jmp to the callee, as the kernel's uprobes
 *   emulate calls: the callee returns into the function itself, so an
 *   unwinder or a debugger walking the stack from inside the callee finds
 *   the function's own return address and unwind information, not the
 *   page's (a C++ exception through it would otherwise terminate). An
 *   indirect call through memory addressed by rsp, or one whose return
 *   address falls inside the patch, stays a call (returning into the page,
 *   which then goes on as the function would);
 * - jrcxz/loop/loopcc (rel8 only) become "op +2; jmp +5; jmp rel32";
 * - anything else relative (xbegin...), a target out of rel32 reach from the
 *   page, a branch into the displaced bytes themselves, or code that ends
 *   (ret, jmp, undecodable) before enough bytes are covered, is refused.
 *
 * Each rewritten RIP-relative instruction is decoded again at its new
 * address and its target compared with the original's, so a wrong guess of
 * where the displacement sits can only refuse, never corrupt.
 */
#include <capstone/capstone.h>
#include <errno.h>
#include <string.h>

#include "common/errbuf.h"
#include "probe_internal.h"

static bool fits_rel32(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

static void put32(uint8_t *p, int32_t v)
{
	memcpy(p, &v, 4);
}

static bool is_prefix(uint8_t b)
{
	switch (b) {
	case 0xf0:
	case 0xf2:
	case 0xf3:
	case 0x2e:
	case 0x36:
	case 0x3e:
	case 0x26:
	case 0x64:
	case 0x65:
	case 0x66:
	case 0x67:
		return true;
	default:
		return false;
	}
}

static int64_t rip_target(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;

	for (unsigned i = 0; i < x->op_count; i++) {
		if (x->operands[i].type == X86_OP_MEM && x->operands[i].mem.base == X86_REG_RIP)
			return (int64_t)(in->address + in->size) + x->operands[i].mem.disp;
	}
	return 0;
}

static bool has_rip_operand(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;

	for (unsigned i = 0; i < x->op_count; i++) {
		if (x->operands[i].type == X86_OP_MEM && x->operands[i].mem.base == X86_REG_RIP)
			return true;
	}
	return false;
}

static bool in_group(const cs_insn *in, uint8_t g)
{
	for (unsigned i = 0; i < in->detail->groups_count; i++) {
		if (in->detail->groups[i] == g)
			return true;
	}
	return false;
}

/* The target of a relative branch: its last operand, an immediate Capstone made absolute. */
static int64_t branch_target(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;

	return x->op_count ? x->operands[x->op_count - 1].imm : 0;
}

struct reloc_state {
	csh cs;
	uintptr_t lo, hi; /* the displaced original bytes */
	size_t patch;	  /* bytes the patch overwrites at lo */
	uint8_t *out;
	size_t len;
	uintptr_t dst;
	char *why;
	size_t why_len;
};

static int refuse(struct reloc_state *st, const cs_insn *in, const char *reason)
{
	errbuf_set(st->why, st->why_len, "%s %s at +%zu: %s", in->mnemonic, in->op_str,
		   (size_t)(in->address - st->lo), reason);
	return -EOPNOTSUPP;
}

/* Emits op + rel32 to target, from the current output position. */
static int emit_rel(struct reloc_state *st, const cs_insn *in, const uint8_t *op, size_t op_len,
		    int64_t target)
{
	int64_t rel = target - (int64_t)(st->dst + st->len + op_len + 4);

	if (!fits_rel32(rel))
		return refuse(st, in, "target out of rel32 reach of the trampoline");
	memcpy(st->out + st->len, op, op_len);
	put32(st->out + st->len + op_len, (int32_t)rel);
	st->len += op_len + 4;
	return 0;
}

static int reloc_rip(struct reloc_state *st, const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;
	int64_t target = rip_target(in), disp = x->disp;
	uintptr_t at = st->dst + st->len;
	uint8_t *o = st->out + st->len;
	int32_t old = (int32_t)disp;
	cs_insn *check;
	size_t n, pos = 0;

	if (target > (int64_t)st->lo && target < (int64_t)st->hi)
		return refuse(st, in, "refers to the displaced bytes");
	/* disp32 follows a ModRM with mod 00, rm 101; find the one Capstone reported */
	for (size_t p = 1; p + 4 <= in->size; p++) {
		if (in->bytes[p - 1] == x->modrm && (x->modrm & 0xc7) == 0x05 &&
		    !memcmp(in->bytes + p, &old, 4)) {
			pos = p;
			break;
		}
	}
	if (!pos)
		return refuse(st, in, "RIP-relative displacement not found");
	if (!fits_rel32(target - (int64_t)(at + in->size)))
		return refuse(st, in, "target out of rel32 reach of the trampoline");
	memcpy(o, in->bytes, in->size);
	put32(o + pos, (int32_t)(target - (int64_t)(at + in->size)));
	n = cs_disasm(st->cs, o, in->size, at, 1, &check);
	if (n != 1 || check[0].size != in->size || rip_target(&check[0]) != target) {
		if (n)
			cs_free(check, n);
		return refuse(st, in, "relocated form does not decode to the same target");
	}
	cs_free(check, n);
	st->len += in->size;
	return 0;
}

/* push $ret as a 64-bit value: push imm32, then the upper half over its sign extension. */
static void emit_push_ret(struct reloc_state *st, uint64_t ret)
{
	uint8_t *o = st->out + st->len;

	o[0] = 0x68;
	put32(o + 1, (int32_t)(uint32_t)ret);
	o[5] = 0xc7, o[6] = 0x44, o[7] = 0x24, o[8] = 0x04; /* movl $imm32, 4(%rsp) */
	put32(o + 9, (int32_t)(uint32_t)(ret >> 32));
	st->len += 13;
}

/*
 * An indirect call (FF /2) emulated: the original return address pushed, then
 * the same operand jumped through (FF /4). *done is false when it stays a call.
 */
static int emulate_indirect_call(struct reloc_state *st, const cs_insn *in, size_t op_at,
				 bool *done)
{
	const cs_x86_op *o = &in->detail->x86.operands[0];
	uint8_t modrm = in->detail->x86.modrm;

	*done = false;
	if ((modrm & 0x38) != 0x10 || in->detail->x86.op_count != 1 ||
	    (o->type == X86_OP_MEM && o->mem.base == X86_REG_RSP))
		return 0;
	*done = true;
	emit_push_ret(st, in->address + in->size);
	if (o->type == X86_OP_MEM && o->mem.base == X86_REG_RIP)
		return emit_rel(st, in, (const uint8_t[]){0xff, 0x25}, 2, rip_target(in));
	memcpy(st->out + st->len, in->bytes, in->size);
	st->out[st->len + op_at + 1] = (uint8_t)((modrm & ~0x38) | 0x20);
	st->len += in->size;
	return 0;
}

static int reloc_insn(struct reloc_state *st, const cs_insn *in, bool *ends)
{
	size_t i = 0;
	uint8_t op, op2;
	int64_t target;

	*ends = false;
	while (i < in->size && is_prefix(in->bytes[i]))
		i++;
	if (i < in->size && (in->bytes[i] & 0xf0) == 0x40)
		i++;
	if (i >= in->size)
		return refuse(st, in, "no opcode");
	op = in->bytes[i];
	op2 = i + 1 < in->size ? in->bytes[i + 1] : 0;
	if (in_group(in, CS_GRP_BRANCH_RELATIVE) || in_group(in, CS_GRP_CALL) ||
	    in_group(in, CS_GRP_JUMP)) {
		target = branch_target(in);
		if (op == 0xeb || op == 0xe9 || op == 0xe8 || (op >= 0x70 && op <= 0x7f) ||
		    (op == 0x0f && op2 >= 0x80 && op2 <= 0x8f) || (op >= 0xe0 && op <= 0xe3)) {
			if (in->detail->x86.addr_size != 8)
				return refuse(st, in, "32-bit address size");
			if (target > (int64_t)st->lo && target < (int64_t)st->hi)
				return refuse(st, in, "branches into the displaced bytes");
		}
		if (op == 0xeb || op == 0xe9) {
			*ends = true;
			return emit_rel(st, in, (const uint8_t[]){0xe9}, 1, target);
		}
		/* a call's return address past the patch: the callee returns into the function */
		if (op == 0xe8 && in->address + in->size >= st->lo + st->patch) {
			*ends = true;
			emit_push_ret(st, in->address + in->size);
			return emit_rel(st, in, (const uint8_t[]){0xe9}, 1, target);
		}
		if (op == 0xe8)
			return emit_rel(st, in, (const uint8_t[]){0xe8}, 1, target);
		if (op == 0xff && in_group(in, CS_GRP_CALL) &&
		    in->address + in->size >= st->lo + st->patch) {
			bool done;
			int ret = emulate_indirect_call(st, in, i, &done);

			if (done) {
				*ends = true;
				return ret;
			}
		}
		if (op >= 0x70 && op <= 0x7f)
			return emit_rel(st, in,
					(const uint8_t[]){0x0f, (uint8_t)(0x80 + op - 0x70)}, 2,
					target);
		if (op == 0x0f && op2 >= 0x80 && op2 <= 0x8f)
			return emit_rel(st, in, (const uint8_t[]){0x0f, op2}, 2, target);
		if (op >= 0xe0 && op <= 0xe3)
			return emit_rel(st, in, (const uint8_t[]){op, 0x02, 0xeb, 0x05, 0xe9}, 5,
					target);
		if (in_group(in, CS_GRP_BRANCH_RELATIVE))
			return refuse(st, in, "relative branch of a form that cannot move");
		/* indirect: through a register, or memory (RIP-relative handled below) */
		*ends = in_group(in, CS_GRP_JUMP) && !in_group(in, CS_GRP_CALL);
	}
	if (in_group(in, CS_GRP_RET) || op == 0xcc || (op == 0x0f && op2 == 0x0b))
		*ends = true; /* ret, int3, ud2: the code may end here */
	if (has_rip_operand(in))
		return reloc_rip(st, in);
	memcpy(st->out + st->len, in->bytes, in->size);
	st->len += in->size;
	return 0;
}

int probe_relocate(const uint8_t *code, uintptr_t addr, size_t avail, size_t min, uintptr_t dst,
		   struct probe_reloc *out, char *why, size_t why_len)
{
	struct reloc_state st = {.lo = addr,
				 .patch = min,
				 .out = out->code,
				 .dst = dst,
				 .why = why,
				 .why_len = why_len};
	const uint8_t *p = code;
	uint64_t at = addr;
	size_t left = avail > PROBE_DISPLACED_MAX ? PROBE_DISPLACED_MAX : avail, covered = 0;
	cs_insn *in;
	int ret = 0;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &st.cs) != CS_ERR_OK) {
		errbuf_set(why, why_len, "Capstone cannot open an x86-64 decoder");
		return -ENOMEM;
	}
	cs_option(st.cs, CS_OPT_DETAIL, CS_OPT_ON);
	in = cs_malloc(st.cs);
	if (!in) {
		cs_close(&st.cs);
		errbuf_set(why, why_len, "out of memory");
		return -ENOMEM;
	}
	/* first pass: how many bytes are displaced, so branches into them are seen */
	while (covered < min && cs_disasm_iter(st.cs, &p, &left, &at, in))
		covered += in->size;
	if (covered < min) {
		errbuf_set(why, why_len, "the code ends or cannot be decoded within %zu bytes",
			   min);
		ret = -EOPNOTSUPP;
		goto out;
	}
	st.hi = addr + covered;
	p = code;
	at = addr;
	left = covered;
	while (!ret && cs_disasm_iter(st.cs, &p, &left, &at, in)) {
		bool ends;

		ret = reloc_insn(&st, in, &ends);
		if (!ret && ends && at < st.hi)
			ret = refuse(&st, in, "the function may end before the patch does");
	}
	if (!ret) {
		ret = emit_rel(&st, in, (const uint8_t[]){0xe9}, 1, (int64_t)st.hi);
		out->len = st.len;
		out->orig_len = covered;
	}
out:
	cs_free(in, 1);
	cs_close(&st.cs);
	return ret;
}

bool probe_branches_into(uintptr_t start, uintptr_t end, uintptr_t addr, size_t len)
{
	const uint8_t *p = (const uint8_t *)start;
	size_t left = end - start;
	uint64_t at = start;
	bool hit = false;
	cs_insn *in;
	csh cs;

	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK)
		return true;
	cs_option(cs, CS_OPT_DETAIL, CS_OPT_ON);
	in = cs_malloc(cs);
	while (in && !hit && left) {
		int64_t t = 0;

		if (!cs_disasm_iter(cs, &p, &left, &at, in)) {
			/* data or padding inside the function: step over a byte */
			p++, left--, at++;
			continue;
		}
		if (in_group(in, CS_GRP_BRANCH_RELATIVE))
			t = branch_target(in);
		else if (has_rip_operand(in))
			t = rip_target(in);
		hit = t > (int64_t)addr && t < (int64_t)(addr + len);
	}
	if (in)
		cs_free(in, 1);
	else
		hit = true;
	cs_close(&cs);
	return hit;
}
