// SPDX-License-Identifier: MIT
/*
 * Finding the syscall sites of a mapping of code that can be rewritten.
 *
 * The code is decoded by linear sweep (Capstone), which on x86-64 ELF text
 * from gcc or clang meets no data (jump tables live in .rodata); bytes that
 * do not decode are stepped over and the next instruction counts as a
 * possible branch target.
 *
 * A site is a syscall instruction (0f 05) and the whole instructions right
 * before it that make at least 5 bytes, the length of the jmp rel32 that
 * replaces them; the syscall itself stays, so a branch to it, or a thread
 * the kernel rewinds onto it to restart a call, still runs it (and SUD
 * traps it). The displaced instructions must be:
 * - plain: no branch, call, return, interrupt, syscall, nop (padding
 *   before a function that is only reached indirectly) or endbr64;
 *   RIP-relative operands are fine, they are relocated; so is a
 *   conditional jump out of the displaced bytes (glibc's read and write
 *   test for cancellation right before the syscall: "test; jne; syscall");
 * - entered only at the first: no instruction but the first may be a
 *   possible branch target. Possible targets are the direct branch targets
 *   of the mapping, endbr64 (the landing pads of indirect branches) and
 *   whatever follows a ret, jmp, hlt or ud2 (reached only by a branch:
 *   a function that is called only through a pointer, in code built
 *   without CET). Not seen: the entries of a jump table that fall through
 *   from the case before (no such site in glibc).
 * The trampoline clobbers the arithmetic flags before the real syscall, so
 * a site must also be followed by code that writes them before reading
 * them (or returns, or calls: the ABI leaves flags dead there); glibc's
 * "cmp $-4095, %rax" after each syscall is the common case.
 */
#define _GNU_SOURCE
#include <capstone/capstone.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/errbuf.h"
#include "syshook_internal.h"

enum {
	K_PLAIN,
	K_BARRIER, /* cannot be displaced */
	K_UNCOND,  /* ret, jmp, hlt, ud2: a barrier, and what follows is a possible target */
	K_SYSCALL,
	K_CALL, /* flags are dead across it */
	K_RET,
	K_JMP_REL, /* jmp to target */
	K_JCC,	   /* a conditional jump to target: displaceable, as a jcc rel32 */
};

struct ins {
	uintptr_t addr;
	uintptr_t target; /* K_JMP_REL, K_JCC */
	uint8_t len;
	uint8_t kind;
	uint8_t disp_pos;
};

/* A syscall instruction and the (up to 8) instructions right before it. */
struct rec {
	struct ins prev[8];
	unsigned n_prev;
	struct ins sys;
};

struct scan {
	csh csd; /* with details: for the few instructions looked at closely */
	cs_insn *in;
	uintptr_t lo, hi;
	uint8_t *targets; /* bitmap of possible branch targets, by offset from lo */
	bool marking;	  /* still sweeping: classify marks targets */
	struct rec *recs;
	size_t n, cap;
};

static void mark_target(struct scan *s, uintptr_t a)
{
	if (s->marking && a >= s->lo && a < s->hi)
		s->targets[(a - s->lo) / 8] |= (uint8_t)(1u << ((a - s->lo) % 8));
}

static bool is_target(const struct scan *s, uintptr_t a)
{
	return s->targets[(a - s->lo) / 8] & (1u << ((a - s->lo) % 8));
}

/* The six status flags: OF SF ZF PF CF AF, as bit 0..5. */
static const uint64_t flag_test[6] = {
	X86_EFLAGS_TEST_OF, X86_EFLAGS_TEST_SF, X86_EFLAGS_TEST_ZF,
	X86_EFLAGS_TEST_PF, X86_EFLAGS_TEST_CF, X86_EFLAGS_TEST_AF,
};
static const uint64_t flag_write[6] = {
	X86_EFLAGS_MODIFY_OF | X86_EFLAGS_RESET_OF | X86_EFLAGS_SET_OF | X86_EFLAGS_UNDEFINED_OF,
	X86_EFLAGS_MODIFY_SF | X86_EFLAGS_RESET_SF | X86_EFLAGS_SET_SF | X86_EFLAGS_UNDEFINED_SF,
	X86_EFLAGS_MODIFY_ZF | X86_EFLAGS_RESET_ZF | X86_EFLAGS_SET_ZF | X86_EFLAGS_UNDEFINED_ZF,
	X86_EFLAGS_MODIFY_PF | X86_EFLAGS_RESET_PF | X86_EFLAGS_SET_PF | X86_EFLAGS_UNDEFINED_PF,
	X86_EFLAGS_MODIFY_CF | X86_EFLAGS_RESET_CF | X86_EFLAGS_SET_CF | X86_EFLAGS_UNDEFINED_CF,
	X86_EFLAGS_MODIFY_AF | X86_EFLAGS_RESET_AF | X86_EFLAGS_SET_AF | X86_EFLAGS_UNDEFINED_AF,
};

/* Instructions that read flags whether or not Capstone's table says so. */
static bool reads_flags_by_name(const char *m)
{
	static const char *const prefixes[] = {"cmov", "set", "adc", "sbb", "pushf",
					       "lahf", "rcl", "rcr", "into"};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		if (!strncmp(m, prefixes[i], strlen(prefixes[i])))
			return true;
	}
	return m[0] == 'j' && strcmp(m, "jmp");
}

/*
 * The target of a direct branch (jmp, jcc, call, loop), from its bytes:
 * the sweep decodes without Capstone's details, which cost most of its
 * time.
 */
static bool rel_target(const cs_insn *in, uintptr_t *t)
{
	const uint8_t *b = in->bytes;
	size_t n = in->size, p = 0;
	int32_t rel32;
	int64_t rel;

	/* bnd, notrack and branch-hint prefixes, REX */
	while (p < n && (b[p] == 0xf2 || b[p] == 0x3e || b[p] == 0x2e || (b[p] & 0xf0) == 0x40))
		p++;
	if (p + 2 == n &&
	    (b[p] == 0xeb || (b[p] & 0xf0) == 0x70 || (b[p] >= 0xe0 && b[p] <= 0xe3))) {
		rel = (int8_t)b[p + 1];
	} else if (p + 5 == n && (b[p] == 0xe9 || b[p] == 0xe8)) {
		memcpy(&rel32, b + p + 1, 4);
		rel = rel32;
	} else if (p + 6 == n && b[p] == 0x0f && (b[p + 1] & 0xf0) == 0x80) {
		memcpy(&rel32, b + p + 2, 4);
		rel = rel32;
	} else {
		return false;
	}
	*t = (uintptr_t)((int64_t)(in->address + n) + rel);
	return true;
}

static bool is_jcc(unsigned id)
{
	switch (id) {
	case X86_INS_JA:
	case X86_INS_JAE:
	case X86_INS_JB:
	case X86_INS_JBE:
	case X86_INS_JE:
	case X86_INS_JG:
	case X86_INS_JGE:
	case X86_INS_JL:
	case X86_INS_JLE:
	case X86_INS_JNE:
	case X86_INS_JNO:
	case X86_INS_JNP:
	case X86_INS_JNS:
	case X86_INS_JO:
	case X86_INS_JP:
	case X86_INS_JS:
		return true;
	}
	return false;
}

static bool is_endbr(const cs_insn *in)
{
	return in->id == X86_INS_ENDBR64 ||
	       (in->size == 4 && !memcmp(in->bytes, "\xf3\x0f\x1e\xfa", 4));
}

static void classify(struct scan *s, const cs_insn *in, struct ins *o)
{
	uintptr_t t = 0;
	bool direct = rel_target(in, &t);

	o->addr = in->address;
	o->len = (uint8_t)in->size;
	o->disp_pos = 0;
	o->target = t;
	switch (in->id) {
	case X86_INS_SYSCALL:
		o->kind = K_SYSCALL;
		break;
	case X86_INS_JMP:
		o->kind = direct ? K_JMP_REL : K_UNCOND;
		break;
	case X86_INS_CALL:
	case X86_INS_LCALL:
		o->kind = K_CALL;
		break;
	case X86_INS_RET:
	case X86_INS_RETF:
	case X86_INS_RETFQ:
		o->kind = K_RET;
		break;
	case X86_INS_LJMP:
	case X86_INS_HLT:
	case X86_INS_UD0:
	case X86_INS_UD2:
	case X86_INS_UD2B:
	case X86_INS_INT3:
	case X86_INS_IRET:
	case X86_INS_IRETD:
	case X86_INS_IRETQ:
	case X86_INS_SYSRET:
	case X86_INS_SYSEXIT:
		o->kind = K_UNCOND;
		break;
	case X86_INS_JCXZ:
	case X86_INS_JECXZ:
	case X86_INS_JRCXZ:
	case X86_INS_LOOP:
	case X86_INS_LOOPE:
	case X86_INS_LOOPNE:
	case X86_INS_INT:
	case X86_INS_INT1:
	case X86_INS_INTO:
	case X86_INS_NOP:
	case X86_INS_SYSENTER:
	case X86_INS_XBEGIN:
	case X86_INS_XABORT:
	case X86_INS_XEND:
		o->kind = K_BARRIER;
		break;
	default:
		if (is_jcc(in->id))
			o->kind = direct ? K_JCC : K_BARRIER;
		else
			o->kind = is_endbr(in) ? K_BARRIER : K_PLAIN;
		break;
	}
	if (direct)
		mark_target(s, t);
	if (is_endbr(in))
		mark_target(s, in->address);
	if (o->kind == K_UNCOND || o->kind == K_RET || o->kind == K_JMP_REL)
		mark_target(s, in->address + in->size);
}

/* Decodes the instruction at a with details into s->in; false if it does not decode. */
static bool decode_detail(const struct scan *s, uintptr_t a)
{
	const uint8_t *code = (const uint8_t *)a;
	size_t size = s->hi - a;
	uint64_t addr = a;

	return cs_disasm_iter(s->csd, &code, &size, &addr, s->in);
}

/*
 * May the plain instruction at index k move? Finds the disp32 of a
 * RIP-relative operand (after a ModRM with mod 00, rm 101) into disp_pos.
 */
static bool movable(const struct scan *s, struct ins *o)
{
	const cs_x86 *x;

	if (!decode_detail(s, o->addr))
		return false;
	x = &s->in->detail->x86;
	for (unsigned i = 0; i < x->op_count; i++) {
		int32_t d = (int32_t)x->disp;

		if (x->operands[i].type != X86_OP_MEM || x->operands[i].mem.base != X86_REG_RIP)
			continue;
		for (size_t p = 1; p + 4 <= s->in->size; p++) {
			if (s->in->bytes[p - 1] == x->modrm && (x->modrm & 0xc7) == 0x05 &&
			    !memcmp(s->in->bytes + p, &d, 4)) {
				o->disp_pos = (uint8_t)p;
				return true;
			}
		}
		return false;
	}
	return true;
}

/* The status flags the instruction at a reads and writes, as bits; false if it does not decode. */
static bool flags_of(const struct scan *s, uintptr_t a, uint8_t *rd, uint8_t *wr)
{
	uint64_t fl;

	if (!decode_detail(s, a))
		return false;
	fl = s->in->detail->x86.eflags;
	*rd = reads_flags_by_name(s->in->mnemonic) ? 0x3f : 0;
	*wr = 0;
	for (int f = 0; f < 6; f++) {
		if (fl & flag_test[f])
			*rd |= (uint8_t)(1u << f);
		if (fl & flag_write[f])
			*wr |= (uint8_t)(1u << f);
	}
	return true;
}

/* Are the status flags dead after the syscall at sys (written before any is read)? */
static bool flags_dead_after(struct scan *s, uintptr_t sys)
{
	uintptr_t a = sys + 2;
	uint8_t live = 0x3f;

	for (int steps = 0; steps < 16 && a >= s->lo && a < s->hi; steps++) {
		uint8_t rd, wr;
		struct ins o;

		if (!flags_of(s, a, &rd, &wr) || (rd & live))
			return false;
		live &= (uint8_t)~wr;
		classify(s, s->in, &o);
		if (!live || o.kind == K_RET || o.kind == K_CALL)
			return true;
		if (o.kind != K_PLAIN && o.kind != K_SYSCALL && o.kind != K_JMP_REL)
			return false;
		a = o.kind == K_JMP_REL ? o.target : a + o.len;
	}
	return false;
}

/* The displaced instructions before the syscall of r, into site; false if there are none. */
static bool make_site(struct scan *s, struct rec *r, struct sh_site *site)
{
	size_t total = 0, k = 0;
	long j = (long)r->n_prev - 1;

	while (total < 5) {
		struct ins *in;

		if (j < 0)
			return false;
		in = &r->prev[j];
		if ((in->kind != K_PLAIN && in->kind != K_JCC) ||
		    in->addr + in->len != (k ? r->prev[j + 1].addr : r->sys.addr) ||
		    (in->kind == K_PLAIN && !movable(s, in)))
			return false;
		/* the one included before this becomes an inner instruction */
		if (k && is_target(s, r->prev[j + 1].addr))
			return false;
		total += in->len;
		k++;
		j--;
	}
	if (total > SH_DISPLACED_MAX || !flags_dead_after(s, r->sys.addr))
		return false;
	/* a conditional jump must leave the displaced bytes (its target stays where it is) */
	for (size_t m = r->n_prev - k; m < r->n_prev; m++) {
		const struct ins *in = &r->prev[m];

		if (in->kind == K_JCC && in->target > r->sys.addr - total &&
		    in->target < r->sys.addr)
			return false;
	}
	memset(site, 0, sizeof(*site));
	site->sys = r->sys.addr;
	site->start = r->sys.addr - total;
	site->n_insn = (uint8_t)k;
	for (size_t m = 0; m < k; m++) {
		const struct ins *in = &r->prev[r->n_prev - k + m];

		site->insn_len[m] = in->len;
		site->disp_pos[m] = in->disp_pos;
		site->jcc_target[m] = in->kind == K_JCC ? in->target : 0;
	}
	memcpy(site->orig, (const void *)site->start, total);
	return true;
}

static int push_rec(struct scan *s, const struct ins *ring, unsigned n_ring, size_t head,
		    const struct ins *sys)
{
	struct rec *r;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		struct rec *nr = realloc(s->recs, cap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		s->recs = nr;
		s->cap = cap;
	}
	r = &s->recs[s->n++];
	r->n_prev = n_ring;
	for (unsigned m = 0; m < n_ring; m++)
		r->prev[m] = ring[(head + 8 - n_ring + m) % 8];
	r->sys = *sys;
	return 0;
}

long sh_scan_code(uintptr_t lo, uintptr_t hi, struct sh_site **sites, struct sh_scan_stats *st,
		  char *err, size_t err_len)
{
	struct scan s = {.lo = lo, .hi = hi, .marking = true};
	struct ins ring[8];
	unsigned n_ring = 0;
	size_t head = 0;
	struct sh_site *out = NULL;
	const uint8_t *code = (const uint8_t *)lo;
	size_t size = hi - lo, n_out = 0, cap_out = 0;
	uint64_t addr = lo;
	cs_insn *in = NULL;
	long ret = 0;
	csh cs, csd;

	*sites = NULL;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
		errbuf_set(err, err_len, "cannot open the Capstone decoder");
		return -ENOMEM;
	}
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &csd) != CS_ERR_OK) {
		cs_close(&cs);
		errbuf_set(err, err_len, "cannot open the Capstone decoder");
		return -ENOMEM;
	}
	cs_option(csd, CS_OPT_DETAIL, CS_OPT_ON);
	s.targets = calloc((hi - lo) / 8 + 1, 1);
	in = cs_malloc(cs);
	s.csd = csd;
	s.in = cs_malloc(csd);
	if (!s.targets || !in || !s.in) {
		ret = -ENOMEM;
		goto out;
	}
	while (size) {
		struct ins o;

		if (!cs_disasm_iter(cs, &code, &size, &addr, in)) {
			/* undecodable: step over a byte; what follows may be entered anywhere */
			code++, size--, addr++;
			mark_target(&s, addr);
			o.addr = addr - 1, o.len = 1, o.kind = K_BARRIER, o.disp_pos = 0,
			o.target = 0;
		} else {
			classify(&s, in, &o);
		}
		if (o.kind == K_SYSCALL) {
			ret = push_rec(&s, ring, n_ring, head, &o);
			if (ret)
				goto out;
		}
		/* the last 8 instructions, head the next slot */
		ring[head] = o;
		head = (head + 1) % 8;
		n_ring = n_ring < 8 ? n_ring + 1 : 8;
	}
	s.marking = false;
	for (size_t i = 0; i < s.n; i++) {
		struct sh_site site;

		st->syscalls++;
		if (!make_site(&s, &s.recs[i], &site))
			continue;
		if (n_out == cap_out) {
			size_t cap = cap_out ? 2 * cap_out : 64;
			struct sh_site *no = realloc(out, cap * sizeof(*no));

			if (!no) {
				ret = -ENOMEM;
				goto out;
			}
			out = no;
			cap_out = cap;
		}
		out[n_out++] = site;
	}
	st->sites += n_out;
	*sites = out;
	out = NULL;
	ret = (long)n_out;
out:
	if (ret == -ENOMEM)
		errbuf_set(err, err_len, "out of memory scanning code at 0x%lx", (unsigned long)lo);
	free(out);
	free(s.targets);
	free(s.recs);
	if (in)
		cs_free(in, 1);
	if (s.in)
		cs_free(s.in, 1);
	cs_close(&cs);
	cs_close(&csd);
	return ret;
}
