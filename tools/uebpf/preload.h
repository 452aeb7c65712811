/* SPDX-License-Identifier: MIT */
/*
 * preload: what `uebpf load`, `start` and `trace` share to run a command
 * with one of uebpf's libraries preloaded and a registry named in its
 * environment.
 */
#ifndef UEBPF_TOOLS_PRELOAD_H
#define UEBPF_TOOLS_PRELOAD_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The path of libuebpf-shim.so or libuebpf-agent.so: $UEBPF_SHIM or
 * $UEBPF_AGENT when set, else next to this executable in the build tree
 * (../../src/) or in an installed tree (../lib/uebpf/).
 */
int cli_lib_path(const char *file, char *out, size_t len, char *err, size_t err_len);

/* Add lib to LD_PRELOAD, after what is there. */
int cli_preload(const char *lib, char *err, size_t err_len);

/*
 * Open (create: make) the registry NAME (a name or a path; NULL:
 * $UEBPF_REGISTRY, else "default"), and set UEBPF_REGISTRY to its path.
 */
int cli_use_registry(const char *name, bool create, char *path, size_t len, char *err,
		     size_t err_len);

/* Exec argv (PATH searched); returns only on failure, with the message in err. */
int cli_exec(char **argv, char *err, size_t err_len);

/*
 * `uebpf load` and `start`: exec argv with lib (a file name for
 * cli_lib_path) preloaded and the registry registry (see cli_use_registry)
 * in its environment. Returns only on failure, reported as command cmd.
 */
int cli_exec_preloaded(const char *cmd, const char *registry, bool create, const char *lib,
		       char **argv);

#endif
