// SPDX-License-Identifier: MIT
/*
 * The batch map commands: BPF_MAP_LOOKUP_BATCH, LOOKUP_AND_DELETE_BATCH,
 * UPDATE_BATCH and DELETE_BATCH, over keys and values laid out back to
 * back in the caller's arrays (values in map_user_value_size units, so
 * per-CPU maps give every CPU's copy).
 *
 * The batch token (in_batch, out_batch) is opaque to the caller, who keeps
 * 4 bytes for it as for the kernel's hash maps: here it is the number of
 * elements, in get_next_key order, that earlier batches went past. A
 * lookup that reaches the end returns -ENOENT with count holding what it
 * copied, as the kernel does. Update and delete stop at the first failing
 * element; count says how many were done.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "maps/maps.h"
#include "syscall/internal.h"

static const char *batch_name(int cmd)
{
	switch (cmd) {
	case BPF_MAP_LOOKUP_BATCH:
		return "BPF_MAP_LOOKUP_BATCH";
	case BPF_MAP_LOOKUP_AND_DELETE_BATCH:
		return "BPF_MAP_LOOKUP_AND_DELETE_BATCH";
	case BPF_MAP_UPDATE_BATCH:
		return "BPF_MAP_UPDATE_BATCH";
	default:
		return "BPF_MAP_DELETE_BATCH";
	}
}

/* Position the walk after skip elements; key holds the last one passed. */
static int walk_to(struct map *m, uint32_t skip, uint8_t *key, uint8_t *next)
{
	size_t ks = map_info(m)->key_size;

	for (uint32_t i = 0; i < skip; i++) {
		int ret = map_get_next_key(m, i ? key : NULL, next);

		if (ret)
			return ret;
		memcpy(key, next, ks);
	}
	return 0;
}

static int lookup_batch(struct map *m, union bpf_attr *attr, bool del)
{
	size_t ks = map_info(m)->key_size, vs = map_user_value_size(m);
	uint8_t *keys = sys_ptr(attr->batch.keys), *values = sys_ptr(attr->batch.values);
	uint32_t skip = 0, max = attr->batch.count, n = 0;
	uint8_t *key, *next;
	bool started;
	int ret;

	if (!ks) {
		sys_error("a map without keys has no batches");
		return -EINVAL;
	}
	if (attr->batch.in_batch)
		memcpy(&skip, sys_ptr(attr->batch.in_batch), sizeof(skip));
	key = calloc(2, ks);
	if (!key)
		return -ENOMEM;
	next = key + ks;
	ret = walk_to(m, skip, key, next);
	started = skip > 0;
	while (!ret && n < max) {
		ret = map_get_next_key(m, started ? key : NULL, next);
		if (ret)
			break;
		started = true;
		memcpy(key, next, ks);
		ret = map_lookup_user(m, key, values + (size_t)n * vs);
		if (ret == -ENOENT) /* deleted meanwhile: go on with the next */
			continue;
		if (ret)
			break;
		memcpy(keys + (size_t)n * ks, key, ks);
		n++;
	}
	if (del) {
		/* the deleted are gone from the order: the next batch starts where this one did */
		for (uint32_t i = 0; i < n && (!ret || ret == -ENOENT); i++) {
			int r = map_delete_user(m, keys + (size_t)i * ks);

			if (r && r != -ENOENT)
				ret = r;
		}
	} else {
		skip += n;
	}
	free(key);
	attr->batch.count = n;
	memcpy(sys_ptr(attr->batch.out_batch), &skip, sizeof(skip));
	return ret;
}

static int update_batch(int cmd, struct map *m, union bpf_attr *attr)
{
	size_t ks = map_info(m)->key_size, vs = map_user_value_size(m);
	const uint8_t *keys = sys_ptr(attr->batch.keys), *values = sys_ptr(attr->batch.values);
	uint32_t n;
	int ret = 0;

	if (!keys || (cmd == BPF_MAP_UPDATE_BATCH && !values))
		return -EFAULT;
	for (n = 0; n < attr->batch.count && !ret; n++) {
		ret = cmd == BPF_MAP_UPDATE_BATCH
			      ? map_update_user(m, keys + (size_t)n * ks, values + (size_t)n * vs,
						attr->batch.elem_flags)
			      : map_delete_user(m, keys + (size_t)n * ks);
		if (ret)
			break;
	}
	attr->batch.count = n;
	return ret;
}

int sys_map_batch(int cmd, union bpf_attr *attr)
{
	bool lookup = cmd == BPF_MAP_LOOKUP_BATCH || cmd == BPF_MAP_LOOKUP_AND_DELETE_BATCH;
	struct sys_obj *obj;
	int ret;

	ret = sys_check_attr(attr, SYS_ATTR_END(batch.flags), batch_name(cmd));
	if (ret)
		return ret;
	if (attr->batch.flags || (cmd != BPF_MAP_UPDATE_BATCH && attr->batch.elem_flags)) {
		sys_error("%s: flags 0x%llx, elem_flags 0x%llx not supported", batch_name(cmd),
			  (unsigned long long)attr->batch.flags,
			  (unsigned long long)attr->batch.elem_flags);
		return -EINVAL;
	}
	if (lookup && (!attr->batch.out_batch || !attr->batch.keys || !attr->batch.values))
		return -EFAULT;
	ret = sys_obj_get((int)attr->batch.map_fd, SYS_MAP, &obj);
	if (ret)
		return ret;
	if (cmd != BPF_MAP_LOOKUP_BATCH && obj->map.frozen)
		ret = -EPERM;
	else if (lookup)
		ret = lookup_batch(obj->map.map, attr, cmd == BPF_MAP_LOOKUP_AND_DELETE_BATCH);
	else
		ret = update_batch(cmd, obj->map.map, attr);
	if (ret && ret != -ENOENT)
		sys_error("%s on map %s: %s", batch_name(cmd), map_info(obj->map.map)->name,
			  strerror(-ret));
	sys_obj_put(obj);
	return ret;
}
