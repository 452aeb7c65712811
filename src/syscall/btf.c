// SPDX-License-Identifier: MIT
/*
 * BPF_BTF_LOAD: the blob is kept as given, for BPF_OBJ_GET_INFO_BY_FD and
 * for the maps and programs that name it. Only its header is checked
 * (magic, version, sections inside the blob): uebpf runs programs without
 * type information, so it accepts every kind libbpf probes for.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "syscall/internal.h"

#define BTF_MAGIC 0xeb9f
#define BTF_MAX_SIZE (16u << 20) /* the kernel's bound */

struct btf_hdr {
	uint16_t magic;
	uint8_t version;
	uint8_t flags;
	uint32_t hdr_len;
	uint32_t type_off, type_len;
	uint32_t str_off, str_len;
};

static int check_header(const void *data, uint32_t size)
{
	struct btf_hdr h;
	uint64_t body;

	if (size < sizeof(h)) {
		sys_error("BTF of %u bytes is shorter than its header", size);
		return -EINVAL;
	}
	memcpy(&h, data, sizeof(h));
	if (h.magic != BTF_MAGIC || h.version != 1) {
		sys_error("not BTF: magic 0x%x, version %u", h.magic, h.version);
		return -EINVAL;
	}
	if (h.hdr_len < sizeof(h) || h.hdr_len > size) {
		sys_error("BTF header length %u is wrong", h.hdr_len);
		return -EINVAL;
	}
	body = size - h.hdr_len;
	if ((uint64_t)h.type_off + h.type_len > body || (uint64_t)h.str_off + h.str_len > body) {
		sys_error("BTF sections go past the end of its %u bytes", size);
		return -EINVAL;
	}
	return 0;
}

int sys_btf_load(union bpf_attr *attr)
{
	const void *blob = sys_ptr(attr->btf);
	struct sys_obj *obj;
	int ret, fd;

	ret = sys_check_attr(attr, SYS_ATTR_END(btf_log_level), "BPF_BTF_LOAD");
	if (ret)
		return ret;
	if (!attr->btf_size || attr->btf_size > BTF_MAX_SIZE) {
		sys_error("BTF size %u out of range", attr->btf_size);
		return -E2BIG;
	}
	if (!blob)
		return -EFAULT;
	ret = check_header(blob, attr->btf_size);
	if (ret)
		return ret;
	obj = calloc(1, sizeof(*obj));
	if (obj)
		obj->btf.data = malloc(attr->btf_size);
	if (!obj || !obj->btf.data) {
		free(obj);
		sys_error("out of memory");
		return -ENOMEM;
	}
	memcpy(obj->btf.data, blob, attr->btf_size);
	obj->btf.size = attr->btf_size;
	obj->kind = SYS_BTF;
	obj->fd = sys_obj_memfd("btf", "");
	if (obj->fd < 0) {
		ret = obj->fd;
		goto fail;
	}
	fd = sys_obj_add(obj);
	if (fd >= 0)
		return fd;
	ret = fd;
	close(obj->fd);
fail:
	free(obj->btf.data);
	free(obj);
	return ret;
}
