// SPDX-License-Identifier: MIT
/*
 * Running the system C compiler on a translation. The compiler is started
 * directly (posix_spawnp: fork and exec without a shell, safe in threaded
 * hosts), with its standard output and error captured through a pipe so that
 * its diagnostics end up in the caller's error message instead of on the
 * terminal of whatever process embeds uebpf.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aot_internal.h"
#include "common/errbuf.h"

extern char **environ;

/* Kept of the compiler's output for the error message; the rest is read and dropped. */
#define AOT_CC_OUTPUT 2048

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Everything the child writes, up to AOT_CC_OUTPUT - 1 bytes of it, NUL-terminated. */
static void read_output(int fd, char *out)
{
	size_t used = 0;
	char drop[512];

	for (;;) {
		char *p = used < AOT_CC_OUTPUT - 1 ? out + used : drop;
		size_t room = used < AOT_CC_OUTPUT - 1 ? AOT_CC_OUTPUT - 1 - used : sizeof(drop);
		ssize_t r = read(fd, p, room);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (p != drop)
			used += (size_t)r;
	}
	while (used && (out[used - 1] == '\n' || out[used - 1] == ' '))
		used--;
	out[used] = '\0';
}

/* Run argv to completion with stdin from /dev/null and stdout, stderr into out. */
static int spawn(char *const argv[], char *out, int *status)
{
	posix_spawn_file_actions_t fa;
	int pipefd[2], ret;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	ret = posix_spawn_file_actions_init(&fa);
	if (!ret)
		ret = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) ?:
		      posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1) ?:
		      posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2) ?:
		      posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (ret) {
		close(pipefd[0]);
		return -ret;
	}
	read_output(pipefd[0], out);
	close(pipefd[0]);
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

/*
 * -funroll-loops: eBPF loops are small and GCC does not unroll at -O2
 * (Clang does); unrolled, a Fletcher-16 loop without checks runs as fast as
 * its native -O2 twin instead of 1.12x slower. No -march=native: the cache
 * may be shared by machines of different CPUs. -nostdlib: the code calls
 * nothing but through its context, and not linking the C library and start
 * files makes a compilation (mostly process start-up) about a fifth faster;
 * so does -pipe.
 */
static int run_cc(const char *cc, const char *src, const char *obj, char *err, size_t err_len)
{
	char *const argv[] = {(char *)cc,  "-O2", "-funroll-loops", "-pipe",	 "-fPIC", "-shared",
			      "-nostdlib", "-o",  (char *)obj,	    (char *)src, NULL};
	char *out = malloc(AOT_CC_OUTPUT);
	int status, ret;

	if (!out) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	ret = spawn(argv, out, &status);
	if (ret == -ENOENT) {
		errbuf_set(err, err_len,
			   "C compiler '%s' not found (set UEBPF_CC to the compiler to use)", cc);
	} else if (ret) {
		errbuf_set(err, err_len, "cannot run the C compiler '%s': %s", cc, strerror(-ret));
	} else if (WIFSIGNALED(status)) {
		errbuf_set(err, err_len, "C compiler '%s' killed by signal %d%s%s", cc,
			   WTERMSIG(status), *out ? ": " : "", out);
		ret = -ECHILD;
	} else if (WEXITSTATUS(status)) {
		errbuf_set(err, err_len, "C compiler '%s' failed (exit status %d)%s%s", cc,
			   WEXITSTATUS(status), *out ? ": " : "", out);
		ret = -ECHILD;
	}
	free(out);
	return ret;
}

int aot_compile(const char *cc, const char *text, size_t len, const char *dir, const char *stem,
		char **so, char *err, size_t err_len)
{
	size_t plen = strlen(dir) + strlen(stem) + 16;
	char *src = malloc(plen), *obj = malloc(plen), *compiler = NULL;
	int fd = -1, ret = aot_config_cc(cc, &compiler);

	if (ret || !src || !obj) {
		errbuf_set(err, err_len, "out of memory");
		ret = -ENOMEM;
		goto fail;
	}
	/* The unique .c name reserves the .so name next to it for this call alone. */
	snprintf(src, plen, "%s/.%s-XXXXXX.c", dir, stem);
	fd = mkstemps(src, 2);
	if (fd < 0) {
		ret = -errno;
		errbuf_set(err, err_len, "cannot create a file in %s: %s", dir, strerror(errno));
		goto fail;
	}
	snprintf(obj, plen, "%.*s.so", (int)(strlen(src) - 2), src);
	ret = write_all(fd, text, len);
	if (close(fd) && !ret)
		ret = -errno;
	if (ret) {
		errbuf_set(err, err_len, "cannot write %s: %s", src, strerror(-ret));
		unlink(src);
		goto fail;
	}
	ret = run_cc(compiler, src, obj, err, err_len);
	unlink(src);
	if (ret) {
		unlink(obj);
		goto fail;
	}
	free(src);
	free(compiler);
	*so = obj;
	return 0;
fail:
	free(src);
	free(obj);
	free(compiler);
	return ret;
}
