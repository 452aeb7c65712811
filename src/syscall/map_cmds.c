// SPDX-License-Identifier: MIT
/*
 * The map commands: BPF_MAP_CREATE onto map_create (the map's file is its
 * fd), the element commands onto the maps' user-side operations, and
 * BPF_MAP_FREEZE, after which user space may no longer write the map (the
 * program still may, unless the map is BPF_F_RDONLY_PROG: .rodata).
 * PROG_ARRAY updates take program fds (see prog_array_op).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "maps/maps.h"
#include "syscall/internal.h"

static int check_btf(union bpf_attr *attr, struct sys_obj **btf)
{
	int ret;

	*btf = NULL;
	if (!attr->btf_key_type_id && !attr->btf_value_type_id && !attr->btf_vmlinux_value_type_id)
		return 0;
	ret = sys_obj_get((int)attr->btf_fd, SYS_BTF, btf);
	if (ret)
		sys_error("map %s: btf_fd %u is not a BTF object", attr->map_name, attr->btf_fd);
	return ret;
}

int sys_map_create(union bpf_attr *attr)
{
	struct map_attr ma;
	struct sys_obj *obj, *btf;
	char err[256];
	int ret, fd;

	ret = sys_check_attr(attr, SYS_ATTR_END(map_extra), "BPF_MAP_CREATE");
	if (ret)
		return ret;
	if (attr->map_ifindex) {
		sys_error("map %s: offload to a device (map_ifindex) is not supported",
			  attr->map_name);
		return -EINVAL;
	}
	if (attr->inner_map_fd) {
		sys_error("map %s: maps of maps (inner_map_fd) are not supported", attr->map_name);
		return -EINVAL;
	}
	memset(&ma, 0, sizeof(ma));
	ma.type = attr->map_type;
	ma.key_size = attr->key_size;
	ma.value_size = attr->value_size;
	ma.max_entries = attr->max_entries;
	ma.flags = attr->map_flags;
	ma.map_extra = attr->map_extra;
	memcpy(ma.name, attr->map_name, sizeof(ma.name));
	ret = sys_check_obj_name(attr->map_name);
	if (ret)
		return ret;
	ret = check_btf(attr, &btf);
	if (ret)
		return ret;
	obj = calloc(1, sizeof(*obj));
	if (!obj) {
		ret = -ENOMEM;
		sys_error("out of memory");
		goto fail;
	}
	ret = map_create(&ma, &obj->map.map, err, sizeof(err));
	if (ret) {
		sys_error("map %s: %s", attr->map_name, err);
		goto fail;
	}
	obj->kind = SYS_MAP;
	obj->fd = map_fd(obj->map.map);
	obj->map.btf = btf;
	obj->map.btf_key_type_id = attr->btf_key_type_id;
	obj->map.btf_value_type_id = attr->btf_value_type_id;
	obj->map.btf_vmlinux_value_type_id = attr->btf_vmlinux_value_type_id;
	fd = sys_obj_add(obj);
	if (fd >= 0)
		return fd;
	ret = fd;
	map_close(obj->map.map);
fail:
	free(obj);
	if (btf)
		sys_obj_put(btf);
	return ret;
}

static const char *const elem_cmd_names[] = {
	[BPF_MAP_LOOKUP_ELEM] = "BPF_MAP_LOOKUP_ELEM",
	[BPF_MAP_UPDATE_ELEM] = "BPF_MAP_UPDATE_ELEM",
	[BPF_MAP_DELETE_ELEM] = "BPF_MAP_DELETE_ELEM",
	[BPF_MAP_GET_NEXT_KEY] = "BPF_MAP_GET_NEXT_KEY",
	[BPF_MAP_LOOKUP_AND_DELETE_ELEM] = "BPF_MAP_LOOKUP_AND_DELETE_ELEM",
};

/* The last attribute field each element command reads. */
static size_t elem_attr_end(int cmd)
{
	switch (cmd) {
	case BPF_MAP_DELETE_ELEM:
		return SYS_ATTR_END(key);
	case BPF_MAP_GET_NEXT_KEY:
		return SYS_ATTR_END(next_key);
	default:
		return SYS_ATTR_END(flags);
	}
}

/*
 * A PROG_ARRAY takes program fds and holds the programs' ids, as the
 * kernel's does; the map object keeps a reference to each program in it,
 * so a program lives while a slot names it. With a registry, each slot is
 * also recorded there for target processes (reg_export.c).
 */
static pthread_mutex_t prog_array_lock = PTHREAD_MUTEX_INITIALIZER;

static int prog_array_op(int cmd, struct sys_obj *obj, const void *key, const void *value,
			 uint64_t flags)
{
	struct sys_map *sm = &obj->map;
	struct map *m = sm->map;
	struct sys_obj *prog = NULL, *old;
	uint32_t index, fd, id;
	int ret;

	memcpy(&index, key, sizeof(index));
	if (index >= map_info(m)->max_entries)
		return cmd == BPF_MAP_DELETE_ELEM ? -ENOENT : -E2BIG;
	if (cmd == BPF_MAP_UPDATE_ELEM) {
		memcpy(&fd, value, sizeof(fd));
		ret = sys_obj_get((int)fd, SYS_PROG, &prog);
		if (ret)
			return ret;
	}
	pthread_mutex_lock(&prog_array_lock);
	if (!sm->progs)
		sm->progs = calloc(map_info(m)->max_entries, sizeof(*sm->progs));
	if (!sm->progs) {
		ret = -ENOMEM;
	} else if (prog) {
		id = prog->id;
		/* the record first: a target trusts it only once the slot holds id */
		ret = sys_prog_array_export(obj, index, prog) ?: map_update_user(m, key, &id, flags);
	} else {
		ret = map_delete_user(m, key) ?: sys_prog_array_export(obj, index, NULL);
	}
	old = NULL;
	if (!ret) {
		old = sm->progs[index];
		sm->progs[index] = prog;
		prog = NULL;
	}
	pthread_mutex_unlock(&prog_array_lock);
	if (old)
		sys_obj_put(old);
	if (prog)
		sys_obj_put(prog);
	return ret;
}

void sys_prog_array_release(struct sys_map *sm)
{
	if (!sm->progs)
		return;
	for (uint32_t i = 0; i < map_info(sm->map)->max_entries; i++)
		if (sm->progs[i])
			sys_obj_put(sm->progs[i]);
	free(sm->progs);
	sm->progs = NULL;
}

static int elem_op(int cmd, struct sys_obj *obj, union bpf_attr *attr)
{
	struct map *m = obj->map.map;
	void *key = sys_ptr(attr->key), *value = sys_ptr(attr->value);
	bool writes = cmd == BPF_MAP_UPDATE_ELEM || cmd == BPF_MAP_DELETE_ELEM ||
		      cmd == BPF_MAP_LOOKUP_AND_DELETE_ELEM;

	if (!key && map_info(m)->key_size && cmd != BPF_MAP_GET_NEXT_KEY)
		return -EFAULT;
	if (!value && cmd != BPF_MAP_DELETE_ELEM)
		return -EFAULT;
	if (writes && obj->map.frozen)
		return -EPERM;
	if (map_info(m)->type == BPF_MAP_TYPE_PROG_ARRAY &&
	    (cmd == BPF_MAP_UPDATE_ELEM || cmd == BPF_MAP_DELETE_ELEM))
		return prog_array_op(cmd, obj, key, value, attr->flags);
	if (map_info(m)->type == BPF_MAP_TYPE_PERF_EVENT_ARRAY &&
	    (cmd == BPF_MAP_UPDATE_ELEM || cmd == BPF_MAP_DELETE_ELEM))
		return sys_perf_array_op(cmd, obj, key, value, attr->flags);
	switch (cmd) {
	case BPF_MAP_LOOKUP_ELEM:
		/* BPF_F_LOCK needs a bpf_spin_lock in the value, which no map here has */
		return attr->flags ? -EINVAL : map_lookup_user(m, key, value);
	case BPF_MAP_UPDATE_ELEM:
		return map_update_user(m, key, value, attr->flags);
	case BPF_MAP_DELETE_ELEM:
		return map_delete_user(m, key);
	case BPF_MAP_GET_NEXT_KEY:
		return map_get_next_key(m, key, value);
	default:
		return map_lookup_and_delete_user(m, key, value, attr->flags);
	}
}

int sys_map_elem(int cmd, union bpf_attr *attr)
{
	struct sys_obj *obj;
	int ret;

	ret = sys_check_attr(attr, elem_attr_end(cmd), elem_cmd_names[cmd]);
	if (ret)
		return ret;
	ret = sys_obj_get((int)attr->map_fd, SYS_MAP, &obj);
	if (ret)
		return ret;
	ret = elem_op(cmd, obj, attr);
	if (ret)
		sys_error("%s on map %s: %s", elem_cmd_names[cmd], map_info(obj->map.map)->name,
			  strerror(ret == -SYS_ENOTSUPP ? EOPNOTSUPP : -ret));
	sys_obj_put(obj);
	return ret;
}

int sys_map_freeze(union bpf_attr *attr)
{
	struct sys_obj *obj;
	int ret;

	ret = sys_check_attr(attr, SYS_ATTR_END(map_fd), "BPF_MAP_FREEZE");
	if (ret)
		return ret;
	ret = sys_obj_get((int)attr->map_fd, SYS_MAP, &obj);
	if (ret)
		return ret;
	if (__atomic_exchange_n(&obj->map.frozen, true, __ATOMIC_ACQ_REL)) {
		sys_error("map %s is already frozen", map_info(obj->map.map)->name);
		ret = -EBUSY;
	}
	sys_obj_put(obj);
	return ret;
}
