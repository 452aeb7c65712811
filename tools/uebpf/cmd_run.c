// SPDX-License-Identifier: MIT
/* uebpf run: load one program, run it once on some memory, print r0. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hexbytes.h"
#include "test_helpers.h"

static const char run_usage[] =
	"Usage: uebpf run FILE [--mem HEX | --mem-file F] [--engine E] [--budget N]\n"
	"\n"
	"Run FILE (.s assembly, .bin or - (stdin) raw instructions, .data test)\n"
	"with r1 = the memory and r2 = its length, and print r0. A .data file\n"
	"brings its own -- mem unless --mem or --mem-file is given. The helpers\n"
	"of the conformance suite are registered.\n"
	"\n"
	"  --mem HEX       memory as hex bytes (\"aa bb cc\" or \"aabbcc\")\n"
	"  --mem-file F    memory read from file F\n"
	"  --engine E      interp (default), jit or aot\n"
	"  --budget N      stop after N instructions (0: no limit)\n";

struct run_opts {
	const char *mem_hex;
	const char *mem_file;
	enum uebpf_engine engine;
	uint64_t budget;
	bool help;
};

static int parse_opts(int argc, char **argv, struct run_opts *o)
{
	static const struct option opts[] = {
		{"mem", required_argument, NULL, 'm'},
		{"mem-file", required_argument, NULL, 'f'},
		{"engine", required_argument, NULL, 'e'},
		{"budget", required_argument, NULL, 'b'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	char *end;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			o->mem_hex = optarg;
			break;
		case 'f':
			o->mem_file = optarg;
			break;
		case 'e':
			if (cli_parse_engine(optarg, &o->engine))
				return cli_usage_error(
					"run", "unknown engine '%s' (interp, jit, aot)", optarg);
			break;
		case 'b':
			errno = 0;
			o->budget = strtoull(optarg, &end, 0);
			if (errno || *end || !isdigit((unsigned char)optarg[0]))
				return cli_usage_error("run", "invalid budget '%s'", optarg);
			break;
		case 'h':
			o->help = true;
			return CLI_OK;
		default:
			return cli_bad_option("run", opt, argv);
		}
	}
	if (o->mem_hex && o->mem_file)
		return cli_usage_error("run", "give --mem or --mem-file, not both");
	if (argc - optind != 1)
		return cli_usage_error("run", "expected one FILE, got %d arguments", argc - optind);
	return CLI_OK;
}

/* Replace the program's memory with the one the options give, if any. */
static int load_mem(const struct run_opts *o, struct cli_program *prog, char *err, size_t err_len)
{
	char *data;
	size_t len;
	int ret;

	if (!o->mem_hex && !o->mem_file)
		return 0;
	free(prog->mem);
	prog->mem = NULL;
	prog->mem_len = 0;
	if (o->mem_hex)
		return cli_hex_bytes(o->mem_hex, &prog->mem, &prog->mem_len, err, err_len);
	ret = cli_read_file(o->mem_file, &data, &len, err, err_len);
	if (ret)
		return ret;
	prog->mem = (uint8_t *)data;
	prog->mem_len = len;
	return 0;
}

static int run(const struct run_opts *o, const struct cli_program *prog)
{
	struct uebpf_vm *vm = uebpf_vm_create();
	char err[512];
	uint64_t r0;
	int ret;

	if (!vm)
		return cli_error("run", "out of memory");
	ret = cli_set_engine(vm, o->engine, err, sizeof(err));
	if (!ret) {
		ret = cli_register_test_helpers(vm) ?: uebpf_vm_set_insn_budget(vm, o->budget);
		snprintf(err, sizeof(err), "cannot set up the VM: %s", strerror(-ret));
	}
	if (ret) {
		uebpf_vm_destroy(vm);
		return cli_error("run", "%s", err);
	}
	ret = uebpf_vm_load(vm, prog->insns, prog->n * sizeof(*prog->insns), err, sizeof(err));
	if (ret) {
		uebpf_vm_destroy(vm);
		return cli_error("run", "load failed: %s", err);
	}
	ret = uebpf_vm_run(vm, prog->mem, prog->mem_len, &r0, err, sizeof(err));
	uebpf_vm_destroy(vm);
	if (ret)
		return cli_error("run", "run failed: %s", err);
	printf("Return value: 0x%" PRIx64 " (%" PRIu64 ")\n", r0, r0);
	return CLI_OK;
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o = {.engine = UEBPF_ENGINE_INTERP};
	struct cli_program prog;
	char err[512];
	int ret;

	ret = parse_opts(argc, argv, &o);
	if (ret)
		return ret;
	if (o.help) {
		fputs(run_usage, stdout);
		return CLI_OK;
	}
	ret = cli_program_read(argv[optind], &prog, err, sizeof(err));
	if (ret == -ENOEXEC)
		return cli_usage_error("run", "%s", err);
	if (ret)
		return cli_error("run", "%s", err);
	ret = load_mem(&o, &prog, err, sizeof(err));
	ret = ret ? cli_error("run", "%s", err) : run(&o, &prog);
	cli_program_free(&prog);
	return ret;
}
