// SPDX-License-Identifier: MIT
#define _GNU_SOURCE /* pipe2 */
#include "victim_ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

uint64_t victim_read(const uint64_t *field)
{
	return __atomic_load_n(field, __ATOMIC_ACQUIRE);
}

bool victim_wait_above(const uint64_t *field, uint64_t above, int timeout_ms)
{
	struct timespec ms = {0, 1000 * 1000};

	for (int i = 0; i < timeout_ms; i++) {
		if (victim_read(field) > above)
			return true;
		nanosleep(&ms, NULL);
	}
	return victim_read(field) > above;
}

int victim_start(struct victim *v, const char *exe, const char *const *extra)
{
	char path[] = "/tmp/uebpf-victim-XXXXXX";
	const char *argv[16] = {exe, path};
	int fd = mkstemp(path), pipefd[2], n = 2;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, sizeof(*v->stats)) || pipe2(pipefd, O_CLOEXEC)) {
		close(fd);
		return -errno;
	}
	v->stats = mmap(NULL, sizeof(*v->stats), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (v->stats == MAP_FAILED)
		return -errno;
	for (; extra && *extra && n < 15; extra++)
		argv[n++] = *extra;
	v->pid = fork();
	if (v->pid == 0) {
		dup2(pipefd[0], 0);
		execv(exe, (char **)argv);
		_exit(127);
	}
	close(pipefd[0]);
	v->stdin_fd = pipefd[1];
	/* the victim has it open; the name is not needed any more */
	if (!victim_wait_above(&v->stats->ready, 0, 10000)) {
		unlink(path);
		victim_stop(v);
		return -ETIMEDOUT;
	}
	unlink(path);
	return 0;
}

int victim_stop(struct victim *v)
{
	struct timespec ms = {0, 1000 * 1000};
	int status;

	__atomic_store_n(&v->stats->quit, 1, __ATOMIC_RELEASE);
	if (v->stdin_fd >= 0)
		close(v->stdin_fd);
	v->stdin_fd = -1;
	for (int i = 0; i < 10000; i++) {
		pid_t r = waitpid(v->pid, &status, WNOHANG);

		if (r == v->pid)
			return status;
		if (r < 0)
			return -1;
		nanosleep(&ms, NULL);
	}
	kill(v->pid, SIGKILL);
	waitpid(v->pid, &status, 0);
	return -1;
}
