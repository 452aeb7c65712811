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
 * them (map_mmap_range); such an array keeps them at offset 0, where bpf()
 * users expect them, and its header after them.
 *
 * BPF_MAP_TYPE_PROG_ARRAY, the tail calls' table, is an array of u32
 * program IDs (0: none) in the same layout. User space puts IDs in (the
 * bpf() emulation turns the program fds it is given into IDs) and reads
 * them back, as the kernel's lookup does; programs reach it only through
 * bpf_tail_call (map_prog_array_get).
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

/*
 * The bytes of one CPU's copy of every entry. A per-CPU array keeps each
 * CPU's copies together and starts each CPU on a cache line of its own, so
 * that CPUs updating their copies of the same entry do not share a line
 * (with 8-byte values they did: two threads incrementing one entry ran 3x
 * slower than one).
 */
static uint64_t cpu_block(uint64_t max_entries, uint64_t stride, bool percpu)
{
	uint64_t len = max_entries * stride;

	return percpu ? (len + MAP_CACHE_LINE - 1) / MAP_CACHE_LINE * MAP_CACHE_LINE : len;
}

static int array_layout(const struct map_info *info, union map_layout *layout, uint64_t *size,
			char *err, size_t err_len)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), len, hdr;

	(void)err;
	(void)err_len;
	/*
	 * No overflow: max_entries < 2^32 and either one CPU and a value of at
	 * most 2^31 bytes, or at most 2^12 CPUs and per-CPU values of 2^15.
	 */
	len = (uint64_t)info->nr_cpus * cpu_block(info->max_entries, map_round8(info->value_size),
						 info->type == BPF_MAP_TYPE_PERCPU_ARRAY);
	hdr = (MAP_HDR_SIZE + page - 1) / page * page;
	layout->array.values_len = (len + page - 1) / page * page;
	/* mmapable: values at offset 0, header after them (map_hdr_off) */
	layout->array.values_off = info->flags & BPF_F_MMAPABLE ? 0 : hdr;
	*size = hdr + layout->array.values_len;
	return 0;
}

static int array_attach(struct map *m)
{
	m->data = (uint8_t *)m->base + m->layout.array.values_off;
	return 0;
}

static size_t array_step(const struct map *m)
{
	return cpu_block(m->info.max_entries, m->stride, m->percpu);
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
	return val + map_cpu_of(m) * array_step(m);
}

int map_array_inline_info(const struct map *m, struct map_array_inline *out)
{
	if (m->info.type != BPF_MAP_TYPE_ARRAY && m->info.type != BPF_MAP_TYPE_PERCPU_ARRAY)
		return -EOPNOTSUPP;
	out->values = m->data;
	out->stride = m->stride;
	out->max_entries = m->info.max_entries;
	out->cpu_step = m->percpu ? array_step(m) : 0;
	return 0;
}

static int array_update(struct map *m, const void *key, const void *value, uint64_t flags,
			bool user)
{
	uint8_t *val = array_value(m, key);

	if (!val)
		return -E2BIG;
	if (flags == BPF_NOEXIST)
		return -EEXIST;
	if (user)
		map_copy_in(m, val, array_step(m), value, user, false);
	else
		map_value_store(m, m->percpu ? val + map_cpu_of(m) * array_step(m) : val, value);
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

static int prog_array_check(const struct map_attr *attr, char *err, size_t err_len)
{
	if (attr->flags & ~(uint32_t)(BPF_F_RDONLY | BPF_F_WRONLY)) {
		errbuf_set(err, err_len, "flags 0x%x not valid for a prog_array", attr->flags);
		return -EINVAL;
	}
	if (attr->key_size != 4 || attr->value_size != 4) {
		errbuf_set(err, err_len, "prog_array key_size and value_size must be 4, not %u and %u",
			   attr->key_size, attr->value_size);
		return -EINVAL;
	}
	if (!attr->max_entries) {
		errbuf_set(err, err_len, "max_entries must not be 0");
		return -EINVAL;
	}
	return 0;
}

static int prog_array_update(struct map *m, const void *key, const void *value, uint64_t flags,
			     bool user)
{
	uint32_t *slot = (uint32_t *)array_value(m, key), id;

	if (!user || flags != BPF_ANY)
		return -EINVAL;
	if (!slot)
		return -E2BIG;
	memcpy(&id, value, sizeof(id));
	if (!id)
		return -EINVAL;
	__atomic_store_n(slot, id, __ATOMIC_RELEASE);
	return 0;
}

static int prog_array_delete(struct map *m, const void *key)
{
	uint32_t *slot = (uint32_t *)array_value(m, key);

	if (!slot)
		return -E2BIG;
	return __atomic_exchange_n(slot, 0, __ATOMIC_ACQ_REL) ? 0 : -ENOENT;
}

static int prog_array_lookup_user(struct map *m, const void *key, void *value)
{
	uint32_t *slot = (uint32_t *)array_value(m, key), id;

	if (!slot)
		return -ENOENT;
	id = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (!id)
		return -ENOENT;
	memcpy(value, &id, sizeof(id));
	return 0;
}

uint32_t map_prog_array_get(struct map *m, uint32_t index)
{
	if (m->info.type != BPF_MAP_TYPE_PROG_ARRAY || index >= m->info.max_entries)
		return 0;
	return __atomic_load_n((uint32_t *)(m->data + (size_t)index * m->stride),
			       __ATOMIC_ACQUIRE);
}

const struct map_ops map_prog_array_ops = {
	.check = prog_array_check,
	.layout = array_layout,
	.attach = array_attach,
	.lookup = map_no_lookup, /* programs only tail-call through a prog array */
	.update = prog_array_update,
	.delete = prog_array_delete,
	.lookup_user = prog_array_lookup_user,
	.get_next_key = array_get_next_key,
};

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
