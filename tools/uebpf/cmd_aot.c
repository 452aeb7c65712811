// SPDX-License-Identifier: MIT
/*
 * uebpf aot: a program through the AOT engine's two steps, apart: its C
 * translation printed, or the shared object built at a chosen path. A
 * program file is loaded with the conformance suite's helpers; an ELF
 * object is loaded by libbpf through the bpf() emulation, as uebpf run
 * loads it (maps created, global data, subprograms, every program), and
 * each program's object is the one the engine would build for that load:
 * the maps are given to it at run time (aot/aot.h), so it serves later
 * loads of the same object too.
 */
#define _GNU_SOURCE /* asprintf */
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aot/aot.h"
#include "cli.h"
#include "syscall/syscall.h"
#include "test_helpers.h"

static const char aot_usage[] =
	"Usage: uebpf aot FILE -o OUT.so [--cc CC]\n"
	"       uebpf aot --emit-c FILE [-o OUT.c]\n"
	"       uebpf aot OBJ [--prog NAME] -o OUT.so|DIR [--cc CC]\n"
	"       uebpf aot OBJ [--prog NAME] --emit-c [-o OUT.c]\n"
	"\n"
	"Translate FILE (.s assembly, .bin or - (stdin) raw instructions, .data\n"
	"test) to C, as the AOT engine does, and compile it into the shared\n"
	"object OUT.so: the object the engine would build and cache for it.\n"
	"The helpers of the conformance suite are known, as for 'uebpf run'.\n"
	"\n"
	"An ELF object OBJ (clang -target bpf) is loaded as 'uebpf run' loads it\n"
	"(libbpf, maps, global data); the program NAME (default: the only one)\n"
	"is built into OUT.so, or every program into DIR/PROGRAM.so when -o\n"
	"names a directory. The object gets the maps when a program is loaded.\n"
	"\n"
	"  -o, --output F  where to write the object (or the C, with --emit-c)\n"
	"  --prog NAME     the program of OBJ\n"
	"  --emit-c        print the C translation instead, each statement under\n"
	"                  a comment with the eBPF instruction it implements\n"
	"  --cc CC         the C compiler (default: $UEBPF_CC, else cc)\n";

struct aot_cli_opts {
	const char *out;
	const char *cc;
	const char *prog;
	bool emit_c;
};

static int parse_opts(int argc, char **argv, struct aot_cli_opts *o, bool *help)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'}, {"emit-c", no_argument, NULL, 'c'},
		{"cc", required_argument, NULL, 'C'},	  {"prog", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},	  {0},
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
		case 'p':
			o->prog = optarg;
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

static int print_warnings(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return path && !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* One program of a loaded object: its C, or its object at path. */
static int translate_loaded(const struct aot_cli_opts *o, struct bpf_program *p, const char *path)
{
	struct uebpf_vm *vm = syscall_prog_vm(bpf_program__fd(p));
	char err[2048];

	if (!vm)
		return cli_error("aot", "%s: the program was not loaded", bpf_program__name(p));
	if (o->emit_c)
		return emit_c(vm, path);
	if (aot_compile_so(vm, o->cc, path, err, sizeof(err)))
		return cli_error("aot", "%s: %s", bpf_program__name(p), err);
	return CLI_OK;
}

/* Every program into dir/NAME.so. */
static int translate_all(const struct aot_cli_opts *o, struct bpf_object *obj)
{
	struct bpf_program *p;
	int ret = CLI_OK;

	bpf_object__for_each_program(p, obj)
	{
		char *path;

		if (asprintf(&path, "%s/%s.so", o->out, bpf_program__name(p)) < 0)
			return cli_error("aot", "out of memory");
		ret = translate_loaded(o, p, path);
		free(path);
		if (ret)
			break;
	}
	return ret;
}

/* The program to translate: the named one, else the only one. */
static struct bpf_program *pick_prog(struct bpf_object *obj, const char *name, const char *path)
{
	struct bpf_program *p, *found = NULL;
	size_t n = 0;

	bpf_object__for_each_program(p, obj)
	{
		n++;
		if (!name || !strcmp(bpf_program__name(p), name))
			found = p;
	}
	if (name && found)
		return found;
	if (!name && n == 1)
		return found;
	if (!n) {
		cli_error("aot", "%s: the object has no programs", path);
		return NULL;
	}
	fprintf(stderr, "uebpf aot: %s%s%s; the object has:", name ? "no program '" : "",
		name ? name : "several programs: give --prog NAME", name ? "'" : "");
	bpf_object__for_each_program(p, obj) fprintf(stderr, " %s", bpf_program__name(p));
	fputc('\n', stderr);
	return NULL;
}

/*
 * An ELF object, loaded on the interpreter (nothing is compiled at load)
 * by libbpf through the emulation, as uebpf run loads it.
 */
static int translate_obj(const struct aot_cli_opts *o, const char *path)
{
	bool all = !o->prog && !o->emit_c && is_dir(o->out);
	struct bpf_program *p = NULL;
	struct bpf_object *obj;
	int ret;

	if (setenv("UEBPF_ENGINE", "interp", 1))
		return cli_error("aot", "setenv: %s", strerror(errno));
	libbpf_set_print(print_warnings);
	obj = bpf_object__open_file(path, NULL);
	if (!obj)
		return cli_error("aot", "%s: cannot open the object: %s", path, strerror(errno));
	if (!all)
		p = pick_prog(obj, o->prog, path);
	if (!all && !p) {
		bpf_object__close(obj);
		return CLI_FAIL;
	}
	ret = bpf_object__load(obj);
	if (ret)
		ret = cli_error("aot", "%s: load failed: %s%s%s", path, strerror(-ret),
				*syscall_last_error() ? ": " : "", syscall_last_error());
	else
		ret = all ? translate_all(o, obj) : translate_loaded(o, p, o->out);
	bpf_object__close(obj);
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
	if (cli_is_elf(argv[optind]))
		return translate_obj(&o, argv[optind]);
	if (o.prog)
		return cli_usage_error("aot", "%s is not an ELF object: --prog is for objects",
				       argv[optind]);
	ret = cli_program_read(argv[optind], &prog, err, sizeof(err));
	if (ret == -ENOEXEC)
		return cli_usage_error("aot", "%s", err);
	if (ret)
		return cli_error("aot", "%s", err);
	ret = translate(&o, &prog);
	cli_program_free(&prog);
	return ret;
}
