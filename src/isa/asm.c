// SPDX-License-Identifier: MIT
/*
 * The assembler. One pass over the lines encodes every instruction; a jump
 * to a label records a fixup, because the label may come later. At the end
 * the labels are sorted, which finds duplicates and lets each fixup be
 * resolved by binary search, so hostile input with many labels stays
 * O(n log n).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asm.h"
#include "common/errbuf.h"
#include "names.h"

/* `lock fetch add32 [%r1+2], %r3` is the longest form: five tokens. */
#define ASM_MAX_TOKENS 6

/* Which field of the jumping instruction holds the offset to its target. */
enum asm_field {
	ASM_FIELD_OFF, /* 16 bits: ja, conditional jumps */
	ASM_FIELD_IMM, /* 32 bits: ja32 (gotol), call local */
};

struct asm_label {
	const char *name;
	size_t slot;
	unsigned line;
};

struct asm_fixup {
	const char *name;
	size_t slot;
	unsigned line;
	enum asm_field field;
};

struct asm_ctx {
	struct isa_insn *insns;
	size_t n, cap;
	struct asm_label *labels;
	size_t nlabels, labels_cap;
	struct asm_fixup *fixups;
	size_t nfixups, fixups_cap;
	unsigned line;
	char *err;
	size_t err_len;
};

/* A number as written: sign, base and magnitude, ranges checked by the caller. */
struct asm_num {
	bool neg;
	bool hex;
	uint64_t mag;
};

__attribute__((format(printf, 3, 4))) static int fail(struct asm_ctx *c, int code, const char *fmt,
						      ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errbuf_set(c->err, c->err_len, "line %u: %s", c->line, msg);
	return code;
}

static int grow(struct asm_ctx *c, void **arr, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap ? *cap : 16;
	void *p;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / size)
			return fail(c, -ENOMEM, "out of memory");
		ncap *= 2;
	}
	p = realloc(*arr, ncap * size);
	if (!p)
		return fail(c, -ENOMEM, "out of memory");
	*arr = p;
	*cap = ncap;
	return 0;
}

static int emit(struct asm_ctx *c, uint8_t opcode, uint8_t dst, uint8_t src, int16_t off,
		int32_t imm)
{
	int ret = grow(c, (void **)&c->insns, &c->cap, c->n + 1, sizeof(*c->insns));

	if (ret)
		return ret;
	c->insns[c->n++] =
		(struct isa_insn){.opcode = opcode, .dst = dst, .src = src, .off = off, .imm = imm};
	return 0;
}

/* Decimal or 0x hex, optionally signed; -ERANGE past 64 bits. */
static int parse_num(const char *s, struct asm_num *num)
{
	unsigned base = 10;

	*num = (struct asm_num){0};
	if (*s == '-' || *s == '+')
		num->neg = *s++ == '-';
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		num->hex = true;
		base = 16;
		s += 2;
	}
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned d;

		if (isdigit((unsigned char)*s))
			d = *s - '0';
		else if (base == 16 && isxdigit((unsigned char)*s))
			d = tolower((unsigned char)*s) - 'a' + 10;
		else
			return -EINVAL;
		if (num->mag > (UINT64_MAX - d) / base)
			return -ERANGE;
		num->mag = num->mag * base + d;
	}
	return 0;
}

/* A signed value in [-limit, limit - 1], e.g. an offset of 16 bits. */
static int parse_signed(struct asm_ctx *c, const char *s, uint64_t limit, const char *what,
			int64_t *out)
{
	struct asm_num v;
	int ret = parse_num(s, &v);

	if (ret == -EINVAL)
		return fail(c, -EINVAL, "invalid %s %.64s", what, s);
	if (ret || v.mag > (v.neg ? limit : limit - 1))
		return fail(c, -ERANGE, "%s %.64s out of range [-%llu, %llu]", what, s,
			    (unsigned long long)limit, (unsigned long long)limit - 1);
	*out = v.neg ? -(int64_t)v.mag : (int64_t)v.mag;
	return 0;
}

/*
 * A 32-bit immediate: decimal within int32, hex up to 0xffffffff (its bit
 * pattern), negative hex down to -0x80000000.
 */
static int parse_imm32(struct asm_ctx *c, const char *s, int32_t *out)
{
	struct asm_num v;
	int ret = parse_num(s, &v);
	uint64_t max;

	if (ret == -EINVAL)
		return fail(c, -EINVAL, "invalid immediate %.64s", s);
	max = v.neg ? 0x80000000u : v.hex ? 0xffffffffu : 0x7fffffffu;
	if (ret || v.mag > max)
		return fail(c, -ERANGE, "immediate %.64s out of 32-bit range", s);
	*out = (int32_t)(uint32_t)(v.neg ? 0 - v.mag : v.mag);
	return 0;
}

/* The 64-bit immediate of lddw: any 64-bit pattern, or a negative value down to INT64_MIN. */
static int parse_imm64(struct asm_ctx *c, const char *s, uint64_t *out)
{
	struct asm_num v;
	int ret = parse_num(s, &v);

	if (ret == -EINVAL)
		return fail(c, -EINVAL, "invalid immediate %.64s", s);
	if (ret || (v.neg && v.mag > (uint64_t)1 << 63))
		return fail(c, -ERANGE, "immediate %.64s out of 64-bit range", s);
	*out = v.neg ? 0 - v.mag : v.mag;
	return 0;
}

static bool is_reg(const char *s)
{
	return s[0] == '%';
}

static int parse_reg(struct asm_ctx *c, const char *s, uint8_t *reg)
{
	const char *p = s + 2;
	unsigned v = 0;

	if (s[0] != '%' || s[1] != 'r' || !isdigit((unsigned char)*p) || (p[0] == '0' && p[1]))
		return fail(c, -EINVAL, "invalid register %.64s", s);
	while (isdigit((unsigned char)*p) && v < ISA_NREGS)
		v = v * 10 + (*p++ - '0');
	if (*p || v >= ISA_NREGS)
		return fail(c, -EINVAL, "invalid register %.64s", s);
	*reg = v;
	return 0;
}

/* [%rN], [%rN+off] or [%rN-off]; the tokenizer has removed any spaces. */
static int parse_mem(struct asm_ctx *c, const char *s, uint8_t *reg, int16_t *off)
{
	size_t len = strlen(s);
	char buf[64];
	char *sign;
	int64_t v = 0;
	int ret;

	if (len < 2 || len >= sizeof(buf) || s[0] != '[' || s[len - 1] != ']')
		return fail(c, -EINVAL, "invalid memory operand %.64s, expected [%%rN+offset]", s);
	memcpy(buf, s + 1, len - 2);
	buf[len - 2] = '\0';
	sign = strpbrk(buf, "+-");
	if (sign) {
		ret = parse_signed(c, sign, 1u << 15, "offset", &v);
		if (ret)
			return ret;
		*sign = '\0';
	}
	ret = parse_reg(c, buf, reg);
	if (ret)
		return ret;
	*off = (int16_t)v;
	return 0;
}

static bool is_label_name(const char *s, size_t len)
{
	if (!len || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.')
			return false;
	}
	return true;
}

/*
 * A jump target: `+N`/`-N` relative to the next slot, or a label that the
 * final pass resolves into the field of the instruction about to be emitted.
 */
static int parse_target(struct asm_ctx *c, const char *s, enum asm_field field, int32_t *rel)
{
	int64_t v;
	int ret;

	if (s[0] == '+' || s[0] == '-') {
		ret = parse_signed(c, s, field == ASM_FIELD_OFF ? 1u << 15 : 1u << 31,
				   "jump offset", &v);
		*rel = (int32_t)v;
		return ret;
	}
	if (!is_label_name(s, strlen(s)))
		return fail(c, -EINVAL, "invalid jump target %.64s, expected a label or +N/-N", s);
	ret = grow(c, (void **)&c->fixups, &c->fixups_cap, c->nfixups + 1, sizeof(*c->fixups));
	if (ret)
		return ret;
	c->fixups[c->nfixups++] = (struct asm_fixup){s, c->n, c->line, field};
	*rel = 0;
	return 0;
}

static int operands(struct asm_ctx *c, const char *mnemonic, int nops, int want)
{
	if (nops != want)
		return fail(c, -EINVAL, "invalid number of operands for %.32s: expected %d, got %d",
			    mnemonic, want, nops);
	return 0;
}

/* `name` or `name32`: the base name's length and whether it has the suffix. */
static size_t base_len(const char *name, bool *is32)
{
	size_t len = strlen(name);

	*is32 = len > 2 && !strcmp(name + len - 2, "32");
	return *is32 ? len - 2 : len;
}

static int table_index(const char *const *table, int n, const char *name, size_t len)
{
	for (int i = 0; i < n; i++) {
		if (table[i] && strlen(table[i]) == len && !strncmp(table[i], name, len))
			return i;
	}
	return -1;
}

static int asm_alu(struct asm_ctx *c, const char *name, char **ops, int nops, bool *found)
{
	bool is32, sx = false;
	size_t len = base_len(name, &is32);
	uint8_t cls = is32 ? ISA_ALU : ISA_ALU64;
	uint8_t dst, src = 0;
	int32_t imm = 0;
	int op, ret;

	/* sdiv and smod are div and mod with off 1 */
	if (len == 4 && (!strncmp(name, "sdiv", 4) || !strncmp(name, "smod", 4))) {
		sx = true;
		name++;
		len--;
	}
	op = table_index(isa_alu_names, 16, name, len);
	*found = op >= 0;
	if (!*found)
		return 0;
	op <<= 4;
	if (op == ISA_NEG)
		return operands(c, name, nops, 1) ?: parse_reg(c, ops[0], &dst)
			?: emit(c, cls | ISA_NEG, dst, 0, 0, 0);
	ret = operands(c, sx ? name - 1 : name, nops, 2) ?: parse_reg(c, ops[0], &dst);
	if (ret)
		return ret;
	if (is_reg(ops[1])) {
		cls |= ISA_X;
		ret = parse_reg(c, ops[1], &src);
	} else {
		ret = parse_imm32(c, ops[1], &imm);
	}
	return ret ?: emit(c, cls | op, dst, src, sx, imm);
}

static int asm_movsx(struct asm_ctx *c, const char *name, char **ops, int nops, bool *found)
{
	static const struct {
		const char *name;
		uint8_t cls;
		int16_t off;
	} forms[] = {
		{"movsx864", ISA_ALU64, 8},   {"movsx1664", ISA_ALU64, 16},
		{"movsx3264", ISA_ALU64, 32}, {"movsx832", ISA_ALU, 8},
		{"movsx1632", ISA_ALU, 16},
	};
	uint8_t dst, src;

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		if (strcmp(name, forms[i].name))
			continue;
		*found = true;
		return operands(c, name, nops, 2) ?: parse_reg(c, ops[0], &dst)
			?: parse_reg(c, ops[1], &src)
			?: emit(c, forms[i].cls | ISA_MOV | ISA_X, dst, src, forms[i].off, 0);
	}
	return 0;
}

static int asm_endian(struct asm_ctx *c, const char *name, char **ops, int nops, bool *found)
{
	static const struct {
		const char *prefix;
		uint8_t opcode;
	} forms[] = {
		{"le", ISA_ALU | ISA_END | ISA_K},
		{"be", ISA_ALU | ISA_END | ISA_X},
		{"bswap", ISA_ALU64 | ISA_END | ISA_K},
		{"swap", ISA_ALU64 | ISA_END | ISA_K},
	};
	uint8_t dst;

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		size_t plen = strlen(forms[i].prefix);
		const char *width = name + plen;

		if (strncmp(name, forms[i].prefix, plen) ||
		    (strcmp(width, "16") && strcmp(width, "32") && strcmp(width, "64")))
			continue;
		*found = true;
		return operands(c, name, nops, 1) ?: parse_reg(c, ops[0], &dst)
			?: emit(c, forms[i].opcode, dst, 0, 0, atoi(width));
	}
	return 0;
}

/* The size suffix after a prefix (`ldx` + `dw`), or -1. */
static int size_after(const char *name, const char *prefix)
{
	size_t plen = strlen(prefix);

	if (strncmp(name, prefix, plen))
		return -1;
	name += plen;
	return table_index(isa_size_names, 4, name, strlen(name));
}

static int asm_mem(struct asm_ctx *c, const char *name, char **ops, int nops, bool *found)
{
	uint8_t dst, src;
	int16_t off;
	int32_t imm;
	int size;

	size = size_after(name, "ldxs");
	if (size >= 0 && (size << 3) != ISA_DW) {
		*found = true;
		return operands(c, name, nops, 2) ?: parse_reg(c, ops[0], &dst)
			?: parse_mem(c, ops[1], &src, &off)
			?: emit(c, ISA_LDX | ISA_MEMSX | size << 3, dst, src, off, 0);
	}
	size = size_after(name, "ldx");
	if (size >= 0) {
		*found = true;
		return operands(c, name, nops, 2) ?: parse_reg(c, ops[0], &dst)
			?: parse_mem(c, ops[1], &src, &off)
			?: emit(c, ISA_LDX | ISA_MEM | size << 3, dst, src, off, 0);
	}
	size = size_after(name, "stx");
	if (size >= 0) {
		*found = true;
		return operands(c, name, nops, 2) ?: parse_mem(c, ops[0], &dst, &off)
			?: parse_reg(c, ops[1], &src)
			?: emit(c, ISA_STX | ISA_MEM | size << 3, dst, src, off, 0);
	}
	size = size_after(name, "st");
	if (size >= 0) {
		*found = true;
		return operands(c, name, nops, 2) ?: parse_mem(c, ops[0], &dst, &off)
			?: parse_imm32(c, ops[1], &imm)
			?: emit(c, ISA_ST | ISA_MEM | size << 3, dst, 0, off, imm);
	}
	return 0;
}

/* lock [fetch] OP[32] [%rD+off], %rS */
static int asm_lock(struct asm_ctx *c, char **ops, int nops)
{
	bool fetch = nops > 0 && !strcmp(ops[0], "fetch");
	uint8_t dst, src;
	int16_t off;
	size_t len;
	bool is32;
	int ret;

	if (fetch) {
		ops++;
		nops--;
	}
	if (nops != 3)
		return fail(c, -EINVAL,
			    "invalid number of operands for lock: expected [fetch] OPERATION "
			    "[%%rN+offset], %%rM");
	len = base_len(ops[0], &is32);
	for (size_t i = 0; i < ISA_NATOMIC_NAMES; i++) {
		const struct isa_atomic_name *a = &isa_atomic_names[i];

		if (strlen(a->name) != len || strncmp(a->name, ops[0], len))
			continue;
		ret = parse_mem(c, ops[1], &dst, &off) ?: parse_reg(c, ops[2], &src);
		return ret
			       ?: emit(c, ISA_STX | ISA_ATOMIC | (is32 ? ISA_W : ISA_DW), dst, src,
				       off, a->imm | (fetch ? ISA_FETCH : 0));
	}
	return fail(c, -EINVAL, "invalid atomic operation %.32s", ops[0]);
}

static int asm_call(struct asm_ctx *c, char **ops, int nops)
{
	int32_t imm;
	uint8_t reg;

	if (nops == 2 && !strcmp(ops[0], "local"))
		return parse_target(c, ops[1], ASM_FIELD_IMM, &imm)
			       ?: emit(c, ISA_OP_CALL, 0, ISA_CALL_LOCAL, 0, imm);
	if (nops != 1 || !strcmp(ops[0], "local"))
		return fail(
			c, -EINVAL,
			"invalid number of operands for call: expected ID, local LABEL or %%rN");
	if (is_reg(ops[0]))
		return parse_reg(c, ops[0], &reg) ?: emit(c, ISA_OP_CALLX, reg, 0, 0, 0);
	return parse_imm32(c, ops[0], &imm) ?: emit(c, ISA_OP_CALL, 0, ISA_CALL_HELPER, 0, imm);
}

static int asm_jump(struct asm_ctx *c, const char *name, char **ops, int nops, bool *found)
{
	bool is32;
	size_t len = base_len(name, &is32);
	uint8_t cls = is32 ? ISA_JMP32 : ISA_JMP;
	uint8_t dst, src = 0;
	int32_t imm = 0, rel;
	int op, ret;

	op = table_index(isa_jmp_names, 16, name, len);
	if (op < 0 || op << 4 == ISA_CALL || op << 4 == ISA_EXIT)
		return 0;
	*found = true;
	op <<= 4;
	if (op == ISA_JA) {
		ret = operands(c, name, nops, 1);
		if (ret)
			return ret;
		if (is32) /* gotol: its offset is in imm */
			return parse_target(c, ops[0], ASM_FIELD_IMM, &rel)
				       ?: emit(c, ISA_JMP32 | ISA_JA, 0, 0, 0, rel);
		return parse_target(c, ops[0], ASM_FIELD_OFF, &rel)
			       ?: emit(c, ISA_JMP | ISA_JA, 0, 0, (int16_t)rel, 0);
	}
	ret = operands(c, name, nops, 3) ?: parse_reg(c, ops[0], &dst);
	if (ret)
		return ret;
	if (is_reg(ops[1])) {
		cls |= ISA_X;
		ret = parse_reg(c, ops[1], &src);
	} else {
		ret = parse_imm32(c, ops[1], &imm);
	}
	return ret ?: parse_target(c, ops[2], ASM_FIELD_OFF, &rel)
		?: emit(c, cls | op, dst, src, (int16_t)rel, imm);
}

static int asm_insn(struct asm_ctx *c, char **tok, int ntok)
{
	const char *name = tok[0];
	char **ops = tok + 1;
	int nops = ntok - 1;
	bool found = false;
	uint64_t imm64 = 0;
	uint8_t dst;
	int ret;

	if (!strcmp(name, "exit"))
		return operands(c, name, nops, 0) ?: emit(c, ISA_OP_EXIT, 0, 0, 0, 0);
	if (!strcmp(name, "call"))
		return asm_call(c, ops, nops);
	if (!strcmp(name, "lock"))
		return asm_lock(c, ops, nops);
	if (!strcmp(name, "lddw")) {
		ret = operands(c, name, nops, 2) ?: parse_reg(c, ops[0], &dst)
			?: parse_imm64(c, ops[1], &imm64);
		return ret ?: emit(c, ISA_OP_LDDW, dst, 0, 0, (int32_t)(uint32_t)imm64)
			?: emit(c, 0, 0, 0, 0, (int32_t)(uint32_t)(imm64 >> 32));
	}
	ret = asm_jump(c, name, ops, nops, &found);
	if (found || ret)
		return ret;
	ret = asm_alu(c, name, ops, nops, &found);
	if (found || ret)
		return ret;
	ret = asm_movsx(c, name, ops, nops, &found);
	if (found || ret)
		return ret;
	ret = asm_endian(c, name, ops, nops, &found);
	if (found || ret)
		return ret;
	ret = asm_mem(c, name, ops, nops, &found);
	if (found || ret)
		return ret;
	if (!strcmp(name, ".raw"))
		return fail(c, -EINVAL,
			    ".raw marks a slot the disassembler could not decode; it does not "
			    "assemble");
	return fail(c, -EINVAL, "invalid mnemonic %.32s", name);
}

/*
 * Split a line (comment already cut) into tokens at spaces and commas, in
 * place. A memory operand is one token even when written `[%r1 + 4]`: its
 * inner spaces are squeezed out.
 */
static int tokenize(struct asm_ctx *c, char *p, char **tok, int *ntok)
{
	*ntok = 0;
	for (;;) {
		while (*p && (isspace((unsigned char)*p) || *p == ','))
			p++;
		if (!*p)
			return 0;
		if (*ntok == ASM_MAX_TOKENS)
			return fail(c, -EINVAL, "too many operands");
		tok[(*ntok)++] = p;
		if (*p == '[') {
			char *w = p;

			while (*p && *p != ']') {
				if (!isspace((unsigned char)*p))
					*w++ = *p;
				p++;
			}
			if (!*p)
				return fail(c, -EINVAL, "missing ] in memory operand");
			*w++ = *p++;
			if (*p && !isspace((unsigned char)*p) && *p != ',')
				return fail(c, -EINVAL,
					    "unexpected text after ] in memory operand");
			/* w <= p, so this ends the token without losing unread text */
			if (*p)
				p++;
			*w = '\0';
			continue;
		}
		while (*p && !isspace((unsigned char)*p) && *p != ',')
			p++;
		if (*p)
			*p++ = '\0';
	}
}

static int add_label(struct asm_ctx *c, char *name, size_t len)
{
	int ret;

	if (!is_label_name(name, len))
		return fail(c, -EINVAL, "invalid label name %.*s", (int)(len > 64 ? 64 : len),
			    name);
	name[len] = '\0';
	ret = grow(c, (void **)&c->labels, &c->labels_cap, c->nlabels + 1, sizeof(*c->labels));
	if (ret)
		return ret;
	c->labels[c->nlabels++] = (struct asm_label){name, c->n, c->line};
	return 0;
}

static int asm_line(struct asm_ctx *c, char *line)
{
	char *tok[ASM_MAX_TOKENS];
	char *hash = strchr(line, '#');
	int ntok, ret;
	size_t len;

	if (hash)
		*hash = '\0';
	ret = tokenize(c, line, tok, &ntok);
	if (ret || !ntok)
		return ret;
	len = strlen(tok[0]);
	if (tok[0][len - 1] != ':')
		return asm_insn(c, tok, ntok);
	ret = add_label(c, tok[0], len - 1);
	if (ret || ntok == 1)
		return ret;
	return asm_insn(c, tok + 1, ntok - 1);
}

/* Sort by name, and among equal names by line, so a duplicate is the later one. */
static int label_cmp(const void *a, const void *b)
{
	const struct asm_label *x = a, *y = b;
	int d = strcmp(x->name, y->name);

	return d ? d : (x->line > y->line) - (x->line < y->line);
}

static int label_find(const void *key, const void *elem)
{
	return strcmp(key, ((const struct asm_label *)elem)->name);
}

/* `exit` names the first exit instruction unless the program defines it. */
static bool first_exit(const struct asm_ctx *c, size_t *slot)
{
	for (size_t i = 0; i < c->n; i++) {
		if (c->insns[i].opcode == ISA_OP_EXIT) {
			*slot = i;
			return true;
		}
		if (c->insns[i].opcode == ISA_OP_LDDW)
			i++;
	}
	return false;
}

static int resolve(struct asm_ctx *c)
{
	if (c->nlabels)
		qsort(c->labels, c->nlabels, sizeof(*c->labels), label_cmp);
	for (size_t i = 1; i < c->nlabels; i++) {
		if (!strcmp(c->labels[i - 1].name, c->labels[i].name)) {
			c->line = c->labels[i].line;
			return fail(c, -EEXIST, "duplicate label %.64s (first defined on line %u)",
				    c->labels[i].name, c->labels[i - 1].line);
		}
	}
	for (size_t i = 0; i < c->nfixups; i++) {
		const struct asm_fixup *f = &c->fixups[i];
		const struct asm_label *l = NULL;
		int64_t limit = f->field == ASM_FIELD_OFF ? INT16_MAX : INT32_MAX;
		int64_t delta;
		size_t target;

		if (c->nlabels)
			l = bsearch(f->name, c->labels, c->nlabels, sizeof(*l), label_find);
		c->line = f->line;
		if (l)
			target = l->slot;
		else if (strcmp(f->name, "exit") || !first_exit(c, &target))
			return fail(c, -ENOENT, "undefined label %.64s", f->name);
		delta = (int64_t)target - (int64_t)f->slot - 1;
		if (delta > limit || delta < -limit - 1)
			return fail(c, -ERANGE, "jump to %.64s out of range (offset %lld)", f->name,
				    (long long)delta);
		if (f->field == ASM_FIELD_OFF)
			c->insns[f->slot].off = (int16_t)delta;
		else
			c->insns[f->slot].imm = (int32_t)delta;
	}
	return 0;
}

int isa_assemble(const char *text, struct isa_insn **insns, size_t *n, char *err, size_t err_len)
{
	struct asm_ctx c = {.err = err, .err_len = err_len};
	char *copy, *line, *next;
	int ret = 0;

	*insns = NULL;
	*n = 0;
	if (!text) {
		errbuf_set(err, err_len, "no program text");
		return -EINVAL;
	}
	/* Tokens point into this copy until the labels are resolved. */
	copy = strdup(text);
	if (!copy) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	for (line = copy; line && !ret; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		c.line++;
		ret = asm_line(&c, line);
	}
	if (!ret)
		ret = resolve(&c);
	free(copy);
	free(c.labels);
	free(c.fixups);
	if (ret) {
		free(c.insns);
		return ret;
	}
	*insns = c.insns;
	*n = c.n;
	return 0;
}
