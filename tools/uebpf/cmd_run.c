// SPDX-License-Identifier: MIT
/*
 * uebpf run: load one program, run it once on some memory, print r0; or,
 * for an ELF object, hand over to cli_run_obj (cmd_run_obj.c).
 */
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
	"       uebpf run OBJ [--prog NAME] [--data-in F] [--data-out F] [--ctx-in F]\n"
	"                     [--ctx-out F] [--repeat N] [--engine E] [--json] [--dump-maps]\n"
	"\n"
	"Run FILE (.s assembly, .bin or - (stdin) raw instructions, .data test)\n"
	"with r1 = the memory and r2 = its length, and print r0. A .data file\n"
	"brings its own -- mem unless --mem or --mem-file is given. The helpers\n"
	"of the conformance suite are registered.\n"
	"\n"
	"  --mem HEX       memory as hex bytes (\"aa bb cc\" or \"aabbcc\")\n"
	"  --mem-file F    memory read from file F\n"
	"  --engine E      interp (default), jit or aot; for an object the default is\n"
	"                  $UEBPF_ENGINE, else interp\n"
	"  --budget N      stop after N instructions (0: no limit)\n"
	"\n"
	"An ELF object OBJ (clang -target bpf) is loaded by libbpf, its maps and\n"
	"programs made by uebpf's bpf() emulation, and one program test-run as\n"
	"BPF_PROG_TEST_RUN does: XDP programs get an xdp_md over the data in,\n"
	"socket and tc programs a __sk_buff, others the context in. Prints\n"
	"\"Return value: N, duration: Nns\".\n"
	"\n"
	"  --prog NAME     the program to run (default: the first); all are loaded\n"
	"  --data-in F     packet data from file F\n"
	"  --data-out F    write the packet after the run to F\n"
	"  --ctx-in F      context from file F\n"
	"  --ctx-out F     write the context after the run to F\n"
	"  --repeat N      run N times; the duration is the mean\n"
	"  --json          print {\"retval\": N, \"duration_ns\": N, \"maps\": {...}}\n"
	"  --dump-maps     print every map's entries after the run\n";

struct run_opts {
	const char *mem_hex;
	const char *mem_file;
	enum uebpf_engine engine;
	uint64_t budget;
	bool help;
	bool obj_only; /* an option only an ELF object takes was given */
	struct cli_run_obj_opts obj;
};

static int parse_u64(const char *arg, uint64_t max, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(arg, &end, 0);
	return errno || *end || !isdigit((unsigned char)arg[0]) || *v > max ? -EINVAL : 0;
}

static int parse_opts(int argc, char **argv, struct run_opts *o)
{
	static const struct option opts[] = {
		{"mem", required_argument, NULL, 'm'},
		{"mem-file", required_argument, NULL, 'f'},
		{"engine", required_argument, NULL, 'e'},
		{"budget", required_argument, NULL, 'b'},
		{"prog", required_argument, NULL, 'p'},
		{"data-in", required_argument, NULL, 'I'},
		{"data-out", required_argument, NULL, 'O'},
		{"ctx-in", required_argument, NULL, 'C'},
		{"ctx-out", required_argument, NULL, 'X'},
		{"repeat", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},
		{"dump-maps", no_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	uint64_t v;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (strchr("pIOCXrjd", opt))
			o->obj_only = true;
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
			o->obj.engine = o->engine;
			o->obj.engine_given = true;
			break;
		case 'b':
			if (parse_u64(optarg, UINT64_MAX, &o->budget))
				return cli_usage_error("run", "invalid budget '%s'", optarg);
			break;
		case 'p':
			o->obj.prog = optarg;
			break;
		case 'I':
			o->obj.data_in = optarg;
			break;
		case 'O':
			o->obj.data_out = optarg;
			break;
		case 'C':
			o->obj.ctx_in = optarg;
			break;
		case 'X':
			o->obj.ctx_out = optarg;
			break;
		case 'r':
			if (parse_u64(optarg, UINT32_MAX, &v) || !v)
				return cli_usage_error("run", "invalid repeat count '%s'", optarg);
			o->obj.repeat = (uint32_t)v;
			break;
		case 'j':
			o->obj.json = true;
			break;
		case 'd':
			o->obj.dump_maps = true;
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
	struct run_opts o = {.engine = UEBPF_ENGINE_INTERP, .obj.repeat = 1};
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
	if (cli_is_elf(argv[optind])) {
		if (o.mem_hex || o.mem_file || o.budget)
			return cli_usage_error("run", "--mem, --mem-file and --budget are not for "
						      "ELF objects; give --data-in or --ctx-in");
		return cli_run_obj(argv[optind], &o.obj);
	}
	if (o.obj_only)
		return cli_usage_error("run",
				       "%s is not an ELF object: --prog, --data-in, "
				       "--data-out, --ctx-in, --ctx-out, --repeat, --json "
				       "and --dump-maps are for objects",
				       argv[optind]);
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
