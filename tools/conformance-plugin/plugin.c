// SPDX-License-Identifier: MIT
/*
 * uebpf-conformance-plugin: runs one program for the bpf_conformance runner.
 *
 * The program comes as base16 bytes on one line of stdin (or --program HEX),
 * the memory as base16 bytes in the first positional argument (optional,
 * may be empty). On success r0 is printed in hex without 0x. On failure the
 * message goes to stderr and to stdout, where the runner looks for an
 * expected error, and the exit status is 1.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hexbytes.h"
#include "test_helpers.h"
#include "uebpf/uebpf.h"

struct plugin_args {
	const char *program; /* NULL: read from stdin */
	const char *memory;
	enum uebpf_engine engine;
};

__attribute__((format(printf, 1, 2))) static int plugin_fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", msg);
	printf("%s\n", msg);
	return 1;
}

static int parse_engine(const char *name, enum uebpf_engine *engine)
{
	static const char *const names[] = {
		[UEBPF_ENGINE_INTERP] = "interp",
		[UEBPF_ENGINE_JIT] = "jit",
		[UEBPF_ENGINE_AOT] = "aot",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(name, names[i])) {
			*engine = (enum uebpf_engine)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_args(int argc, char **argv, struct plugin_args *a)
{
	for (int i = 1; i < argc; i++) {
		bool has_value = i + 1 < argc;

		if (!strcmp(argv[i], "--program") && has_value) {
			a->program = argv[++i];
		} else if (!strcmp(argv[i], "--engine") && has_value) {
			if (parse_engine(argv[++i], &a->engine))
				return plugin_fail("unknown engine '%s' (interp, jit, aot)",
						   argv[i]);
		} else if (!strncmp(argv[i], "--", 2)) {
			return plugin_fail("usage: %s [--program HEX] [--engine E] [MEMORY_HEX]"
					   " (bad argument '%s')",
					   argv[0], argv[i]);
		} else if (a->memory) {
			return plugin_fail("more than one memory argument");
		} else {
			a->memory = argv[i];
		}
	}
	return 0;
}

/* The program line from stdin; malloc'd. */
static char *read_program(void)
{
	char *line = NULL;
	size_t cap = 0;

	if (getline(&line, &cap, stdin) < 0) {
		free(line);
		return NULL;
	}
	return line;
}

static int run(const struct plugin_args *a, const uint8_t *code, size_t code_len, uint8_t *mem,
	       size_t mem_len)
{
	struct uebpf_vm *vm = uebpf_vm_create();
	char err[512] = "";
	uint64_t r0;
	int ret;

	if (!vm)
		return plugin_fail("out of memory");
	ret = uebpf_vm_set_engine(vm, a->engine);
	if (ret) {
		uebpf_vm_destroy(vm);
		return plugin_fail("engine not available: %s", strerror(-ret));
	}
	ret = cli_register_test_helpers(vm);
	if (!ret)
		ret = uebpf_vm_load(vm, code, code_len, err, sizeof(err));
	if (!ret)
		ret = uebpf_vm_run(vm, mem, mem_len, &r0, err, sizeof(err));
	uebpf_vm_destroy(vm);
	if (ret)
		return plugin_fail("%s", err[0] ? err : strerror(-ret));
	printf("%" PRIx64 "\n", r0);
	return 0;
}

int main(int argc, char **argv)
{
	struct plugin_args a = {.engine = UEBPF_ENGINE_INTERP};
	uint8_t *code = NULL, *mem = NULL;
	size_t code_len = 0, mem_len = 0;
	char err[256], *line = NULL;
	int ret;

	ret = parse_args(argc, argv, &a);
	if (ret)
		return ret;
	if (!a.program) {
		line = read_program();
		if (!line)
			return plugin_fail("no program on stdin");
		a.program = line;
	}
	if (cli_hex_bytes(a.program, &code, &code_len, err, sizeof(err)))
		ret = plugin_fail("program: %s", err);
	else if (a.memory && cli_hex_bytes(a.memory, &mem, &mem_len, err, sizeof(err)))
		ret = plugin_fail("memory: %s", err);
	else
		ret = run(&a, code, code_len, mem, mem_len);
	free(line);
	free(code);
	free(mem);
	return ret;
}
