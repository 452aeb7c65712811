// SPDX-License-Identifier: MIT
/*
 * Locks inside a map's shared memory: process-shared and robust, so that a
 * process killed while holding one does not block the others forever. The
 * next locker inherits it (EOWNERDEAD) and marks it consistent at once:
 * every map keeps its structure whole after each single store (see each
 * type), so a dead holder can leave lost elements behind, never a broken
 * structure.
 */
#include <errno.h>

#include "maps/internal.h"

int map_lock_init(struct map_lock *l)
{
	pthread_mutexattr_t attr;
	int ret = pthread_mutexattr_init(&attr);

	if (ret)
		return -ret;
	ret = pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	if (!ret)
		ret = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	if (!ret)
		ret = pthread_mutex_init(&l->mutex, &attr);
	pthread_mutexattr_destroy(&attr);
	return -ret;
}

void map_lock(struct map_lock *l)
{
	map_lock_inherit(l);
}

bool map_lock_inherit(struct map_lock *l)
{
	if (pthread_mutex_lock(&l->mutex) != EOWNERDEAD)
		return false;
	pthread_mutex_consistent(&l->mutex);
	return true;
}

bool map_trylock(struct map_lock *l)
{
	int ret = pthread_mutex_trylock(&l->mutex);

	if (ret == EOWNERDEAD)
		pthread_mutex_consistent(&l->mutex);
	return !ret || ret == EOWNERDEAD;
}

void map_unlock(struct map_lock *l)
{
	pthread_mutex_unlock(&l->mutex);
}
