// SPDX-License-Identifier: MIT
/*
 * Structural validation at load: each slot is a known opcode of RFC 9669 with
 * its reserved fields zero and its registers in range; jumps and local calls
 * land on instruction starts inside the program; lddw has its second slot;
 * control cannot run past the last instruction; helpers exist. What this
 * proves, the interpreter does not check again at run time.
 */
#include <errno.h>
#include <stdlib.h>

#include "common/errbuf.h"
#include "vm.h"

#define VM_MAX_INSNS (1u << 20)

struct vcheck {
	const struct uebpf_vm *vm;
	const struct isa_insn *insns;
	size_t n;
	char *err;
	size_t err_len;
};

#define REJECT(c, pc, code, fmt, ...)                                                              \
	do {                                                                                       \
		errbuf_set((c)->err, (c)->err_len, "insn %zu: " fmt, (pc), ##__VA_ARGS__);         \
		return -(code);                                                                    \
	} while (0)

static int field_zero(const struct vcheck *c, size_t pc, const char *field, long value)
{
	if (value)
		REJECT(c, pc, EINVAL, "reserved field %s of opcode 0x%02x must be 0, is %ld",
		       field, c->insns[pc].opcode, value);
	return 0;
}

static int reg_ok(const struct vcheck *c, size_t pc, unsigned reg, bool written)
{
	if (reg >= ISA_NREGS)
		REJECT(c, pc, EINVAL, "invalid register r%u", reg);
	if (written && reg == ISA_REG_FP)
		REJECT(c, pc, EINVAL, "frame pointer r10 is read only");
	return 0;
}

/* Every check below returns early with the first problem it finds. */
#define TRY(expr)                                                                                  \
	do {                                                                                       \
		int _e = (expr);                                                                   \
		if (_e)                                                                            \
			return _e;                                                                 \
	} while (0)

static int check_alu(const struct vcheck *c, size_t pc)
{
	const struct isa_insn *in = &c->insns[pc];
	bool alu64 = isa_class(in->opcode) == ISA_ALU64;
	unsigned op = isa_op(in->opcode);
	bool x = isa_srcbit(in->opcode) == ISA_X;

	TRY(reg_ok(c, pc, in->dst, true));
	if (op == ISA_END) {
		if (alu64 && x)
			REJECT(c, pc, EINVAL, "unknown opcode 0x%02x", in->opcode);
		if (in->imm != 16 && in->imm != 32 && in->imm != 64)
			REJECT(c, pc, EINVAL, "byte swap width must be 16, 32 or 64, is %d",
			       in->imm);
		TRY(field_zero(c, pc, "src", in->src));
		return field_zero(c, pc, "off", in->off);
	}
	if (op == ISA_NEG) {
		if (x)
			REJECT(c, pc, EINVAL, "unknown opcode 0x%02x", in->opcode);
		TRY(field_zero(c, pc, "src", in->src));
		TRY(field_zero(c, pc, "imm", in->imm));
		return field_zero(c, pc, "off", in->off);
	}
	if (op > ISA_END)
		REJECT(c, pc, EINVAL, "unknown opcode 0x%02x", in->opcode);

	if (x) {
		TRY(reg_ok(c, pc, in->src, false));
		TRY(field_zero(c, pc, "imm", in->imm));
	} else {
		TRY(field_zero(c, pc, "src", in->src));
	}
	if (in->off == 0)
		return 0;
	if ((op == ISA_DIV || op == ISA_MOD) && in->off == 1)
		return 0;
	if (op == ISA_MOV && x && (in->off == 8 || in->off == 16 || (alu64 && in->off == 32)))
		return 0;
	REJECT(c, pc, EINVAL, "invalid off %d for opcode 0x%02x", in->off, in->opcode);
}

static int target_ok(const struct vcheck *c, size_t pc, int64_t delta, const uint8_t *second)
{
	int64_t t = (int64_t)pc + 1 + delta;

	if (t < 0 || t >= (int64_t)c->n)
		REJECT(c, pc, EINVAL, "jump out of range to %lld (program has %zu instructions)",
		       (long long)t, c->n);
	if (second[t])
		REJECT(c, pc, EINVAL, "jump into the middle of lddw at %lld", (long long)t);
	return 0;
}

static int check_call(const struct vcheck *c, size_t pc, const uint8_t *second)
{
	const struct isa_insn *in = &c->insns[pc];

	TRY(field_zero(c, pc, "off", in->off));
	if (isa_srcbit(in->opcode) == ISA_X) {
		/* callx: the helper ID is in the register named by dst */
		TRY(reg_ok(c, pc, in->dst, false));
		TRY(field_zero(c, pc, "src", in->src));
		return field_zero(c, pc, "imm", in->imm);
	}
	TRY(field_zero(c, pc, "dst", in->dst));
	switch (in->src) {
	case ISA_CALL_HELPER:
		if (!vm_helper(c->vm, (uint32_t)in->imm))
			REJECT(c, pc, EINVAL, "call to unknown helper %u", (uint32_t)in->imm);
		return 0;
	case ISA_CALL_LOCAL:
		return target_ok(c, pc, in->imm, second);
	case ISA_CALL_KFUNC:
		REJECT(c, pc, EOPNOTSUPP, "kfunc calls are not supported");
	default:
		REJECT(c, pc, EINVAL, "invalid call source %u", in->src);
	}
}

static int check_jmp(const struct vcheck *c, size_t pc, const uint8_t *second)
{
	const struct isa_insn *in = &c->insns[pc];
	bool jmp32 = isa_class(in->opcode) == ISA_JMP32;
	unsigned op = isa_op(in->opcode);
	bool x = isa_srcbit(in->opcode) == ISA_X;

	switch (op) {
	case ISA_JA:
		if (x)
			REJECT(c, pc, EINVAL, "unknown opcode 0x%02x", in->opcode);
		TRY(field_zero(c, pc, "dst", in->dst));
		TRY(field_zero(c, pc, "src", in->src));
		if (jmp32) { /* gotol: the offset is in imm */
			TRY(field_zero(c, pc, "off", in->off));
			return target_ok(c, pc, in->imm, second);
		}
		TRY(field_zero(c, pc, "imm", in->imm));
		return target_ok(c, pc, in->off, second);
	case ISA_CALL:
		if (jmp32)
			break;
		return check_call(c, pc, second);
	case ISA_EXIT:
		if (jmp32 || x)
			break;
		TRY(field_zero(c, pc, "dst", in->dst));
		TRY(field_zero(c, pc, "src", in->src));
		TRY(field_zero(c, pc, "off", in->off));
		return field_zero(c, pc, "imm", in->imm);
	case 0xe0:
	case 0xf0:
		break;
	default:
		TRY(reg_ok(c, pc, in->dst, false));
		if (x) {
			TRY(reg_ok(c, pc, in->src, false));
			TRY(field_zero(c, pc, "imm", in->imm));
		} else {
			TRY(field_zero(c, pc, "src", in->src));
		}
		return target_ok(c, pc, in->off, second);
	}
	REJECT(c, pc, EINVAL, "unknown opcode 0x%02x", in->opcode);
}

static int check_lddw(const struct vcheck *c, size_t pc, const uint8_t *second)
{
	const struct isa_insn *in = &c->insns[pc];
	const struct isa_insn *hi = in + 1;

	if (pc + 1 >= c->n)
		REJECT(c, pc, EINVAL, "incomplete lddw: the program ends after its first slot");
	TRY(reg_ok(c, pc, in->dst, true));
	TRY(field_zero(c, pc, "off", in->off));
	if (hi->opcode || hi->dst || hi->src || hi->off)
		REJECT(c, pc, EINVAL, "incomplete lddw: its second slot must be zero but for imm");
	switch (in->src) {
	case ISA_PSEUDO_IMM64:
	case ISA_PSEUDO_MAP_VALUE: /* hi->imm: offset into the value, checked at binding */
	case ISA_PSEUDO_MAP_IDX_VALUE:
		return 0;
	case ISA_PSEUDO_MAP_FD:
	case ISA_PSEUDO_MAP_IDX:
		return field_zero(c, pc, "imm of the second slot", hi->imm);
	case ISA_PSEUDO_BTF_ID:
		REJECT(c, pc, EOPNOTSUPP,
		       "lddw of a kernel symbol (BPF_PSEUDO_BTF_ID) is not supported");
	case ISA_PSEUDO_FUNC: /* imm: the function's first instruction, relative as in calls */
		if (!c->vm->engine->call_sub)
			REJECT(c, pc, EOPNOTSUPP,
			       "lddw of a callback function (BPF_PSEUDO_FUNC): the %s engine cannot "
			       "call back into a program",
			       c->vm->engine->name);
		TRY(field_zero(c, pc, "imm of the second slot", hi->imm));
		return target_ok(c, pc, in->imm, second);
	default:
		REJECT(c, pc, EINVAL, "invalid lddw pseudo source %u", in->src);
	}
}

static int check_mem(const struct vcheck *c, size_t pc)
{
	const struct isa_insn *in = &c->insns[pc];
	unsigned cls = isa_class(in->opcode), mode = isa_mode(in->opcode);

	switch (cls) {
	case ISA_LDX:
		if (mode != ISA_MEM && !(mode == ISA_MEMSX && isa_size(in->opcode) != ISA_DW))
			break;
		TRY(reg_ok(c, pc, in->dst, true));
		TRY(reg_ok(c, pc, in->src, false));
		return field_zero(c, pc, "imm", in->imm);
	case ISA_ST:
		if (mode != ISA_MEM)
			break;
		TRY(reg_ok(c, pc, in->dst, false));
		return field_zero(c, pc, "src", in->src);
	case ISA_STX:
		TRY(reg_ok(c, pc, in->dst, false));
		TRY(reg_ok(c, pc, in->src, false));
		if (mode == ISA_MEM)
			return field_zero(c, pc, "imm", in->imm);
		if (mode != ISA_ATOMIC)
			break;
		if (isa_size(in->opcode) != ISA_W && isa_size(in->opcode) != ISA_DW)
			REJECT(c, pc, EINVAL, "atomic operations are 32 or 64 bit only");
		switch (in->imm) {
		case ISA_ADD:
		case ISA_OR:
		case ISA_AND:
		case ISA_XOR:
		case ISA_ADD | ISA_FETCH:
		case ISA_OR | ISA_FETCH:
		case ISA_AND | ISA_FETCH:
		case ISA_XOR | ISA_FETCH:
		case ISA_XCHG:
		case ISA_CMPXCHG:
			return 0;
		default:
			REJECT(c, pc, EINVAL, "unknown atomic operation 0x%x", in->imm);
		}
	}
	REJECT(c, pc, EINVAL, "unknown opcode 0x%02x", in->opcode);
}

static bool falls_through(const struct isa_insn *in)
{
	if (in->opcode == ISA_OP_EXIT)
		return false;
	if (isa_is_jmp(in->opcode) && isa_op(in->opcode) == ISA_JA)
		return false;
	return true;
}

int vm_validate(const struct uebpf_vm *vm, const struct isa_insn *insns, size_t n, char *err,
		size_t err_len)
{
	struct vcheck c = {vm, insns, n, err, err_len};
	uint8_t *second;
	size_t pc;
	int ret = 0;

	if (n == 0) {
		errbuf_set(err, err_len, "program has no instructions");
		return -EINVAL;
	}
	if (n > VM_MAX_INSNS) {
		errbuf_set(err, err_len, "program has %zu instructions, more than the limit of %u",
			   n, VM_MAX_INSNS);
		return -E2BIG;
	}
	/* Mark second slots of lddw first, so jumps can be checked against them. */
	second = calloc(n, 1);
	if (!second) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	for (pc = 0; pc + 1 < n; pc++) {
		if (insns[pc].opcode == ISA_OP_LDDW)
			second[++pc] = 1;
	}

	for (pc = 0; pc < n && !ret; pc++) {
		uint8_t opcode = insns[pc].opcode;

		if (second[pc])
			continue;
		switch (isa_class(opcode)) {
		case ISA_ALU:
		case ISA_ALU64:
			ret = check_alu(&c, pc);
			break;
		case ISA_JMP:
		case ISA_JMP32:
			ret = check_jmp(&c, pc, second);
			break;
		case ISA_LD:
			if (opcode == ISA_OP_LDDW)
				ret = check_lddw(&c, pc, second);
			else if (isa_mode(opcode) == ISA_ABS || isa_mode(opcode) == ISA_IND) {
				errbuf_set(err, err_len,
					   "insn %zu: legacy packet access (opcode 0x%02x) is not "
					   "supported",
					   pc, opcode);
				ret = -EOPNOTSUPP;
			} else {
				errbuf_set(err, err_len, "insn %zu: unknown opcode 0x%02x", pc,
					   opcode);
				ret = -EINVAL;
			}
			break;
		default:
			ret = check_mem(&c, pc);
			break;
		}
	}
	if (!ret && (second[n - 1] || falls_through(&insns[n - 1]))) {
		errbuf_set(err, err_len,
			   "insn %zu: control falls off the end of the program (last "
			   "instruction is not exit or ja)",
			   n - 1);
		ret = -EINVAL;
	}
	free(second);
	return ret;
}
