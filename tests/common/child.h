/* SPDX-License-Identifier: MIT */
/*
 * child: tests that drive other programs (uebpf's CLI, loaders, targets)
 * through pipes: start one, talk to it line by line, collect what it wrote
 * and its exit status; and read a counter a program left in a registry map.
 */
#ifndef UEBPF_TEST_CHILD_H
#define UEBPF_TEST_CHILD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct reg;

struct child {
	pid_t pid;
	int in, out; /* its stdin (write end), its stdout and stderr (read end) */
};

/* Start argv (argv[0] a path) with env ("NAME=value" or NULL) added. */
bool child_spawn(char *const *argv, const char *env, struct child *c);
/* All c writes until it ends, and its exit status (128 + signal when killed). */
char *child_finish(struct child *c, int *status);
/* child_spawn and child_finish: all argv wrote, its status (-1 if it could not start). */
char *child_run(char *const *argv, const char *env, int *status);
/*
 * Start a loader and wait for its "ready" line: NULL once it is ready in
 * *c; else all it wrote, with its status in *status (-1 where it could not
 * start or ended with 0 before getting ready).
 */
char *child_start_ready(char *const *argv, struct child *c, int *status);
/* Read lines until one equals want; the others are printed after "  label: ". */
bool child_wait_line(struct child *c, const char *want, const char *label);
/* Send cmd; true when the next line starts with want (else it is printed). */
bool child_ask(struct child *c, const char *cmd, const char *want);

/*
 * Copy src to dst with mode: for a child of another user (nobody), which
 * cannot reach a build tree inside a 0700 directory (mktemp -d).
 * Returns 0 or -errno.
 */
int child_copy_file(const char *src, const char *dst, mode_t mode);

/* The u64 value at u32 key of the registry's map called name; -1 if no such map. */
long long child_reg_counter(struct reg *r, const char *name, uint32_t key);

#endif
