/* SPDX-License-Identifier: MIT */
/*
 * testfile: the .data files of the bpf_conformance suite. Sections start at
 * lines beginning with `--`: `-- asm`, `-- raw` (64-bit words `0x...` or hex
 * bytes, 8 per slot), `-- mem` (hex bytes), `-- result` (64-bit, hex or
 * decimal), `-- error` (text the load or run error must contain), and the
 * ignored `-- c` and `-- no register offset`. Lines before the first section
 * are comments.
 */
#ifndef UEBPF_TOOLS_TESTFILE_H
#define UEBPF_TOOLS_TESTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "isa/isa.h"

struct cli_testfile {
	/*
	 * The -- asm section, NULL without one. It is preceded by one empty line
	 * per file line before it, so assembler messages name lines of the file.
	 */
	char *asm_text;
	bool has_raw;
	struct isa_insn *raw;
	size_t nraw;
	uint8_t *mem; /* NULL when empty */
	size_t mem_len;
	bool has_result;
	uint64_t result;
	char *error; /* NULL without -- error; else its text, trimmed (maybe empty) */
};

/* Parse a whole file. Returns 0, or a negative errno with a message in err. */
int cli_testfile_parse(const char *text, struct cli_testfile *tf, char *err, size_t err_len);

/*
 * The program: -- raw when present, else -- asm assembled. When both are
 * present they must be equal. *insns is malloc'd; *n may be 0 for an empty
 * section. A file with neither section is an error (-ENOENT).
 */
int cli_testfile_program(const struct cli_testfile *tf, struct isa_insn **insns, size_t *n,
			 char *err, size_t err_len);

void cli_testfile_free(struct cli_testfile *tf);

#endif
