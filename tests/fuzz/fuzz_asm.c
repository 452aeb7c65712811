// SPDX-License-Identifier: MIT
/*
 * The assembler on any text: it either refuses with a message or gives
 * instructions whose disassembly assembles back to the same instructions
 * (where every slot is a valid instruction: others print as .raw, which by
 * design does not assemble). Never a crash, hang or leak.
 *
 * An input whose first byte is odd is text as it is; otherwise every four
 * bytes make a line of a mnemonic with operands in one of the shapes the
 * language has (or not quite), so that random bytes make programs that are
 * nearly right, which is where parsers break.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "isa/asm.h"

static const char *const mnemonics[] = {
	"mov",	  "mov32",  "add",    "sub32", "mul",	 "div",	   "sdiv",   "mod",   "smod32",
	"or",	  "and32",  "lsh",    "rsh32", "arsh",	 "neg",	   "neg32",  "xor",   "movsx8",
	"movsx32", "be16",  "le32",   "bswap64", "lddw", "ldxb",   "ldxdw",  "ldxsh", "ldxsw",
	"stb",	  "sth",    "stxw",   "stxdw", "lock add", "lock fetch or", "lock xchg",
	"lock cmpxchg", "lock fetch add32", "ja", "gotol", "jeq",  "jne32",  "jsgt",  "jset",
	"jsle32", "call",   "call local", "callx", "exit", "lbl:", "nop", "# note",
};

static const char *const values[] = {
	"0", "1", "-1", "7", "0x7fffffff", "-0x80000000", "0x80000000", "0xffffffffffffffff",
	"32767", "-32768", "-32769", "4294967296", "+3", "-2", "lbl", "x", "",
};

/* One line of assembly from 4 bytes: a mnemonic and operands in one of its shapes, or not. */
static size_t token_line(const uint8_t *b, char *out)
{
	size_t nm = sizeof(mnemonics) / sizeof(mnemonics[0]);
	size_t nv = sizeof(values) / sizeof(values[0]);
	const char *m = mnemonics[b[0] % nm], *v = values[b[3] % nv];
	unsigned r1 = b[2] % 12, r2 = (b[2] >> 4) % 12;

	switch (b[1] % 8) {
	case 0:
		return (size_t)sprintf(out, "%s %%r%u, %%r%u\n", m, r1, r2);
	case 1:
		return (size_t)sprintf(out, "%s %%r%u, %s\n", m, r1, v);
	case 2:
		return (size_t)sprintf(out, "%s %%r%u, [%%r%u%s%s]\n", m, r1, r2,
				       v[0] == '-' || v[0] == '+' ? "" : "+", v);
	case 3:
		return (size_t)sprintf(out, "%s [%%r%u%s%s], %%r%u\n", m, r1,
				       v[0] == '-' || v[0] == '+' ? "" : "+", v, r2);
	case 4:
		return (size_t)sprintf(out, "%s %%r%u, %s, %s\n", m, r1, v, b[3] & 1 ? "lbl" : "+1");
	case 5:
		return (size_t)sprintf(out, "%s %s\n", m, v);
	case 6:
		return (size_t)sprintf(out, "%s\n", m);
	default:
		return (size_t)sprintf(out, "%s %%r%u %s,, %s\n", m, r1, v, v);
	}
}

/* Whether line assembles in a program of its own (with the label it may name). */
static bool line_ok(const char *line)
{
	char text[160], err[128];
	struct isa_insn *insns = NULL;
	size_t n;
	int ret;

	snprintf(text, sizeof(text), "%slbl:\nexit\n", line);
	ret = isa_assemble(text, &insns, &n, err, sizeof(err));
	free(insns);
	return !ret;
}

/*
 * The text of an input: as it is, or every 4 bytes a line of nearly right
 * assembly. In three inputs of four only the lines that assemble alone are
 * kept, so that whole programs assemble often.
 */
static char *input_text(const uint8_t *data, size_t size)
{
	size_t len = 0;
	char *text;

	if (size && (data[0] & 1)) {
		text = malloc(size);
		if (text) {
			memcpy(text, data + 1, size - 1);
			text[size - 1] = '\0';
		}
		return text;
	}
	text = malloc(size / 4 * 96 + 16);
	if (!text)
		return NULL;
	for (size_t i = 1; i + 4 <= size; i += 4) {
		size_t k = token_line(data + i, text + len);

		if (data[0] % 8 == 0 || line_ok(text + len))
			len += k;
	}
	strcpy(text + len, "lbl:\nexit\n");
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct isa_insn *insns = NULL, *again = NULL;
	char *text = input_text(data, size), *dis = NULL, err[256];
	size_t n, m;

	if (!text)
		return 0;
	if (isa_assemble(text, &insns, &n, err, sizeof(err))) {
		if (!err[0])
			fuzz_fail("assembler refused without a message");
		goto out;
	}
	dis = isa_disassemble(insns, n);
	if (!dis)
		fuzz_fail("cannot disassemble %zu instructions", n);
	if (strstr(dis, ".raw"))
		goto out;
	if (isa_assemble(dis, &again, &m, err, sizeof(err)))
		fuzz_fail("disassembly does not assemble: %s\n%s", err, dis);
	if (m != n || (n && memcmp(insns, again, n * sizeof(*insns))))
		fuzz_fail("round trip changed the program:\n%s", dis);
out:
	free(text);
	free(insns);
	free(again);
	free(dis);
	return 0;
}
