// SPDX-License-Identifier: MIT
/*
 * BPF_MAP_TYPE_ARRAY and PERCPU_ARRAY: max_entries values indexed by a u32
 * key, all present and zero from creation, updated in place (no locks:
 * like the kernel, concurrent writers of one value may interleave).
 *
 * Values are value_size rounded up to 8 bytes apart. A per-CPU array keeps
 * each CPU's values together (CPU-major), so CPUs updating their own copies
 * of neighbouring entries do not share cache lines. The values start on a
 * page and fill whole pages, so with BPF_F_MMAPABLE user space can mmap
 * them (map_mmap_range).
 */
#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "maps/internal.h"

#define ARRAY_CREATE_FLAGS                                                                      \
	(BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG | BPF_F_MMAPABLE | \
	 BPF_F_PRESERVE_ELEMS | BPF_F_INNER_MAP)
/* The kernel's bound: values are vmalloc'ed, not kmalloc'ed. */
#define ARRAY_VALUE_MAX 0x7fffffffu

static int array_check(const struct map_attr *attr, char *err, size_t err_len)
{
	bool percpu = attr->type == BPF_MAP_TYPE_PERCPU_ARRAY;

	if (attr->flags & ~ARRAY_CREATE_FLAGS) {
		errbuf_set(err, err_len, "flags 0x%x not valid for an array",
			   attr->flags & ~ARRAY_CREATE_FLAGS);
		return -EINVAL;
	}
	if (percpu && (attr->flags & BPF_F_MMAPABLE)) {
		errbuf_set(err, err_len, "a per-CPU array cannot be BPF_F_MMAPABLE");
		return -EINVAL;
	}
	if (attr->key_size != 4) {
		errbuf_set(err, err_len, "array key_size must be 4, not %u", attr->key_size);
		return -EINVAL;
	}
	if (!attr->value_size || !attr->max_entries) {
		errbuf_set(err, err_len, "value_size and max_entries must not be 0");
		return -EINVAL;
	}
	if (percpu && attr->value_size > MAP_PCPU_UNIT_MAX) {
		errbuf_set(err, err_len, "per-CPU value_size %u exceeds %lu", attr->value_size,
			   MAP_PCPU_UNIT_MAX);
		return -E2BIG;
	}
	if (attr->value_size > ARRAY_VALUE_MAX) {
		errbuf_set(err, err_len, "value_size %u exceeds %u", attr->value_size,
			   ARRAY_VALUE_MAX);
		return -E2BIG;
	}
	return 0;
}

static int array_layout(const struct map_info *info, union map_layout *layout, uint64_t *size,
			char *err, size_t err_len)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), len;

	(void)err;
	(void)err_len;
	/*
	 * No overflow: max_entries < 2^32 and either one CPU and a value of at
	 * most 2^31 bytes, or at most 2^12 CPUs and per-CPU values of 2^15.
	 */
	len = (uint64_t)info->nr_cpus * info->max_entries * map_round8(info->value_size);
	layout->array.values_off = (MAP_HDR_SIZE + page - 1) / page * page;
	layout->array.values_len = (len + page - 1) / page * page;
	*size = layout->array.values_off + layout->array.values_len;
	return 0;
}

static int array_attach(struct map *m)
{
	m->data = (uint8_t *)m->base + m->layout.array.values_off;
	return 0;
}

static size_t array_step(const struct map *m)
{
	return (size_t)m->info.max_entries * m->stride;
}

/* The first CPU's value of the entry key names, or NULL out of range. */
static uint8_t *array_value(const struct map *m, const void *key)
{
	uint32_t index;

	memcpy(&index, key, sizeof(index));
	if (index >= m->info.max_entries)
		return NULL;
	return m->data + (size_t)index * m->stride;
}

static void *array_lookup(struct map *m, const void *key)
{
	uint8_t *val = array_value(m, key);

	if (!val || !m->percpu)
		return val;
	return val + map_this_cpu(m) * array_step(m);
}

static int array_update(struct map *m, const void *key, const void *value, uint64_t flags,
			bool user)
{
	uint8_t *val = array_value(m, key);

	if (!val)
		return -E2BIG;
	if (flags == BPF_NOEXIST)
		return -EEXIST;
	map_copy_in(m, val, array_step(m), value, user, false);
	return 0;
}

static int array_delete(struct map *m, const void *key)
{
	(void)m;
	(void)key;
	return -EINVAL;
}

static int array_lookup_user(struct map *m, const void *key, void *value)
{
	uint8_t *val = array_value(m, key);

	if (!val)
		return -ENOENT;
	map_copy_out(m, value, val, array_step(m));
	return 0;
}

static int array_get_next_key(struct map *m, const void *key, void *next_key)
{
	uint32_t index, next = 0;

	if (key) {
		memcpy(&index, key, sizeof(index));
		if (index < m->info.max_entries) {
			if (index == m->info.max_entries - 1)
				return -ENOENT;
			next = index + 1;
		}
	}
	memcpy(next_key, &next, sizeof(next));
	return 0;
}

const struct map_ops map_array_ops = {
	.check = array_check,
	.layout = array_layout,
	.attach = array_attach,
	.lookup = array_lookup,
	.update = array_update,
	.delete = array_delete,
	.lookup_user = array_lookup_user,
	.get_next_key = array_get_next_key,
};
