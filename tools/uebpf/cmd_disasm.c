// SPDX-License-Identifier: MIT
/* uebpf disasm: a program file back to assembly text. */
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "isa/asm.h"
#include "jit/jit.h"

static const char disasm_usage[] =
	"Usage: uebpf disasm [--jit] FILE\n"
	"\n"
	"Print FILE (raw instructions .bin or - for stdin, a conformance test\n"
	".data, or assembly .s) as assembly text that 'uebpf asm' turns back into\n"
	"the same bytes. Slots that are no valid instruction print as\n"
	"'.raw 0x<word>' lines, which do not assemble; the command then fails.\n"
	"\n"
	"  --jit   compile FILE with the JIT and print each instruction followed\n"
	"          by its x86-64 code, then the code shared by all of them\n";

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

/* The program through the JIT, with the native code of each instruction. */
static int disasm_jit(const struct cli_program *prog)
{
	struct uebpf_vm *vm = uebpf_vm_create();
	char err[512];
	int ret;

	if (!vm)
		return cli_error("disasm", "out of memory");
	ret = cli_set_engine(vm, UEBPF_ENGINE_JIT, err, sizeof(err));
	if (!ret)
		ret = uebpf_vm_load(vm, prog->insns, prog->n * sizeof(*prog->insns), err,
				    sizeof(err));
	if (!ret) {
		ret = jit_print_disasm(vm, stdout);
		if (ret)
			snprintf(err, sizeof(err), "cannot disassemble the native code (%d)", ret);
	}
	uebpf_vm_destroy(vm);
	return ret ? cli_error("disasm", "%s", err) : CLI_OK;
}

int cmd_disasm(int argc, char **argv)
{
	static const struct option opts[] = {
		{"help", no_argument, NULL, 'h'},
		{"jit", no_argument, NULL, 'j'},
		{0},
	};
	struct cli_program prog;
	char err[512], *text;
	bool jit = false;
	size_t bad;
	int opt, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (opt == 'j') {
			jit = true;
			continue;
		}
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
	if (jit) {
		ret = disasm_jit(&prog);
		cli_program_free(&prog);
		return ret;
	}
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
