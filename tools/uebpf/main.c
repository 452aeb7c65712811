// SPDX-License-Identifier: MIT
/* uebpf: the command line front end; dispatches to one cmd_* per command. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} cli_commands[] = {
	{"conformance", cmd_conformance},
	{"asm", cmd_asm},
	{"disasm", cmd_disasm},
	{"run", cmd_run},
	{"aot", cmd_aot},
};

static const char cli_help[] =
	"Usage: uebpf COMMAND [OPTIONS] ARGS...\n"
	"\n"
	"A userspace eBPF runtime.\n"
	"\n"
	"Commands:\n"
	"  conformance [--engine E] [--expect-fail] [-v] PATH...\n"
	"                      run bpf_conformance .data tests (files or directories)\n"
	"  asm FILE.s [-o OUT.bin]\n"
	"                      assemble into raw little-endian instructions\n"
	"  disasm [--jit] FILE\n"
	"                      disassemble a .bin, .data or .s program (--jit: with\n"
	"                      the x86-64 code of each instruction)\n"
	"  run FILE [--mem HEX | --mem-file F] [--engine E] [--budget N]\n"
	"                      run a .s, .bin or .data program and print r0\n"
	"  run OBJ [--prog NAME] [--data-in F] [--data-out F] [--ctx-in F] [--ctx-out F]\n"
	"          [--repeat N] [--engine E] [--json] [--dump-maps]\n"
	"                      load an ELF object through libbpf and test-run a program\n"
	"  aot FILE -o OUT.so | aot --emit-c FILE\n"
	"                      compile a program to a shared object, or print its C\n"
	"\n"
	"Engines: interp (default), jit, aot.\n"
	"'uebpf COMMAND --help' describes a command.\n"
	"Exit status: 0 success, 1 failure, 2 bad command line.\n";

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(cli_help, stderr);
		return CLI_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		fputs(cli_help, stdout);
		return CLI_OK;
	}
	for (size_t i = 0; i < sizeof(cli_commands) / sizeof(cli_commands[0]); i++) {
		if (!strcmp(argv[1], cli_commands[i].name))
			return cli_commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "uebpf: unknown command '%s'\nTry 'uebpf --help'.\n", argv[1]);
	return CLI_USAGE;
}
