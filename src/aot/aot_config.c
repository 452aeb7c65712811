// SPDX-License-Identifier: MIT
/*
 * What the AOT engine is configured with: the C compiler and the cache
 * directory. Each is, in order, what the embedding API set for the process
 * (uebpf_aot_set_compiler, uebpf_aot_set_cache_dir), the environment
 * ($UEBPF_CC; $UEBPF_AOT_CACHE), or the default ("cc";
 * $XDG_CACHE_HOME/uebpf/aot, else ~/.cache/uebpf/aot). Whether a load that
 * cannot have its object falls back to another engine is for the
 * environment alone: UEBPF_AOT_FALLBACK=0 makes it fail instead, for tests
 * and for deployments that must know the AOT code runs. So is the cache's
 * size limit, $UEBPF_AOT_CACHE_MAX.
 *
 * The settings may change while other threads load programs, so readers get
 * a copy taken under the lock, never a pointer to the setting itself.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aot_internal.h"
#include "uebpf/uebpf.h"

static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;
static char *config_cc, *config_cache;

/* Replace *setting with a copy of value (NULL: unset). */
static int set(char **setting, const char *value)
{
	char *copy = NULL;

	if (value && !*value)
		return -EINVAL;
	if (value) {
		copy = strdup(value);
		if (!copy)
			return -ENOMEM;
	}
	pthread_mutex_lock(&config_lock);
	free(*setting);
	*setting = copy;
	pthread_mutex_unlock(&config_lock);
	return 0;
}

/* A copy of the setting into *copy, NULL when it is unset. */
static int get(char *const *setting, char **copy)
{
	int ret = 0;

	pthread_mutex_lock(&config_lock);
	*copy = *setting ? strdup(*setting) : NULL;
	if (*setting && !*copy)
		ret = -ENOMEM;
	pthread_mutex_unlock(&config_lock);
	return ret;
}

int uebpf_aot_set_compiler(const char *cc)
{
	return set(&config_cc, cc);
}

int uebpf_aot_set_cache_dir(const char *dir)
{
	return set(&config_cache, dir);
}

/* A copy of $name into *copy when it is set and not empty. */
static int from_env(const char *name, char **copy)
{
	const char *v = getenv(name);

	*copy = v && *v ? strdup(v) : NULL;
	return v && *v && !*copy ? -ENOMEM : 0;
}

int aot_config_cc(const char *cc, char **out)
{
	int ret;

	if (cc && *cc) {
		*out = strdup(cc);
		return *out ? 0 : -ENOMEM;
	}
	ret = get(&config_cc, out);
	if (!ret && !*out)
		ret = from_env("UEBPF_CC", out);
	if (!ret && !*out) {
		*out = strdup("cc");
		ret = *out ? 0 : -ENOMEM;
	}
	return ret;
}

int aot_config_cache_dir(char **out)
{
	const char *base, *sub = "/uebpf/aot";
	int ret = get(&config_cache, out);

	if (!ret && !*out)
		ret = from_env("UEBPF_AOT_CACHE", out);
	if (ret || *out)
		return ret;
	base = getenv("XDG_CACHE_HOME");
	if (!base || base[0] != '/') { /* the XDG spec says to ignore a relative one */
		base = getenv("HOME");
		sub = "/.cache/uebpf/aot";
		if (!base || !*base)
			return -ENOENT;
	}
	*out = malloc(strlen(base) + strlen(sub) + 1);
	if (!*out)
		return -ENOMEM;
	sprintf(*out, "%s%s", base, sub);
	return 0;
}

bool aot_config_fallback(void)
{
	const char *v = getenv("UEBPF_AOT_FALLBACK");

	return !v || strcmp(v, "0");
}

uint64_t aot_config_cache_max(void)
{
	const uint64_t fallback = 256ull << 20;
	const char *v = getenv("UEBPF_AOT_CACHE_MAX");
	unsigned shift = 0;
	uint64_t n;
	char *end;

	if (!v || !*v || *v < '0' || *v > '9')
		return fallback;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (errno || *end || n > UINT64_MAX >> shift)
		return fallback;
	return n << shift;
}
