// SPDX-License-Identifier: MIT
/*
 * Introspection: BPF_OBJ_GET_INFO_BY_FD for maps, programs and BTF, and
 * walking and opening objects by id (BPF_*_GET_NEXT_ID, BPF_*_GET_FD_BY_ID).
 *
 * An info structure is exchanged as the kernel does: the caller's info_len
 * bytes are read (they carry the buffers for instructions, map ids or the
 * BTF blob), at most that many bytes are written back, and info_len
 * becomes the size of what was written. Arrays report their full length
 * even when the caller's buffer held only part of them.
 */
#include <errno.h>
#include <string.h>

#include "maps/maps.h"
#include "syscall/internal.h"

static void map_fill(const struct sys_obj *obj, struct bpf_map_info *info)
{
	const struct map_info *mi = map_info(obj->map.map);

	info->type = mi->type;
	info->id = obj->id;
	info->key_size = mi->key_size;
	info->value_size = mi->value_size;
	info->max_entries = mi->max_entries;
	info->map_flags = mi->flags;
	memcpy(info->name, mi->name, sizeof(info->name));
	info->btf_id = obj->map.btf ? obj->map.btf->id : 0;
	info->btf_key_type_id = obj->map.btf_key_type_id;
	info->btf_value_type_id = obj->map.btf_value_type_id;
	info->btf_vmlinux_value_type_id = obj->map.btf_vmlinux_value_type_id;
}

static void prog_fill(const struct sys_obj *obj, struct bpf_prog_info *info)
{
	const struct sys_prog *p = &obj->prog;
	uint32_t len = p->ninsns * (uint32_t)sizeof(*p->insns), n;
	uint32_t *ids = sys_ptr(info->map_ids);

	if (info->xlated_prog_insns && info->xlated_prog_len)
		memcpy(sys_ptr(info->xlated_prog_insns), p->insns,
		       info->xlated_prog_len < len ? info->xlated_prog_len : len);
	n = info->nr_map_ids < p->nmaps ? info->nr_map_ids : p->nmaps;
	for (uint32_t i = 0; ids && i < n; i++)
		ids[i] = p->maps[i]->id;
	info->type = p->type;
	info->id = obj->id;
	info->xlated_prog_len = len;
	info->jited_prog_len = 0;
	info->load_time = p->load_time;
	info->created_by_uid = p->uid;
	info->nr_map_ids = p->nmaps;
	memcpy(info->name, p->name, sizeof(info->name));
	info->gpl_compatible = p->gpl;
	info->btf_id = p->btf ? p->btf->id : 0;
	info->verified_insns = p->ninsns;
}

static void btf_fill(const struct sys_obj *obj, struct bpf_btf_info *info)
{
	if (info->btf && info->btf_size)
		memcpy(sys_ptr(info->btf), obj->btf.data,
		       info->btf_size < obj->btf.size ? info->btf_size : obj->btf.size);
	if (info->name && info->name_len)
		*(char *)sys_ptr(info->name) = '\0';
	info->btf_size = obj->btf.size;
	info->id = obj->id;
	info->name_len = 0;
	info->kernel_btf = 0;
}

int sys_obj_get_info(union bpf_attr *attr)
{
	union {
		struct bpf_map_info map;
		struct bpf_prog_info prog;
		struct bpf_btf_info btf;
	} info;
	size_t size, len = attr->info.info_len;
	void *uinfo = sys_ptr(attr->info.info);
	struct sys_obj *obj;
	int ret;

	ret = sys_check_attr(attr, SYS_ATTR_END(info.info), "BPF_OBJ_GET_INFO_BY_FD");
	if (ret)
		return ret;
	ret = sys_obj_get((int)attr->info.bpf_fd, 0, &obj);
	if (ret)
		return ret;
	size = obj->kind == SYS_MAP    ? sizeof(info.map)
	       : obj->kind == SYS_PROG ? sizeof(info.prog)
				       : sizeof(info.btf);
	if (!uinfo) {
		ret = -EFAULT;
		goto out;
	}
	if (len > size) {
		if (!sys_tail_zero(uinfo, size, len)) {
			sys_error("BPF_OBJ_GET_INFO_BY_FD: info has unknown fields set");
			ret = -E2BIG;
			goto out;
		}
		len = size;
	}
	memset(&info, 0, sizeof(info));
	memcpy(&info, uinfo, len);
	if (obj->kind == SYS_MAP)
		map_fill(obj, &info.map);
	else if (obj->kind == SYS_PROG)
		prog_fill(obj, &info.prog);
	else
		btf_fill(obj, &info.btf);
	memcpy(uinfo, &info, len);
	attr->info.info_len = (uint32_t)len;
out:
	sys_obj_put(obj);
	return ret;
}

static enum sys_kind id_kind(int cmd)
{
	switch (cmd) {
	case BPF_MAP_GET_FD_BY_ID:
	case BPF_MAP_GET_NEXT_ID:
		return SYS_MAP;
	case BPF_PROG_GET_FD_BY_ID:
	case BPF_PROG_GET_NEXT_ID:
		return SYS_PROG;
	default:
		return SYS_BTF;
	}
}

int sys_get_fd_by_id(int cmd, union bpf_attr *attr)
{
	enum sys_kind kind = id_kind(cmd);
	struct sys_obj *obj;
	int ret;

	ret = sys_check_attr(attr, SYS_ATTR_END(open_flags), "BPF_*_GET_FD_BY_ID");
	if (ret)
		return ret;
	if (attr->open_flags & ~(uint32_t)(BPF_F_RDONLY | BPF_F_WRONLY) ||
	    (kind != SYS_MAP && attr->open_flags)) {
		sys_error("BPF_*_GET_FD_BY_ID: open_flags 0x%x not valid", attr->open_flags);
		return -EINVAL;
	}
	obj = sys_obj_get_id(kind, attr->map_id);
	if (!obj) {
		sys_error("no object with id %u", attr->map_id);
		return -ENOENT;
	}
	ret = sys_obj_new_fd(obj);
	sys_obj_put(obj);
	return ret;
}

int sys_get_next_id(int cmd, union bpf_attr *attr)
{
	uint32_t next;
	int ret;

	ret = sys_check_attr(attr, SYS_ATTR_END(next_id), "BPF_*_GET_NEXT_ID");
	if (ret)
		return ret;
	next = sys_obj_next_id(id_kind(cmd), attr->start_id);
	if (!next)
		return -ENOENT;
	attr->next_id = next;
	return 0;
}
