// SPDX-License-Identifier: MIT
/*
 * uebpf aot: a program file through the AOT engine's two steps, apart:
 * its C translation printed, or the shared object built at a chosen path.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "aot/aot.h"
#include "cli.h"
#include "test_helpers.h"

static const char aot_usage[] =
	"Usage: uebpf aot FILE -o OUT.so [--cc CC]\n"
	"       uebpf aot --emit-c FILE [-o OUT.c]\n"
	"\n"
	"Translate FILE (.s assembly, .bin or - (stdin) raw instructions, .data\n"
	"test) to C, as the AOT engine does, and compile it into the shared\n"
	"object OUT.so: the object the engine would build and cache for it.\n"
	"The helpers of the conformance suite are known, as for 'uebpf run'.\n"
	"\n"
	"  -o, --output F  where to write the object (or the C, with --emit-c)\n"
	"  --emit-c        print the C translation instead, each statement under\n"
	"                  a comment with the eBPF instruction it implements\n"
	"  --cc CC         the C compiler (default: $UEBPF_CC, else cc)\n";

struct aot_cli_opts {
	const char *out;
	const char *cc;
	bool emit_c;
};

static int parse_opts(int argc, char **argv, struct aot_cli_opts *o, bool *help)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"emit-c", no_argument, NULL, 'c'},
		{"cc", required_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			o->out = optarg;
			break;
		case 'c':
			o->emit_c = true;
			break;
		case 'C':
			if (!*optarg)
				return cli_usage_error("aot", "--cc needs a compiler name");
			o->cc = optarg;
			break;
		case 'h':
			*help = true;
			return CLI_OK;
		default:
			return cli_bad_option("aot", opt, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("aot", "expected one FILE, got %d arguments", argc - optind);
	if (!o->emit_c && !o->out)
		return cli_usage_error("aot", "give -o OUT.so, or --emit-c to print the C");
	if (o->emit_c && o->cc)
		return cli_usage_error("aot", "--cc is for building an object, not with --emit-c");
	return CLI_OK;
}

/* The C translation into path, or stdout when path is NULL. */
static int emit_c(const struct uebpf_vm *vm, const char *path)
{
	FILE *f = path ? fopen(path, "w") : stdout;
	char err[512];
	int ret;

	if (!f)
		return cli_error("aot", "%s: cannot create: %s", path, strerror(errno));
	ret = aot_emit_c(vm, f, err, sizeof(err));
	if ((path ? fclose(f) : fflush(f)) && !ret) {
		snprintf(err, sizeof(err), "%s: write error", path ? path : "stdout");
		ret = -EIO;
	}
	if (ret && path)
		remove(path);
	return ret ? cli_error("aot", "%s", err) : CLI_OK;
}

static int translate(const struct aot_cli_opts *o, const struct cli_program *prog)
{
	struct uebpf_vm *vm = uebpf_vm_create();
	char err[2048];
	int ret;

	if (!vm)
		return cli_error("aot", "out of memory");
	ret = cli_register_test_helpers(vm);
	if (ret) {
		uebpf_vm_destroy(vm);
		return cli_error("aot", "cannot set up the VM: %s", strerror(-ret));
	}
	/* loaded on the interpreter: the object is built below, where asked for */
	ret = uebpf_vm_load(vm, prog->insns, prog->n * sizeof(*prog->insns), err, sizeof(err));
	if (ret)
		ret = cli_error("aot", "load failed: %s", err);
	else if (o->emit_c)
		ret = emit_c(vm, o->out);
	else if (aot_compile_so(vm, o->cc, o->out, err, sizeof(err)))
		ret = cli_error("aot", "%s", err);
	uebpf_vm_destroy(vm);
	return ret;
}

int cmd_aot(int argc, char **argv)
{
	struct aot_cli_opts o = {0};
	struct cli_program prog;
	bool help = false;
	char err[512];
	int ret;

	ret = parse_opts(argc, argv, &o, &help);
	if (ret || help) {
		if (help)
			fputs(aot_usage, stdout);
		return ret;
	}
	ret = cli_program_read(argv[optind], &prog, err, sizeof(err));
	if (ret == -ENOEXEC)
		return cli_usage_error("aot", "%s", err);
	if (ret)
		return cli_error("aot", "%s", err);
	ret = translate(&o, &prog);
	cli_program_free(&prog);
	return ret;
}
