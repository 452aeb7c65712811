// SPDX-License-Identifier: MIT
/*
 * BPF_MAP_TYPE_QUEUE and STACK: values without keys in a ring of
 * max_entries + 1 slots (one always empty, so head == tail means empty).
 * Push writes at head; a queue pops the oldest value (at tail), a stack the
 * newest (before head). Pushing into a full map fails with -E2BIG unless
 * BPF_EXIST asks to drop the oldest value, as in the kernel.
 *
 * One robust lock (lock.c) serialises every operation (the kernel uses one
 * spinlock per map too). A push copies the value before moving head and a
 * pop copies it out before moving tail or head, so a process killed
 * mid-operation leaves the ring whole.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <string.h>

#include "common/errbuf.h"
#include "maps/internal.h"

#define QUEUE_CREATE_FLAGS (BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)

static int queue_check(const struct map_attr *attr, char *err, size_t err_len)
{
	if (attr->flags & ~QUEUE_CREATE_FLAGS) {
		errbuf_set(err, err_len, "flags 0x%x not valid for a queue or stack",
			   attr->flags & ~QUEUE_CREATE_FLAGS);
		return -EINVAL;
	}
	if (attr->key_size) {
		errbuf_set(err, err_len, "a queue or stack has no key: key_size must be 0, not %u",
			   attr->key_size);
		return -EINVAL;
	}
	if (!attr->value_size || !attr->max_entries) {
		errbuf_set(err, err_len, "value_size and max_entries must not be 0");
		return -EINVAL;
	}
	if (attr->value_size > MAP_KMALLOC_MAX) {
		errbuf_set(err, err_len, "value_size %u exceeds %lu", attr->value_size,
			   MAP_KMALLOC_MAX);
		return -E2BIG;
	}
	return 0;
}

static int queue_layout(const struct map_info *info, union map_layout *layout, uint64_t *size,
			char *err, size_t err_len)
{
	(void)err;
	(void)err_len;
	layout->queue.lock_off = MAP_HDR_SIZE;
	layout->queue.slots_off = MAP_HDR_SIZE + sizeof(struct map_lock);
	/* below 2^55: 2^32 slots of at most 2^22 bytes */
	*size = layout->queue.slots_off +
		((uint64_t)info->max_entries + 1) * map_round8(info->value_size);
	return 0;
}

static struct map_lock *queue_lock_of(const struct map *m)
{
	return (struct map_lock *)((uint8_t *)m->base + m->layout.queue.lock_off);
}

static int queue_init(struct map *m)
{
	return map_lock_init(queue_lock_of(m));
}

static int queue_attach(struct map *m)
{
	m->data = (uint8_t *)m->base + m->layout.queue.slots_off;
	return 0;
}

static uint32_t queue_next(const struct map *m, uint32_t i)
{
	return i == m->info.max_entries ? 0 : i + 1;
}

static uint32_t queue_prev(const struct map *m, uint32_t i)
{
	return i ? i - 1 : m->info.max_entries;
}

static uint8_t *queue_slot(const struct map *m, uint32_t i)
{
	return m->data + (size_t)i * m->stride;
}

/*
 * head and tail as shared memory holds them, or false if another process
 * left them out of range.
 */
static bool queue_ends(const struct map *m, uint32_t *head, uint32_t *tail)
{
	*head = m->shm->state.queue.head;
	*tail = m->shm->state.queue.tail;
	return *head <= m->info.max_entries && *tail <= m->info.max_entries;
}

static int queue_push(struct map *m, const void *value, uint64_t flags)
{
	uint32_t head, tail;
	int ret = 0;

	if (flags != BPF_ANY && flags != BPF_EXIST)
		return -EINVAL;
	map_lock(queue_lock_of(m));
	if (!queue_ends(m, &head, &tail)) {
		ret = -EFAULT;
	} else if (queue_next(m, head) == tail) {
		if (flags == BPF_EXIST)
			tail = queue_next(m, tail);
		else
			ret = -E2BIG;
	}
	if (!ret) {
		memcpy(queue_slot(m, head), value, m->info.value_size);
		m->shm->state.queue.tail = tail;
		m->shm->state.queue.head = queue_next(m, head);
	}
	map_unlock(queue_lock_of(m));
	return ret;
}

static int queue_pop(struct map *m, void *value, bool del)
{
	bool stack = m->info.type == BPF_MAP_TYPE_STACK;
	uint32_t head, tail, at;
	int ret = 0;

	map_lock(queue_lock_of(m));
	if (!queue_ends(m, &head, &tail)) {
		ret = -EFAULT;
	} else if (head == tail) {
		ret = -ENOENT;
	} else {
		at = stack ? queue_prev(m, head) : tail;
		memcpy(value, queue_slot(m, at), m->info.value_size);
		if (del && stack)
			m->shm->state.queue.head = at;
		else if (del)
			m->shm->state.queue.tail = queue_next(m, tail);
	}
	map_unlock(queue_lock_of(m));
	return ret;
}

/* The bpf() syscall's element commands: update pushes, lookup peeks, lookup-and-delete pops. */
static int queue_update(struct map *m, const void *key, const void *value, uint64_t flags,
			bool user)
{
	(void)key;
	(void)user;
	return queue_push(m, value, flags);
}

static int queue_lookup_user(struct map *m, const void *key, void *value)
{
	(void)key;
	return queue_pop(m, value, false);
}

static int queue_lookup_and_delete(struct map *m, const void *key, void *value)
{
	(void)key;
	return queue_pop(m, value, true);
}

static int queue_no_key(struct map *m, const void *key)
{
	(void)m;
	(void)key;
	return -EINVAL;
}

static int queue_get_next_key(struct map *m, const void *key, void *next_key)
{
	(void)m;
	(void)key;
	(void)next_key;
	return -EINVAL;
}

const struct map_ops map_queue_ops = {
	.check = queue_check,
	.layout = queue_layout,
	.init = queue_init,
	.attach = queue_attach,
	.lookup = map_no_lookup,
	.update = queue_update,
	.delete = queue_no_key,
	.lookup_user = queue_lookup_user,
	.get_next_key = queue_get_next_key,
	.lookup_and_delete = queue_lookup_and_delete,
	.push = queue_push,
	.pop = queue_pop,
};
