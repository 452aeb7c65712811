// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include "child.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "maps/maps.h"
#include "registry/registry.h"

bool child_spawn(char *const *argv, const char *env, struct child *c)
{
	int in[2], out[2];

	if (pipe2(in, O_CLOEXEC))
		return false;
	if (pipe2(out, O_CLOEXEC)) {
		close(in[0]);
		close(in[1]);
		return false;
	}
	c->pid = fork();
	if (c->pid < 0)
		return false;
	if (!c->pid) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		if (env)
			putenv((char *)env);
		execv(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	c->in = in[1];
	c->out = out[0];
	return true;
}

char *child_finish(struct child *c, int *status)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *t;
	ssize_t n;

	if (c->in >= 0)
		close(c->in);
	while (buf && (n = read(c->out, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (len + 1 < cap)
			continue;
		t = realloc(buf, cap *= 2);
		if (!t)
			free(buf);
		buf = t;
	}
	close(c->out);
	waitpid(c->pid, status, 0);
	*status = WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
	if (buf)
		buf[len] = '\0';
	return buf ? buf : strdup("");
}

char *child_run(char *const *argv, const char *env, int *status)
{
	struct child c;

	if (!child_spawn(argv, env, &c)) {
		*status = -1;
		return strdup("");
	}
	return child_finish(&c, status);
}

char *child_start_ready(char *const *argv, struct child *c, int *status)
{
	char *out;

	if (!child_spawn(argv, NULL, c)) {
		*status = -1;
		return strdup("");
	}
	if (child_wait_line(c, "ready", "loader"))
		return NULL;
	out = child_finish(c, status);
	if (!*status)
		*status = -1;
	return out;
}

bool child_wait_line(struct child *c, const char *want, const char *label)
{
	char line[256];
	size_t len = 0;

	while (len < sizeof(line) - 1 && read(c->out, &line[len], 1) == 1) {
		if (line[len] != '\n') {
			len++;
			continue;
		}
		line[len] = '\0';
		if (!strcmp(line, want))
			return true;
		printf("  %s: %s\n", label, line);
		len = 0;
	}
	return false;
}

bool child_ask(struct child *c, const char *cmd, const char *want)
{
	char line[128];
	size_t len = 0;

	if (write(c->in, cmd, strlen(cmd)) != (ssize_t)strlen(cmd))
		return false;
	while (len < sizeof(line) - 1 && read(c->out, &line[len], 1) == 1 && line[len] != '\n')
		len++;
	line[len] = '\0';
	if (!strncmp(line, want, strlen(want)))
		return true;
	printf("  %s -> %s\n", cmd, line);
	return false;
}

int child_copy_file(const char *src, const char *dst, mode_t mode)
{
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, ret = 0;
	char buf[65536];
	ssize_t n;

	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0)
		ret = -errno;
	while (!ret && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 || write(out, buf, (size_t)n) != n)
			ret = n < 0 ? -errno : -EIO;
	}
	if (!ret && fchmod(out, mode))
		ret = -errno;
	close(in);
	if (out >= 0)
		close(out);
	return ret;
}

long long child_reg_counter(struct reg *r, const char *name, uint32_t key)
{
	DIR *d = opendir(reg_dir(r));
	long long count = -1;
	struct dirent *e;
	char err[256];

	while (d && (e = readdir(d))) {
		uint64_t v = 0;
		struct map *m;
		int fd;

		if (strncmp(e->d_name, "map-", 4) ||
		    reg_open_map(r, e->d_name, &fd, err, sizeof(err)))
			continue;
		if (!map_open_fd(fd, &m, err, sizeof(err))) {
			if (!strcmp(map_info(m)->name, name))
				count = map_lookup_user(m, &key, &v) ? 0 : (long long)v;
			map_close(m);
		}
		close(fd);
	}
	if (d)
		closedir(d);
	return count;
}
