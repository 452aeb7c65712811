// SPDX-License-Identifier: MIT
/*
 * The name of a type of the kernel's BTF, which a tp_btf program names by
 * id (attach_btf_id: the typedef btf_trace_NAME of the tracepoint). Type
 * ids are positions: the types follow each other from id 1, each a 12-byte
 * header and kind-specific data whose size the header gives, so the walk to
 * an id reads every type before it. The file is world-readable.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "syscall/internal.h"

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"
#define BTF_MAGIC 0xeb9f

struct btf_header {
	uint16_t magic;
	uint8_t version;
	uint8_t flags;
	uint32_t hdr_len;
	uint32_t type_off, type_len;
	uint32_t str_off, str_len;
};

struct btf_type {
	uint32_t name_off;
	uint32_t info; /* vlen in bits 0-15, kind in 24-28 */
	uint32_t size_or_type;
};

/* The bytes after a type's header, by kind (linux/btf.h); -1 for an unknown kind. */
static long type_extra(const struct btf_type *t)
{
	uint32_t vlen = t->info & 0xffff;

	switch ((t->info >> 24) & 0x1f) {
	case 1:	 /* INT */
	case 14: /* VAR */
	case 17: /* DECL_TAG */
		return 4;
	case 3: /* ARRAY */
		return 12;
	case 4:	 /* STRUCT */
	case 5:	 /* UNION */
	case 15: /* DATASEC */
	case 19: /* ENUM64 */
		return 12L * vlen;
	case 6:	 /* ENUM */
	case 13: /* FUNC_PROTO */
		return 8L * vlen;
	case 2:	 /* PTR */
	case 7:	 /* FWD */
	case 8:	 /* TYPEDEF */
	case 9:	 /* VOLATILE */
	case 10: /* CONST */
	case 11: /* RESTRICT */
	case 12: /* FUNC */
	case 16: /* FLOAT */
	case 18: /* TYPE_TAG */
		return 0;
	default:
		return -1;
	}
}

static int read_all(const char *path, char **data, size_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;
	struct stat st;
	size_t done = 0;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	*data = malloc((size_t)st.st_size + 1);
	if (!*data) {
		ret = -ENOMEM;
		goto out;
	}
	while (done < (size_t)st.st_size &&
	       (n = read(fd, *data + done, (size_t)st.st_size - done)) > 0)
		done += (size_t)n;
	*size = done;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static int find_name(const char *data, size_t size, uint32_t id, char *name, size_t len)
{
	const struct btf_header *h = (const void *)data;
	size_t types, end, strs;
	struct btf_type t;
	long extra;

	if (size < sizeof(*h) || h->magic != BTF_MAGIC || h->hdr_len > size)
		return -EINVAL;
	types = (size_t)h->hdr_len + h->type_off;
	end = types + h->type_len;
	strs = (size_t)h->hdr_len + h->str_off;
	if (end > size || strs + h->str_len > size || !h->str_len)
		return -EINVAL;
	for (uint32_t i = 1; types + sizeof(t) <= end; i++) {
		memcpy(&t, data + types, sizeof(t));
		if (i == id) {
			if (t.name_off >= h->str_len)
				return -EINVAL;
			snprintf(name, len, "%.*s", (int)(h->str_len - t.name_off),
				 data + strs + t.name_off);
			return 0;
		}
		extra = type_extra(&t);
		if (extra < 0)
			return -EINVAL;
		types += sizeof(t) + (size_t)extra;
	}
	return -ENOENT;
}

int sys_vmlinux_type_name(uint32_t id, char *name, size_t len)
{
	size_t size = 0;
	char *data = NULL;
	int ret = read_all(VMLINUX_BTF, &data, &size);

	if (!ret)
		ret = find_name(data, size, id, name, len);
	free(data);
	if (ret)
		sys_error("kernel BTF type %u: %s", id,
			  ret == -ENOENT   ? "no such type"
			  : ret == -EINVAL ? "unreadable BTF"
					   : strerror(-ret));
	return ret;
}
