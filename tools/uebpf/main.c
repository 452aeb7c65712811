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
	{"verify", cmd_verify},
	{"load", cmd_load},
	{"start", cmd_start},
	{"trace", cmd_trace},
	{"attach", cmd_attach},
	{"detach", cmd_detach},
	{"bench", cmd_bench},
	{"maps", cmd_maps},
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
	"  aot FILE|OBJ [--prog NAME] -o OUT.so | aot --emit-c FILE|OBJ\n"
	"                      compile a program to a shared object, or print its C\n"
	"  verify OBJ [--prog NAME] [--log-level 0|1|2] [--stats]\n"
	"                      verify an ELF object's programs as the kernel would\n"
	"  load [--registry R] CMD...\n"
	"                      run a libbpf loader with bpf() answered by uebpf; its\n"
	"                      uprobes go into the registry R\n"
	"  start [--registry R] [--engine E] CMD...\n"
	"                      run CMD with the agent: R's uprobes run in it\n"
	"  trace OBJ [--engine E] [--prog NAME]... [--hist MAP] -- CMD...\n"
	"                      attach OBJ's uprobes to CMD, print trace_printk lines,\n"
	"                      ring buffer records and, at the end, the maps\n"
	"  attach PID [--registry R]\n"
	"                      load the agent into a running process (ptrace) and\n"
	"                      start it on a registry's probes\n"
	"  detach PID          remove every probe the agent installed in PID\n"
	"  bench SUITE.yaml [--engine E] [--kernel] [--native] [--csv OUT] [--html OUT]\n"
	"                      run a benchmark suite (bpf_performance's YAML format)\n"
	"  maps OBJ [--contents] | maps --pinned PATH\n"
	"                      list an object's maps (and their entries), or print\n"
	"                      a pinned map\n"
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
