// SPDX-License-Identifier: MIT
/* Preloading uebpf's libraries into commands, and the registry they use. */
#define _GNU_SOURCE
#include "preload.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common/errbuf.h"
#include "registry/registry.h"

int cli_lib_path(const char *file, char *out, size_t len, char *err, size_t err_len)
{
	static const char *const rel[] = {"../../src", "../lib/uebpf"};
	const char *env = getenv(strstr(file, "agent") ? "UEBPF_AGENT" : "UEBPF_SHIM");
	char exe[PATH_MAX], *dir;
	ssize_t n;

	if (env && *env) {
		snprintf(out, len, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		errbuf_set(err, err_len, "cannot find this executable: %s", strerror(errno));
		return -ENOENT;
	}
	exe[n] = '\0';
	dir = dirname(exe);
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		char path[PATH_MAX], real[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s/%s", dir, rel[i], file);
		if (realpath(path, real) && !access(real, R_OK) &&
		    (size_t)snprintf(out, len, "%s", real) < len)
			return 0;
	}
	errbuf_set(err, err_len, "cannot find %s in %s/../../src or %s/../lib/uebpf (set $%s)",
		   file, dir, dir, strstr(file, "agent") ? "UEBPF_AGENT" : "UEBPF_SHIM");
	return -ENOENT;
}

int cli_preload(const char *lib, char *err, size_t err_len)
{
	const char *old = getenv("LD_PRELOAD");
	char *v;
	int ret;

	/* after what is there: a sanitizer's runtime must stay first */
	if (old && *old)
		ret = asprintf(&v, "%s:%s", old, lib);
	else
		ret = asprintf(&v, "%s", lib);
	if (ret < 0) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	ret = setenv("LD_PRELOAD", v, 1) ? -errno : 0;
	free(v);
	if (ret)
		errbuf_set(err, err_len, "LD_PRELOAD: %s", strerror(-ret));
	return ret;
}

int cli_use_registry(const char *name, bool create, char *path, size_t len, char *err,
		     size_t err_len)
{
	struct reg *r;
	int ret;

	if (!name)
		name = getenv("UEBPF_REGISTRY");
	ret = reg_path(name, path, len, err, err_len);
	if (ret)
		return ret;
	ret = reg_open(path, create, &r, err, err_len);
	if (ret == -ENOENT)
		errbuf_set(err, err_len, "no registry %s: load programs into it first (uebpf load)",
			   path);
	if (ret)
		return ret;
	reg_close(r);
	if (setenv("UEBPF_REGISTRY", path, 1)) {
		errbuf_set(err, err_len, "UEBPF_REGISTRY: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

int cli_exec(char **argv, char *err, size_t err_len)
{
	execvp(argv[0], argv);
	errbuf_set(err, err_len, "%s: %s", argv[0], strerror(errno));
	return -errno;
}

int cli_exec_preloaded(const char *cmd, const char *registry, bool create, const char *lib,
		       char **argv)
{
	char path[REG_PATH_MAX], lib_path[4096], err[512];

	if (!cli_use_registry(registry, create, path, sizeof(path), err, sizeof(err)) &&
	    !cli_lib_path(lib, lib_path, sizeof(lib_path), err, sizeof(err)) &&
	    !cli_preload(lib_path, err, sizeof(err)))
		cli_exec(argv, err, sizeof(err));
	return cli_error(cmd, "%s", err);
}
