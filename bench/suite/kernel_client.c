// SPDX-License-Identifier: MIT
/*
 * The kernel column. The uebpf CLI's syscall() sends bpf() to uebpf's
 * emulation, so the kernel's runs happen in a helper executable that does
 * not link the interposition (kernel_helper.c). It loads the same object
 * the same way and serves slices over a pipe, one text line each way:
 *
 *   helper -> "ready" | "skip REASON" | "error MESSAGE"   once, after loading
 *   client -> "run N REF"                                 a slice of N runs
 *   helper -> "ok K" and K times " CPU NS RETVAL REF_BEFORE REF_AFTER"
 *             | "error MESSAGE"
 *
 * Closing the pipe ends the helper.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "suite.h"

extern char **environ;

struct suite_kernel {
	pid_t pid;
	FILE *to, *from;
};

static int read_line(struct suite_kernel *k, char *line, size_t len, char *err, size_t err_len)
{
	if (!fgets(line, (int)len, k->from)) {
		errbuf_set(err, err_len, "the kernel helper died");
		return -EPIPE;
	}
	line[strcspn(line, "\n")] = '\0';
	if (!strncmp(line, "error ", 6)) {
		errbuf_set(err, err_len, "kernel: %s", line + 6);
		return -EIO;
	}
	return 0;
}

int suite_kernel_open(const char *helper, const char *suite_path, size_t test_index, uint32_t size,
		      const char *elf_path, struct suite_kernel **out, char *err, size_t err_len)
{
	int in[2] = {-1, -1}, outp[2] = {-1, -1};
	posix_spawn_file_actions_t fa;
	char idx[32], sz[32], line[512];
	struct suite_kernel *k;
	int ret;

	*out = NULL;
	snprintf(idx, sizeof(idx), "%zu", test_index);
	snprintf(sz, sizeof(sz), "%u", size);
	char *argv[] = {(char *)helper, (char *)suite_path, idx, sz, (char *)elf_path, NULL};

	k = calloc(1, sizeof(*k));
	if (!k || pipe2(in, O_CLOEXEC) || pipe2(outp, O_CLOEXEC)) {
		errbuf_set(err, err_len, "cannot start the kernel helper: %s", strerror(errno));
		ret = -errno ?: -ENOMEM;
		goto fail;
	}
	/* a helper that dies mid-run must give an error, not end the CLI by SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	ret = -posix_spawn(&k->pid, helper, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(outp[1]);
	in[0] = outp[1] = -1;
	if (ret) {
		errbuf_set(err, err_len, "cannot start the kernel helper %s: %s", helper,
			   strerror(-ret));
		goto fail;
	}
	k->to = fdopen(in[1], "w");
	k->from = fdopen(outp[0], "r");
	if (!k->to || !k->from) {
		ret = -ENOMEM;
		errbuf_set(err, err_len, "out of memory");
		goto fail;
	}
	in[1] = outp[0] = -1;
	ret = read_line(k, line, sizeof(line), err, err_len);
	if (!ret && !strncmp(line, "skip ", 5)) {
		errbuf_set(err, err_len, "%s", line + 5);
		ret = -EPERM;
	} else if (!ret && strcmp(line, "ready")) {
		errbuf_set(err, err_len, "the kernel helper said '%s'", line);
		ret = -EPROTO;
	}
	if (ret)
		goto fail;
	*out = k;
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (outp[i] >= 0)
			close(outp[i]);
	}
	suite_kernel_close(k);
	return ret;
}

int suite_kernel_slice(struct suite_kernel *k, uint64_t n, bool ref, struct suite_slice *res,
		       char *err, size_t err_len)
{
	char line[8192], *p, *end;
	size_t count;
	int ret;

	memset(res, 0, sizeof(*res));
	if (fprintf(k->to, "run %llu %d\n", (unsigned long long)n, ref) < 0 || fflush(k->to)) {
		errbuf_set(err, err_len, "the kernel helper died");
		return -EPIPE;
	}
	ret = read_line(k, line, sizeof(line), err, err_len);
	if (ret)
		return ret;
	if (strncmp(line, "ok ", 3))
		goto bad;
	count = strtoul(line + 3, &p, 10);
	if (count < 1 || count > SUITE_MAX_CPUS)
		goto bad;
	for (size_t i = 0; i < count; i++) {
		res->cpu[i] = (int)strtol(p, &end, 10);
		res->ns[i] = strtod(end, &end);
		res->retval[i] = (uint32_t)strtoul(end, &end, 10);
		res->ref_before[i] = strtod(end, &end);
		res->ref_after[i] = strtod(end, &end);
		if (end == p)
			goto bad;
		p = end;
	}
	res->nthreads = count;
	return 0;
bad:
	errbuf_set(err, err_len, "the kernel helper said '%.100s'", line);
	return -EPROTO;
}

void suite_kernel_close(struct suite_kernel *k)
{
	int status;

	if (!k)
		return;
	if (k->to)
		fclose(k->to);
	if (k->from)
		fclose(k->from);
	if (k->pid > 0)
		waitpid(k->pid, &status, 0);
	free(k);
}
