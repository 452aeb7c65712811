// SPDX-License-Identifier: MIT
/*
 * Reading a program file: the kind comes from the extension (stdin, "-",
 * holds raw instructions, as `uebpf asm` writes them), except that an ELF
 * object is recognized by its content whatever its name, so that it gets a
 * clear refusal instead of being taken for raw instructions.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errbuf.h"
#include "isa/asm.h"
#include "testfile.h"

static bool has_ext(const char *path, const char *ext)
{
	size_t len = strlen(path), elen = strlen(ext);

	return len > elen && !strcmp(path + len - elen, ext);
}

static int read_raw(const char *path, const char *data, size_t len, struct cli_program *prog,
		    char *err, size_t err_len)
{
	if (len % sizeof(struct isa_insn)) {
		errbuf_set(err, err_len, "%s: %zu bytes, not a whole number of 8-byte instructions",
			   path, len);
		return -EINVAL;
	}
	prog->n = len / sizeof(struct isa_insn);
	prog->insns = malloc(len ? len : 1);
	if (!prog->insns) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	memcpy(prog->insns, data, len);
	return 0;
}

static int read_asm(const char *path, const char *data, size_t len, struct cli_program *prog,
		    char *err, size_t err_len)
{
	char msg[256];
	int ret;

	if (strlen(data) != len) {
		errbuf_set(err, err_len, "%s: a NUL byte in assembly text", path);
		return -EINVAL;
	}
	ret = isa_assemble(data, &prog->insns, &prog->n, msg, sizeof(msg));
	if (ret)
		errbuf_set(err, err_len, "%s: %s", path, msg);
	return ret;
}

static int read_data(const char *path, const char *data, struct cli_program *prog, char *err,
		     size_t err_len)
{
	struct cli_testfile tf;
	char msg[256];
	int ret;

	ret = cli_testfile_parse(data, &tf, msg, sizeof(msg));
	if (!ret)
		ret = cli_testfile_program(&tf, &prog->insns, &prog->n, msg, sizeof(msg));
	if (ret) {
		errbuf_set(err, err_len, "%s: %s", path, msg);
		cli_testfile_free(&tf);
		return ret;
	}
	prog->mem = tf.mem;
	prog->mem_len = tf.mem_len;
	tf.mem = NULL;
	cli_testfile_free(&tf);
	return 0;
}

static bool elf_magic(const char *data, size_t len)
{
	return len >= 4 && !memcmp(data, "\177ELF", 4);
}

bool cli_is_elf(const char *path)
{
	char magic[4];
	size_t n = 0;
	FILE *f;

	if (!strcmp(path, "-"))
		return false;
	f = fopen(path, "rb");
	if (f) {
		n = fread(magic, 1, sizeof(magic), f);
		fclose(f);
	}
	return elf_magic(magic, n);
}

int cli_program_read(const char *path, struct cli_program *prog, char *err, size_t err_len)
{
	char *data;
	size_t len;
	int ret;

	*prog = (struct cli_program){0};
	ret = cli_read_file(path, &data, &len, err, err_len);
	if (ret)
		return ret;
	if (elf_magic(data, len)) {
		errbuf_set(err, err_len,
			   "%s: an ELF object; this command takes a .s, .bin or .data program",
			   path);
		ret = -EOPNOTSUPP;
	} else if (has_ext(path, ".s")) {
		ret = read_asm(path, data, len, prog, err, err_len);
	} else if (has_ext(path, ".bin") || !strcmp(path, "-")) {
		ret = read_raw(path, data, len, prog, err, err_len);
	} else if (has_ext(path, ".data")) {
		ret = read_data(path, data, prog, err, err_len);
	} else {
		errbuf_set(err, err_len,
			   "%s: unknown kind of program; expected a .s, .bin or .data file", path);
		ret = -ENOEXEC;
	}
	free(data);
	if (ret)
		cli_program_free(prog);
	return ret;
}

void cli_program_free(struct cli_program *prog)
{
	free(prog->insns);
	free(prog->mem);
	*prog = (struct cli_program){0};
}
