// SPDX-License-Identifier: MIT
/* Error reporting, file reading and engine names shared by the commands. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errbuf.h"

static const char *const cli_engines[] = {
	[UEBPF_ENGINE_INTERP] = "interp",
	[UEBPF_ENGINE_JIT] = "jit",
	[UEBPF_ENGINE_AOT] = "aot",
};

static void vreport(const char *cmd, const char *fmt, va_list ap)
{
	fprintf(stderr, "uebpf %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cmd, fmt, ap);
	va_end(ap);
	return CLI_FAIL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cmd, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try 'uebpf %s --help'.\n", cmd);
	return CLI_USAGE;
}

int cli_bad_option(const char *cmd, int opt, char **argv)
{
	const char *arg = argv[optind - 1];

	if (opt == ':')
		return cli_usage_error(cmd, "option '%s' needs an argument", arg);
	return cli_usage_error(cmd, "unknown option '%s'", arg);
}

int cli_read_file(const char *path, char **data, size_t *len, char *err, size_t err_len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t cap = 4096, n = 0;
	char *buf = NULL, *p;

	*data = NULL;
	*len = 0;
	if (!f) {
		errbuf_set(err, err_len, "%s: %s", path, strerror(errno));
		return -errno;
	}
	for (;;) {
		p = realloc(buf, cap + 1);
		if (!p) {
			errbuf_set(err, err_len, "%s: out of memory", path);
			goto fail;
		}
		buf = p;
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		cap *= 2;
	}
	if (ferror(f)) {
		errbuf_set(err, err_len, "%s: read error", path);
		goto fail;
	}
	if (f != stdin)
		fclose(f);
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return 0;
fail:
	free(buf);
	if (f != stdin)
		fclose(f);
	return -EIO;
}

int cli_parse_engine(const char *name, enum uebpf_engine *engine)
{
	for (size_t i = 0; i < sizeof(cli_engines) / sizeof(cli_engines[0]); i++) {
		if (!strcmp(name, cli_engines[i])) {
			*engine = (enum uebpf_engine)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *cli_engine_name(enum uebpf_engine engine)
{
	return (size_t)engine < sizeof(cli_engines) / sizeof(cli_engines[0]) ? cli_engines[engine]
									     : "?";
}

int cli_set_engine(struct uebpf_vm *vm, enum uebpf_engine engine, char *err, size_t err_len)
{
	int ret = uebpf_vm_set_engine(vm, engine);

	if (ret == -EOPNOTSUPP)
		errbuf_set(err, err_len, "the %s engine is not available in this build",
			   cli_engine_name(engine));
	else if (ret)
		errbuf_set(err, err_len, "cannot select the %s engine: %s", cli_engine_name(engine),
			   strerror(-ret));
	return ret;
}
