// SPDX-License-Identifier: MIT
/*
 * Unit tests of the assembler and disassembler: every conformance program
 * survives assemble -> disassemble -> assemble bit for bit; lddw.data's
 * -- raw equals its -- asm; exact encodings of the less common forms; every
 * malformed input gives an error naming its line; and random slots either
 * round-trip exactly or make the re-assembly fail (never silently differ).
 *
 * Usage: test_isa CONFORMANCE_DIR (holding tests/ and negative/)
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "isa/asm.h"
#include "testfile.h"

/* Opcodes the conformance programs use: the random test draws mostly from them. */
static uint8_t seen_opcodes[256];
static int nseen;

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long len;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (len = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET)) {
		buf = malloc(len + 1);
		if (buf && fread(buf, 1, len, f) == (size_t)len) {
			buf[len] = '\0';
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

static bool parse_file(const char *path, struct cli_testfile *tf)
{
	char *text = read_text(path);
	char err[256];
	int ret;

	EXPECT(text, "%s: cannot read", path);
	if (!text)
		return false;
	ret = cli_testfile_parse(text, tf, err, sizeof(err));
	free(text);
	EXPECT(!ret, "%s: %s", path, err);
	return !ret;
}

/* assemble(disassemble(insns)) == insns; with a message naming the program on failure. */
static bool round_trip(const char *what, const struct isa_insn *insns, size_t n)
{
	struct isa_insn *back;
	char err[256];
	size_t nback;
	char *text = isa_disassemble(insns, n);
	bool same;

	if (!text)
		return false;
	if (isa_assemble(text, &back, &nback, err, sizeof(err))) {
		printf("%s: the disassembly does not assemble: %s\n%s", what, err, text);
		free(text);
		return false;
	}
	same = nback == n && (!n || !memcmp(back, insns, n * sizeof(*insns)));
	if (!same)
		printf("%s: the round trip changed the program:\n%s", what, text);
	free(back);
	free(text);
	return same;
}

static bool all_valid(const struct isa_insn *insns, size_t n)
{
	char line[128];
	int ret;

	for (size_t pc = 0; pc < n; pc += ret) {
		ret = isa_disasm_insn(insns, n, pc, line, sizeof(line));
		if (ret < 0)
			return false;
	}
	return true;
}

static void note_opcodes(const struct isa_insn *insns, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (memchr(seen_opcodes, insns[i].opcode, nseen) || !insns[i].opcode)
			continue;
		seen_opcodes[nseen++] = insns[i].opcode;
	}
}

static int data_filter(const struct dirent *de)
{
	size_t len = strlen(de->d_name);

	return len > 5 && !strcmp(de->d_name + len - 5, ".data");
}

static void test_conformance_round_trip(const char *dir)
{
	char path[4096], err[256];
	struct dirent **names;
	int nfiles = scandir(dir, &names, data_filter, alphasort);
	int programs = 0;

	EXPECT(nfiles > 0, "%s: no .data files", dir);
	for (int i = 0; i < nfiles; i++) {
		struct cli_testfile tf;
		struct isa_insn *insns;
		size_t n;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		free(names[i]);
		if (!parse_file(path, &tf))
			continue;
		if (tf.asm_text) {
			int ret = isa_assemble(tf.asm_text, &insns, &n, err, sizeof(err));

			EXPECT(!ret && n, "%s: %s", path, ret ? err : "no instructions");
			if (!ret) {
				EXPECT(all_valid(insns, n), "%s: a slot does not disassemble",
				       path);
				EXPECT(round_trip(path, insns, n), "%s: round trip", path);
				note_opcodes(insns, n);
				programs++;
				free(insns);
			}
		}
		cli_testfile_free(&tf);
	}
	if (nfiles > 0)
		free(names);
	printf("round trip of %d conformance programs in %s\n", programs, dir);
}

static void test_lddw_raw(const char *dir)
{
	char path[4096], err[256];
	struct cli_testfile tf;
	struct isa_insn *insns;
	size_t n;

	snprintf(path, sizeof(path), "%s/lddw.data", dir);
	if (!parse_file(path, &tf))
		return;
	EXPECT(tf.has_raw && tf.asm_text, "lddw.data has both -- raw and -- asm");
	if (tf.asm_text && !isa_assemble(tf.asm_text, &insns, &n, err, sizeof(err))) {
		EXPECT(n == tf.nraw && !memcmp(insns, tf.raw, n * sizeof(*insns)),
		       "lddw.data: -- raw (%zu slots) differs from -- asm (%zu slots)", tf.nraw, n);
		free(insns);
	}
	cli_testfile_free(&tf);
	printf("lddw.data: -- raw equals the assembled -- asm\n");
}

/* The assembler cases of the negative suite: each must be an assembler error. */
static void test_negative_files(const char *dir)
{
	static const char *const cases[] = {
		"invalid_imm32_dec_range", "invalid_imm32_hex_range",
		"invalid_label",	   "invalid_lock",
		"invalid_lock2",	   "invalid_mnemonic",
		"invalid_offset",	   "invalid_offset_range",
		"invalid_operand_count",   "invalid_register",
	};
	char path[4096], err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cli_testfile tf;
		struct isa_insn *insns;
		size_t n;
		int ret;

		snprintf(path, sizeof(path), "%s/%s.data", dir, cases[i]);
		if (!parse_file(path, &tf))
			continue;
		err[0] = '\0';
		ret = tf.asm_text ? isa_assemble(tf.asm_text, &insns, &n, err, sizeof(err)) : 0;
		EXPECT(ret < 0 && !strncmp(err, "line ", 5), "%s: expected an assembler error",
		       cases[i]);
		if (!ret && tf.asm_text)
			free(insns);
		printf("negative %s: %s\n", cases[i], err);
		cli_testfile_free(&tf);
	}
}

static void expect_error(const char *text, int want_ret, const char *want_msg)
{
	/* not NULL, nor n 0: a failing isa_assemble must reset both */
	struct isa_insn *insns = (struct isa_insn *)&insns;
	char err[256] = "";
	size_t n = 1;
	int ret = isa_assemble(text, &insns, &n, err, sizeof(err));

	EXPECT(ret == want_ret && strstr(err, want_msg) && !insns && !n,
	       "assembling \"%s\": got %d \"%s\", expected %d \"%s\"", text, ret, err, want_ret,
	       want_msg);
	if (!ret)
		free(insns);
}

static void test_errors(void)
{
	expect_error("or %r0, %r50\nexit", -EINVAL, "line 1: invalid register %r50");
	expect_error("mov %r11, 1", -EINVAL, "invalid register %r11");
	expect_error("mov %r01, 1", -EINVAL, "invalid register %r01");
	expect_error("mov r1, 1", -EINVAL, "invalid register r1");
	expect_error("mov32 %r0, 2147483648", -ERANGE, "out of 32-bit range");
	expect_error("mov32 %r0, -2147483649", -ERANGE, "out of 32-bit range");
	expect_error("mov32 %r0, 0x100000000", -ERANGE, "out of 32-bit range");
	expect_error("mov32 %r0, -0x80000001", -ERANGE, "out of 32-bit range");
	expect_error("mov %r0, 99999999999999999999999", -ERANGE, "out of 32-bit range");
	expect_error("mov %r0, 12abc", -EINVAL, "invalid immediate 12abc");
	expect_error("mov %r0, 0x", -EINVAL, "invalid immediate");
	expect_error("mov %r0, -", -EINVAL, "invalid immediate");
	expect_error("lddw %r0, 0x10000000000000000", -ERANGE, "out of 64-bit range");
	expect_error("lddw %r0, -9223372036854775809", -ERANGE, "out of 64-bit range");
	expect_error("lddw %r0", -EINVAL, "invalid number of operands for lddw");
	expect_error("ja NOT_A_LABEL\nexit", -ENOENT, "line 1: undefined label NOT_A_LABEL");
	expect_error("mov %r0, 0\nja exit", -ENOENT, "line 2: undefined label exit");
	expect_error("a:\nexit\n\na:\nexit", -EEXIST, "line 4: duplicate label a");
	expect_error("1a:\nexit", -EINVAL, "invalid label name 1a");
	expect_error(":\nexit", -EINVAL, "invalid label name");
	expect_error("exit\nlock or [%r10-8]", -EINVAL,
		     "line 2: invalid number of operands for lock");
	expect_error("lock", -EINVAL, "invalid number of operands for lock");
	expect_error("lock fetch", -EINVAL, "invalid number of operands for lock");
	expect_error("lock nand [%r1], %r2", -EINVAL, "invalid atomic operation nand");
	expect_error("# comment\nldxq %r0, %r1", -EINVAL, "line 2: invalid mnemonic ldxq");
	expect_error("ldxsdw %r0, [%r1]", -EINVAL, "invalid mnemonic ldxsdw");
	expect_error("call32 1", -EINVAL, "invalid mnemonic call32");
	expect_error("ldxb %r0, %r1", -EINVAL, "invalid memory operand %r1");
	expect_error("ldxb %r0, [%r1+0x10000]", -ERANGE, "offset +0x10000 out of range");
	expect_error("ldxb %r0, [%r1+32768]", -ERANGE, "out of range");
	expect_error("ldxb %r0, [%r1-32769]", -ERANGE, "out of range");
	expect_error("ldxb %r0, [%r1+]", -EINVAL, "invalid offset");
	expect_error("ldxb %r0, [%r1+4", -EINVAL, "missing ]");
	expect_error("ldxb %r0, [%r1+4]x", -EINVAL, "unexpected text after ]");
	expect_error("ldxb %r0, [%r11]", -EINVAL, "invalid register %r11");
	expect_error("add %r0", -EINVAL, "invalid number of operands for add: expected 2, got 1");
	expect_error("sdiv32 %r0", -EINVAL, "invalid number of operands for sdiv32");
	expect_error("neg %r0, 1", -EINVAL, "invalid number of operands for neg");
	expect_error("exit 0", -EINVAL, "invalid number of operands for exit");
	expect_error("jeq %r0, 1", -EINVAL, "invalid number of operands for jeq");
	expect_error("jeq %r0, 1, 5", -EINVAL, "invalid jump target 5");
	expect_error("ja +32768", -ERANGE, "jump offset +32768 out of range");
	expect_error("ja32 +2147483648", -ERANGE, "out of range");
	expect_error("call local", -EINVAL, "invalid number of operands for call");
	expect_error("call foo bar", -EINVAL, "invalid number of operands for call");
	expect_error("call local nowhere", -ENOENT, "undefined label nowhere");
	expect_error("mov %r0, 1 2 3 4 5 6", -EINVAL, "too many operands");
	expect_error(".raw 0x0000000000000095", -EINVAL, ".raw marks a slot");
	expect_error("le8 %r0", -EINVAL, "invalid mnemonic le8");
	expect_error("movsx3232 %r0, %r1", -EINVAL, "invalid mnemonic movsx3232");
	expect_error("movsx864 %r0, 1", -EINVAL, "invalid register 1");
	printf("malformed assembly: each gives an error naming its line\n");
}

/* `MNEMONIC far`, then `exits` exit instructions, then far: exit. */
static int assemble_far_jump(const char *mnemonic, int exits, size_t *n, char *err, size_t len)
{
	char *text = malloc(exits * 5 + 64), *p = text;
	struct isa_insn *insns;
	int ret;

	if (!text)
		return -ENOMEM;
	p += sprintf(p, "%s far\n", mnemonic);
	for (int i = 0; i < exits; i++)
		p += sprintf(p, "exit\n");
	sprintf(p, "far:\nexit\n");
	ret = isa_assemble(text, &insns, n, err, len);
	free(text);
	if (!ret)
		free(insns);
	return ret;
}

/* A jump to a label assembles only when its offset fits the field. */
static void test_jump_range(void)
{
	char err[256] = "";
	size_t n;
	int ret;

	ret = assemble_far_jump("ja", 32767, &n, err, sizeof(err));
	EXPECT(!ret && n == 32769, "ja over 32767 slots: %d %s", ret, err);
	ret = assemble_far_jump("ja", 32768, &n, err, sizeof(err));
	EXPECT(ret == -ERANGE && strstr(err, "line 1: jump to far out of range (offset 32768)"),
	       "ja over 32768 slots: %d %s", ret, err);
	ret = assemble_far_jump("jeq %r0, 0,", 32768, &n, err, sizeof(err));
	EXPECT(ret == -ERANGE, "jeq over 32768 slots: %d %s", ret, err);
	ret = assemble_far_jump("ja32", 32768, &n, err, sizeof(err));
	EXPECT(!ret && n == 32770, "ja32 over 32768 slots: %d %s", ret, err);
	printf("jumps to labels: offsets that do not fit their field are rejected\n");
}

struct encoding {
	const char *text;
	struct isa_insn insn[2];
	size_t n;
};

#define INSN(op, d, s, o, i)                                                   \
	{                                                                      \
		.opcode = (op), .dst = (d), .src = (s), .off = (o), .imm = (i) \
	}

static void test_encodings(void)
{
	static const struct encoding cases[] = {
		{"call %r2", {INSN(0x8d, 2, 0, 0, 0)}, 1},
		{"call 5", {INSN(0x85, 0, 0, 0, 5)}, 1},
		{"call local +3", {INSN(0x85, 0, 1, 0, 3)}, 1},
		{"ja32 -1", {INSN(0x06, 0, 0, 0, -1)}, 1},
		{"ja +0", {INSN(0x05, 0, 0, 0, 0)}, 1},
		{"jeq32 %r1, %r2, -4", {INSN(0x1e, 1, 2, -4, 0)}, 1},
		{"jsle %r9, -0x80000000, +7", {INSN(0xd5, 9, 0, 7, INT32_MIN)}, 1},
		{"mov32 %r0, 0xffffffff", {INSN(0xb4, 0, 0, 0, -1)}, 1},
		{"mov %r0, -2147483648", {INSN(0xb7, 0, 0, 0, INT32_MIN)}, 1},
		{"add %r0, +5", {INSN(0x07, 0, 0, 0, 5)}, 1},
		{"sdiv %r1, %r2", {INSN(0x3f, 1, 2, 1, 0)}, 1},
		{"smod32 %r1, -3", {INSN(0x94, 1, 0, 1, -3)}, 1},
		{"neg32 %r4", {INSN(0x84, 4, 0, 0, 0)}, 1},
		{"movsx1632 %r1, %r2", {INSN(0xbc, 1, 2, 16, 0)}, 1},
		{"movsx3264 %r1, %r2", {INSN(0xbf, 1, 2, 32, 0)}, 1},
		{"le64 %r3", {INSN(0xd4, 3, 0, 0, 64)}, 1},
		{"be32 %r3", {INSN(0xdc, 3, 0, 0, 32)}, 1},
		{"bswap16 %r3", {INSN(0xd7, 3, 0, 0, 16)}, 1},
		{"swap16 %r3", {INSN(0xd7, 3, 0, 0, 16)}, 1},
		{"ldxsh %r1, [%r2-2]", {INSN(0x89, 1, 2, -2, 0)}, 1},
		{"ldxdw %r1, [ %r10 - 0x8 ]", {INSN(0x79, 1, 10, -8, 0)}, 1},
		{"stdw [%r1+32767], -1", {INSN(0x7a, 1, 0, 32767, -1)}, 1},
		{"stxb [%r1-32768], %r2", {INSN(0x73, 1, 2, -32768, 0)}, 1},
		{"lock fetch add32 [%r1+4], %r2", {INSN(0xc3, 1, 2, 4, 0x01)}, 1},
		{"lock xor [%r1], %r2", {INSN(0xdb, 1, 2, 0, 0xa0)}, 1},
		{"lock xchg32 [%r1], %r2", {INSN(0xc3, 1, 2, 0, 0xe1)}, 1},
		{"lock cmpxchg [%r1],%r2", {INSN(0xdb, 1, 2, 0, 0xf1)}, 1},
		{"lddw %r5, -1", {INSN(0x18, 5, 0, 0, -1), INSN(0, 0, 0, 0, -1)}, 2},
		{"lddw %r5, 18446744073709551615",
		 {INSN(0x18, 5, 0, 0, -1), INSN(0, 0, 0, 0, -1)},
		 2},
		{"lddw %r5, 0x1122334455667788",
		 {INSN(0x18, 5, 0, 0, 0x55667788), INSN(0, 0, 0, 0, 0x11223344)},
		 2},
		{"ja exit\nexit # first\nexit",
		 {INSN(0x05, 0, 0, 0, 0), INSN(0x95, 0, 0, 0, 0)},
		 3},
		{"ja exit\nexit\nexit:", {INSN(0x05, 0, 0, 1, 0), INSN(0x95, 0, 0, 0, 0)}, 2},
		{"l: jne %r1, 0, l\n", {INSN(0x55, 1, 0, -1, 0)}, 1},
		{"\r\n  \t# only comments\n", {INSN(0, 0, 0, 0, 0)}, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct encoding *c = &cases[i];
		size_t cmp = c->n < 2 ? c->n : 2;
		struct isa_insn *insns;
		char err[256];
		size_t n;
		int ret = isa_assemble(c->text, &insns, &n, err, sizeof(err));

		EXPECT(!ret, "\"%s\": %s", c->text, err);
		if (ret)
			continue;
		EXPECT(n == c->n && (!n || !memcmp(insns, c->insn, cmp * sizeof(*insns))),
		       "\"%s\": wrong encoding (%zu slots)", c->text, n);
		EXPECT(round_trip(c->text, insns, n), "\"%s\": round trip", c->text);
		free(insns);
	}
	printf("exact encodings of %zu assembly forms\n", sizeof(cases) / sizeof(cases[0]));
}

/* xorshift64: a fixed sequence, so a failure reproduces. */
static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A slot that is often valid: most fields zero or small, any opcode. */
static struct isa_insn random_insn(uint64_t *s)
{
	static const int32_t imms[] = {0,    1,	   -1,	 16,	    32,	      64,
				       0xe1, 0xf1, 0x41, INT32_MIN, INT32_MAX};
	static const int16_t offs[] = {0, 1, -1, 8, 16, 32, INT16_MIN, INT16_MAX};
	uint64_t r = next_random(s);
	struct isa_insn in = {.opcode = (uint8_t)r};

	if (nseen && (r >> 44) % 4)
		in.opcode = seen_opcodes[(r >> 46) % nseen];

	in.dst = (r >> 8) % 8 ? (r >> 12) % 11 : (r >> 12) & 15;
	in.src = (r >> 16) % 4 ? 0 : (r >> 20) & 15;
	in.off = (r >> 24) % 4 ? 0 : offs[(r >> 28) % 8];
	in.imm = (r >> 32) % 4 ? 0 : (r >> 36) % 2 ? imms[(r >> 40) % 11] : (int32_t)(r >> 32);
	return in;
}

static void test_random(void)
{
	uint64_t seed = 0x9e3779b97f4a7c15u;
	int valid = 0, invalid = 0;

	for (int i = 0; i < 200000; i++) {
		struct isa_insn prog[4], *back;
		size_t n = 1 + next_random(&seed) % 4, nback;
		char err[256], *text;
		int ret;

		for (size_t k = 0; k < n; k++)
			prog[k] = random_insn(&seed);
		text = isa_disassemble(prog, n);
		EXPECT(text, "disassembly out of memory");
		if (!text)
			continue;
		ret = isa_assemble(text, &back, &nback, err, sizeof(err));
		if (all_valid(prog, n)) {
			valid++;
			EXPECT(!ret && nback == n && !memcmp(back, prog, n * sizeof(*prog)),
			       "valid random program changed in the round trip:\n%s", text);
		} else {
			invalid++;
			EXPECT(ret && strstr(err, ".raw"),
			       "a program with an invalid slot assembled back:\n%s", text);
		}
		if (!ret)
			free(back);
		free(text);
	}
	printf("random programs: %d valid ones round-trip exactly, %d with invalid slots fail "
	       "to re-assemble\n",
	       valid, invalid);
}

static void test_disasm_insn(void)
{
	const struct isa_insn prog[] = {
		INSN(0x18, 1, 0, 0, 1), INSN(0, 0, 0, 0, 2),	INSN(0x15, 1, 0, -3, 7),
		INSN(0x95, 0, 0, 0, 0), INSN(0x07, 0, 1, 0, 0),
	};
	char buf[128];

	EXPECT(isa_disasm_insn(prog, 5, 0, buf, sizeof(buf)) == 2 &&
		       !strcmp(buf, "lddw %r1, 0x200000001"),
	       "lddw: %s", buf);
	EXPECT(isa_disasm_insn(prog, 5, 2, buf, sizeof(buf)) == 1 && !strcmp(buf, "jeq %r1, 7, -3"),
	       "jeq: %s", buf);
	EXPECT(isa_disasm_insn(prog, 5, 4, buf, sizeof(buf)) == -EINVAL &&
		       !strcmp(buf, ".raw 0x0000000000001007"),
	       "add with src set: %s", buf);
	EXPECT(isa_disasm_insn(prog, 1, 0, buf, sizeof(buf)) == -EINVAL,
	       "lddw without its second slot: %s", buf);
	EXPECT(isa_disasm_insn(prog, 5, 5, buf, sizeof(buf)) == -EINVAL, "pc past the end");
	printf("isa_disasm_insn: slots taken, relative targets, .raw for invalid slots\n");
}

int main(int argc, char **argv)
{
	char dir[2048];

	if (argc != 2) {
		fprintf(stderr, "usage: %s CONFORMANCE_DIR\n", argv[0]);
		return 2;
	}
	snprintf(dir, sizeof(dir), "%s/tests", argv[1]);
	test_conformance_round_trip(dir);
	test_lddw_raw(dir);
	snprintf(dir, sizeof(dir), "%s/negative", argv[1]);
	test_negative_files(dir);
	test_errors();
	test_jump_range();
	test_encodings();
	test_disasm_insn();
	test_random();
	return check_summary();
}
