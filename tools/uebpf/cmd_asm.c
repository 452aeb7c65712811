// SPDX-License-Identifier: MIT
/* uebpf asm: assembly text to raw little-endian instructions. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "isa/asm.h"

static const char asm_usage[] =
	"Usage: uebpf asm FILE.s [-o OUT.bin]\n"
	"\n"
	"Assemble FILE.s (the bpf_conformance syntax; '-' reads stdin) into raw\n"
	"little-endian 8-byte instructions, written to OUT.bin or to stdout when\n"
	"stdout is not a terminal.\n";

static int write_insns(const char *out, const struct isa_insn *insns, size_t n)
{
	FILE *f = out ? fopen(out, "wb") : stdout;
	size_t bytes = n * sizeof(*insns);
	bool ok;

	if (!f)
		return cli_error("asm", "%s: cannot create: %m", out);
	ok = fwrite(insns, 1, bytes, f) == bytes;
	ok &= (out ? fclose(f) : fflush(f)) == 0;
	if (!ok)
		return cli_error("asm", "%s: write error", out ? out : "stdout");
	return CLI_OK;
}

int cmd_asm(int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *out = NULL, *path;
	struct isa_insn *insns;
	char err[512], *text;
	size_t len, n;
	int opt, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'h':
			fputs(asm_usage, stdout);
			return CLI_OK;
		default:
			return cli_bad_option("asm", opt, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("asm", "expected one FILE.s, got %d arguments",
				       argc - optind);
	if (!out && isatty(STDOUT_FILENO))
		return cli_usage_error("asm",
				       "refusing to write binary to a terminal; use -o FILE");
	path = argv[optind];
	if (cli_read_file(path, &text, &len, err, sizeof(err)))
		return cli_error("asm", "%s", err);
	if (strlen(text) != len) {
		free(text);
		return cli_error("asm", "%s: a NUL byte in assembly text", path);
	}
	if (isa_assemble(text, &insns, &n, err, sizeof(err))) {
		free(text);
		return cli_error("asm", "%s: %s", path, err);
	}
	free(text);
	ret = n ? write_insns(out, insns, n) : cli_error("asm", "%s: no instructions", path);
	free(insns);
	return ret;
}
