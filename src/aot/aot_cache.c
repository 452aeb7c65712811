// SPDX-License-Identifier: MIT
/*
 * The on-disk cache of compiled translations: where it lives, that it is
 * private, and what a translation is called in it.
 *
 * Where the directory is comes from aot_config_cache_dir. Missing
 * components are created 0700. The process will
 * dlopen what it finds there, so the directory must belong to the effective
 * user and be writable by nobody else; otherwise the cache is refused.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aot_internal.h"
#include "common/errbuf.h"

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
