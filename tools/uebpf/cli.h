/* SPDX-License-Identifier: MIT */
/*
 * cli: the uebpf command line tool. Each command lives in its own cmd_*.c;
 * this header holds what they share: exit statuses, error reporting, file
 * reading, engine names and reading a program file of any supported kind.
 */
#ifndef UEBPF_TOOLS_CLI_H
#define UEBPF_TOOLS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "isa/isa.h"
#include "uebpf/uebpf.h"

/* Exit statuses of every command. */
enum {
	CLI_OK = 0,
	CLI_FAIL = 1,  /* the work failed: a test, a load, a run, a file */
	CLI_USAGE = 2, /* the command line is wrong */
};

int cmd_conformance(int argc, char **argv);
int cmd_asm(int argc, char **argv);
int cmd_disasm(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_aot(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_maps(int argc, char **argv);

/* "uebpf CMD: message" on stderr; they return CLI_FAIL and CLI_USAGE. */
__attribute__((format(printf, 2, 3))) int cli_error(const char *cmd, const char *fmt, ...);
__attribute__((format(printf, 2, 3))) int cli_usage_error(const char *cmd, const char *fmt, ...);

/* A usage error for what getopt_long returned ('?' or ':') at argv[optind - 1]. */
int cli_bad_option(const char *cmd, int opt, char **argv);

/* A whole file ("-": stdin), NUL-terminated; *len does not count the NUL. */
int cli_read_file(const char *path, char **data, size_t *len, char *err, size_t err_len);

/* "interp", "jit" or "aot"; -EINVAL for any other name. */
int cli_parse_engine(const char *name, enum uebpf_engine *engine);
const char *cli_engine_name(enum uebpf_engine engine);

/* Select the engine on vm, with a message saying when it is not available. */
int cli_set_engine(struct uebpf_vm *vm, enum uebpf_engine engine, char *err, size_t err_len);

/* A program read from a file, with the memory a .data file gives it. */
struct cli_program {
	struct isa_insn *insns;
	size_t n;
	uint8_t *mem;
	size_t mem_len;
};

/*
 * Read a .s (assembly), .bin or "-" (raw instructions; "-" is stdin) or .data
 * (conformance test) program. An ELF object is recognized by its magic and refused with
 * -EOPNOTSUPP; a file of no known kind gives -ENOEXEC.
 */
/* Whether path is a readable file starting with the ELF magic (not "-"). */
bool cli_is_elf(const char *path);
int cli_program_read(const char *path, struct cli_program *prog, char *err, size_t err_len);
void cli_program_free(struct cli_program *prog);

/* uebpf run on an ELF object: loaded by libbpf into the bpf() emulation, then test-run. */
struct cli_run_obj_opts {
	const char *prog; /* program name; the first one when NULL */
	const char *data_in, *data_out, *ctx_in, *ctx_out; /* file names or NULL */
	uint32_t repeat;
	bool engine_given; /* else UEBPF_ENGINE from the environment, interp by default */
	enum uebpf_engine engine;
	bool json;
	bool dump_maps;
};

int cli_run_obj(const char *path, const struct cli_run_obj_opts *o);

#endif
