// SPDX-License-Identifier: MIT
/*
 * The on-disk cache of compiled translations: where it lives, that it is
 * private, what a translation is called in it, and how it stays bounded.
 *
 * Where the directory is comes from aot_config_cache_dir. Missing
 * components are created 0700. The process will
 * dlopen what it finds there, so the directory must belong to the effective
 * user and be writable by nobody else; otherwise the cache is refused.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aot_internal.h"
#include "common/errbuf.h"

/* A compilation's temporary files older than this were left by one that died. */
#define AOT_STALE_SECONDS 3600

/*
 * Size: objects are evicted least recently used first (the file's mtime is
 * its last use: set when it is published, touched at every hit) whenever
 * a new one is published and the objects together exceed
 * aot_config_cache_max() bytes. The object just published always stays.
 */

/* mkdir -p, each component created private. */
static int make_dirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		int ret;

		if (*p != '/')
			continue;
		*p = '\0';
		ret = mkdir(path, 0700);
		*p = '/';
		if (ret && errno != EEXIST)
			return -errno;
	}
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int aot_cache_dir(char **dir, char *err, size_t err_len)
{
	char *path;
	struct stat st;
	int ret = aot_config_cache_dir(&path);

	if (ret == -ENOENT)
		errbuf_set(err, err_len, "no cache directory: set UEBPF_AOT_CACHE or HOME");
	else if (ret)
		errbuf_set(err, err_len, "out of memory");
	if (ret)
		return ret;
	ret = make_dirs(path);
	if (!ret && stat(path, &st))
		ret = -errno;
	if (ret) {
		errbuf_set(err, err_len, "cannot create the cache directory %s: %s", path,
			   strerror(-ret));
	} else if (!S_ISDIR(st.st_mode)) {
		errbuf_set(err, err_len, "the cache directory %s is not a directory", path);
		ret = -ENOTDIR;
	} else if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		errbuf_set(err, err_len,
			   "the cache directory %s is not private (owned by another user or "
			   "writable by others): refusing to load code from it",
			   path);
		ret = -EPERM;
	}
	if (ret) {
		free(path);
		return ret;
	}
	*dir = path;
	return 0;
}

static uint64_t rotl(uint64_t x, unsigned r)
{
	return x << r | x >> (64 - r);
}

/* A full avalanche of one word (the finalizer constants of MurmurHash3). */
static uint64_t avalanche(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/*
 * Two 64-bit lanes fed each word, crossed after every step. Not a
 * cryptographic hash: a collision can only cost a recompilation, because
 * the loader checks the identity of what it finds (see aot_identity). The
 * compiler is not part of the key: an object is as good whichever compiler
 * built it, and the cache must serve where there is none.
 */
void aot_cache_key(const char *text, size_t len, char key[AOT_KEY_LEN])
{
	uint64_t h1 = 0x9e3779b97f4a7c15ull ^ len, h2 = 0x6a09e667f3bcc909ull + len, w;
	const char *p = text;
	size_t left = len;

	for (; left >= 8; left -= 8, p += 8) {
		memcpy(&w, p, 8);
		h1 = rotl(h1 ^ w * 0x87c37b91114253d5ull, 31) * 5 + h2;
		h2 = rotl(h2 + w * 0x4cf5ad432745937full, 29) * 9 ^ h1;
	}
	w = 0;
	memcpy(&w, p, left);
	h1 = avalanche(h1 ^ w);
	h2 = avalanche(h2 + h1);
	h1 = avalanche(h1 + h2);
	snprintf(key, AOT_KEY_LEN, "%016" PRIx64 "%016" PRIx64, h1, h2);
}

void aot_cache_touch(const char *path)
{
	/* the clock of least-recently-used eviction: a failure only makes it older */
	utimensat(AT_FDCWD, path, NULL, 0);
}

struct cache_entry {
	char name[AOT_KEY_LEN + 3];
	struct timespec used;
	off_t size;
};

/* Older first; then by name, so that every process orders alike. */
static int by_use(const void *a, const void *b)
{
	const struct cache_entry *x = a, *y = b;

	if (x->used.tv_sec != y->used.tv_sec)
		return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
	if (x->used.tv_nsec != y->used.tv_nsec)
		return x->used.tv_nsec < y->used.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* A cached object's name: the key's hex digits and ".so". */
static bool is_object(const char *name)
{
	size_t len = strlen(name);

	return len == AOT_KEY_LEN - 1 + 3 && !strcmp(name + len - 3, ".so") &&
	       strspn(name, "0123456789abcdef") == AOT_KEY_LEN - 1;
}

/*
 * A temporary file of aot_compile (".KEY-XXXXXX.c" or ".so") that no
 * compilation can still be writing: one killed on the way left it.
 */
static bool is_stale_temp(const char *name, const struct stat *st, time_t now)
{
	return name[0] == '.' && strlen(name) > AOT_KEY_LEN &&
	       strspn(name + 1, "0123456789abcdef") == AOT_KEY_LEN - 1 &&
	       name[AOT_KEY_LEN] == '-' && now - st->st_mtime > AOT_STALE_SECONDS;
}

/* The cache's objects (and stale temporaries removed on the way), malloc'd in *out. */
static int list_objects(int dfd, struct cache_entry **out, size_t *n, uint64_t *total)
{
	DIR *d = fdopendir(dfd);
	struct cache_entry *list = NULL;
	size_t cap = 0;
	time_t now = time(NULL);
	struct dirent *de;

	*n = 0;
	*total = 0;
	if (!d) {
		close(dfd);
		return -errno;
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		if (is_stale_temp(de->d_name, &st, now)) {
			unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		if (!is_object(de->d_name))
			continue;
		if (*n == cap) {
			struct cache_entry *grown;

			cap = cap ? 2 * cap : 64;
			grown = realloc(list, cap * sizeof(*list));
			if (!grown) {
				free(list);
				closedir(d);
				return -ENOMEM;
			}
			list = grown;
		}
		memcpy(list[*n].name, de->d_name, sizeof(list[*n].name)); /* is_object: 35 + NUL */
		list[*n].used = st.st_mtim;
		list[*n].size = st.st_size;
		*total += (uint64_t)st.st_size;
		++*n;
	}
	closedir(d);
	*out = list;
	return 0;
}

/*
 * One process evicts at a time (a lock file, not waited for: whoever holds
 * it is doing the work). Eviction unlinks: a process that has the object
 * open or mapped keeps it whole, and one that has yet to open it finds no
 * file and compiles it again; objects are never written in place (they are
 * published complete, by rename), so no reader can see a partial one.
 */
void aot_cache_evict(const char *dir, const char *keep)
{
	const char *keep_name = strrchr(keep, '/') ? strrchr(keep, '/') + 1 : keep;
	uint64_t max = aot_config_cache_max(), total;
	struct cache_entry *list = NULL;
	int dfd, lock;
	size_t n;

	if (!max)
		return;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	lock = openat(dfd, ".evict.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB)) {
		if (lock >= 0)
			close(lock);
		close(dfd);
		return;
	}
	if (!list_objects(dup(dfd), &list, &n, &total)) {
		qsort(list, n, sizeof(*list), by_use);
		for (size_t i = 0; i < n && total > max; i++) {
			if (!strcmp(list[i].name, keep_name))
				continue;
			if (!unlinkat(dfd, list[i].name, 0) || errno == ENOENT)
				total -= (uint64_t)list[i].size;
		}
	}
	free(list);
	close(lock); /* releases the lock */
	close(dfd);
}
