// SPDX-License-Identifier: MIT
/* inject_load and inject_call: one stop of the target each, with their checks around it. */
#include "inject/inject.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "inject/internal.h"

/* libc.so.6 (or libc-2.NN.so); libdl for a libc older than 2.34, where dlopen lived there. */
static bool match_lib(const char *path, dev_t dev, ino_t ino, const void *ctx)
{
	const char *base = strrchr(path, '/') + 1, *name = ctx;
	size_t n = strlen(name), len = strlen(base);

	(void)dev;
	(void)ino;
	if (!strncmp(base, name, n) && (!strcmp(base + n, ".so.6") || !strcmp(base + n, ".so.2")))
		return true;
	return !strncmp(base, name, n) && base[n] == '-' && len > 3 &&
	       !strcmp(base + len - 3, ".so");
}

struct file_id {
	const char *path;
	dev_t dev;
	ino_t ino;
};

static bool match_file(const char *path, dev_t dev, ino_t ino, const void *ctx)
{
	const struct file_id *id = ctx;

	return !strcmp(path, id->path) || (dev == id->dev && ino == id->ino);
}

/* The address of a function in the target's libc (or libdl). */
static int libc_function(pid_t pid, const char *symbol, uint64_t *addr, char *err, size_t err_len)
{
	static const char *const libs[] = {"libc", "libdl"};
	struct inject_object obj;

	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++) {
		if (inject_find_object(pid, match_lib, libs[i], &obj))
			continue;
		if (!inject_symbol_addr(pid, &obj, symbol, addr, err, err_len))
			return 0;
	}
	errbuf_set(err, err_len,
		   "no %s in process %d: it is statically linked, or its libc is "
		   "older than 2.34 and has not loaded libdl",
		   symbol, (int)pid);
	return -ENOENT;
}

/* so_path made absolute, as a regular file that the target can see too. */
static int object_path(pid_t pid, const char *so_path, char *abs, struct stat *st, char *err,
		       size_t err_len)
{
	char in_target[PATH_MAX + 64];

	if (!realpath(so_path, abs) || stat(abs, st)) {
		int ret = -errno;

		errbuf_set(err, err_len, "%s: %s", so_path, strerror(errno));
		return ret;
	}
	if (!S_ISREG(st->st_mode)) {
		errbuf_set(err, err_len, "%s is not a regular file", so_path);
		return -ENOEXEC;
	}
	snprintf(in_target, sizeof(in_target), "/proc/%d/root%s", (int)pid, abs);
	if (access(in_target, R_OK)) {
		errbuf_set(err, err_len,
			   "%s cannot be seen from process %d (another mount "
			   "namespace?)",
			   abs, (int)pid);
		return -ENOENT;
	}
	return 0;
}

int inject_load(pid_t pid, const char *so_path, uint64_t *handle, char *err, size_t err_len)
{
	char abs[PATH_MAX], msg[512];
	struct inject_session s;
	struct inject_thread *t;
	uint64_t dlopen_at, dlerror_at, rax;
	struct stat st;
	int ret;

	ret = inject_check_target(pid, err, err_len);
	if (!ret)
		ret = object_path(pid, so_path, abs, &st, err, err_len);
	if (!ret)
		ret = inject_stop_all(&s, pid, err, err_len);
	if (ret)
		return ret;
	ret = libc_function(pid, "dlopen", &dlopen_at, err, err_len);
	if (ret)
		goto out;
	t = inject_pick_thread(&s);
	ret = inject_remote_call(&s, t, dlopen_at, abs, RTLD_NOW, &rax, err, err_len);
	if (ret)
		goto out;
	if (rax) {
		*handle = rax;
		goto out;
	}
	snprintf(msg, sizeof(msg), "no message");
	if (!libc_function(pid, "dlerror", &dlerror_at, NULL, 0) &&
	    !inject_remote_call(&s, t, dlerror_at, NULL, 0, &rax, NULL, 0) && rax)
		inject_read_string(&s, rax, msg, sizeof(msg));
	errbuf_set(err, err_len, "dlopen(\"%s\") failed in process %d: %s", abs, (int)pid, msg);
	ret = -ENOEXEC;
out:
	inject_resume_all(&s);
	return ret;
}

int inject_call(pid_t pid, const char *so_path, const char *symbol, const char *arg, int *ret_val,
		char *err, size_t err_len)
{
	char abs[PATH_MAX];
	struct inject_session s;
	struct inject_object obj;
	struct file_id id;
	uint64_t fn, rax;
	struct stat st;
	int ret;

	ret = inject_check_target(pid, err, err_len);
	if (!ret)
		ret = object_path(pid, so_path, abs, &st, err, err_len);
	if (!ret)
		ret = inject_stop_all(&s, pid, err, err_len);
	if (ret)
		return ret;
	id = (struct file_id){abs, st.st_dev, st.st_ino};
	ret = inject_find_object(pid, match_file, &id, &obj);
	if (ret) {
		errbuf_set(err, err_len,
			   ret == -ENOENT ? "%s is not loaded in process %d"
					  : "cannot read the mappings of %s in process %d",
			   abs, (int)pid);
		goto out;
	}
	ret = inject_symbol_addr(pid, &obj, symbol, &fn, err, err_len);
	if (ret)
		goto out;
	ret = inject_remote_call(&s, inject_pick_thread(&s), fn, arg, 0, &rax, err, err_len);
	if (!ret)
		*ret_val = (int)(uint32_t)rax;
out:
	inject_resume_all(&s);
	return ret;
}
