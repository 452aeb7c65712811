// SPDX-License-Identifier: MIT
/* uebpf disasm: a program file back to assembly text. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "isa/asm.h"

static const char disasm_usage[] =
	"Usage: uebpf disasm FILE\n"
	"\n"
	"Print FILE (raw instructions .bin or - for stdin, a conformance test\n"
	".data, or assembly .s) as assembly text that 'uebpf asm' turns back into\n"
	"the same bytes. Slots that are no valid instruction print as\n"
	"'.raw 0x<word>' lines, which do not assemble; the command then fails.\n";

/* Slots that are no valid instruction; they appear as .raw lines. */
static size_t count_raw(const struct cli_program *prog)
{
	char line[128];
	size_t bad = 0;
	int ret;

	for (size_t pc = 0; pc<prog->n; pc += ret> 0 ? ret : 1) {
		ret = isa_disasm_insn(prog->insns, prog->n, pc, line, sizeof(line));
		bad += ret < 0;
	}
	return bad;
}

int cmd_disasm(int argc, char **argv)
{
	static const struct option opts[] = {
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct cli_program prog;
	char err[512], *text;
	size_t bad;
	int opt, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (opt != 'h')
			return cli_bad_option("disasm", opt, argv);
		fputs(disasm_usage, stdout);
		return CLI_OK;
	}
	if (argc - optind != 1)
		return cli_usage_error("disasm", "expected one FILE, got %d arguments",
				       argc - optind);
	ret = cli_program_read(argv[optind], &prog, err, sizeof(err));
	if (ret == -ENOEXEC)
		return cli_usage_error("disasm", "%s", err);
	if (ret)
		return cli_error("disasm", "%s", err);
	text = isa_disassemble(prog.insns, prog.n);
	bad = count_raw(&prog);
	cli_program_free(&prog);
	if (!text)
		return cli_error("disasm", "out of memory");
	fputs(text, stdout);
	free(text);
	if (bad)
		return cli_error("disasm",
				 "%s: %zu slot(s) are no valid instruction (shown as .raw)",
				 argv[optind], bad);
	return CLI_OK;
}
