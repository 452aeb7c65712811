// SPDX-License-Identifier: MIT
/*
 * maps: creation, attachment and dispatch to the map types; the checks
 * every type shares (attributes, update flags, access flags) live here so
 * the types see only valid requests.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "maps/internal.h"

static const char *const type_names[] = {
	[BPF_MAP_TYPE_HASH] = "hash",
	[BPF_MAP_TYPE_ARRAY] = "array",
	[BPF_MAP_TYPE_PROG_ARRAY] = "prog_array",
	[BPF_MAP_TYPE_PERF_EVENT_ARRAY] = "perf_event_array",
	[BPF_MAP_TYPE_PERCPU_HASH] = "percpu_hash",
	[BPF_MAP_TYPE_PERCPU_ARRAY] = "percpu_array",
	[BPF_MAP_TYPE_STACK_TRACE] = "stack_trace",
	[BPF_MAP_TYPE_CGROUP_ARRAY] = "cgroup_array",
	[BPF_MAP_TYPE_LRU_HASH] = "lru_hash",
	[BPF_MAP_TYPE_LRU_PERCPU_HASH] = "lru_percpu_hash",
	[BPF_MAP_TYPE_LPM_TRIE] = "lpm_trie",
	[BPF_MAP_TYPE_ARRAY_OF_MAPS] = "array_of_maps",
	[BPF_MAP_TYPE_HASH_OF_MAPS] = "hash_of_maps",
	[BPF_MAP_TYPE_DEVMAP] = "devmap",
	[BPF_MAP_TYPE_SOCKMAP] = "sockmap",
	[BPF_MAP_TYPE_CPUMAP] = "cpumap",
	[BPF_MAP_TYPE_XSKMAP] = "xskmap",
	[BPF_MAP_TYPE_SOCKHASH] = "sockhash",
	[BPF_MAP_TYPE_CGROUP_STORAGE] = "cgroup_storage",
	[BPF_MAP_TYPE_REUSEPORT_SOCKARRAY] = "reuseport_sockarray",
	[BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE] = "percpu_cgroup_storage",
	[BPF_MAP_TYPE_QUEUE] = "queue",
	[BPF_MAP_TYPE_STACK] = "stack",
	[BPF_MAP_TYPE_SK_STORAGE] = "sk_storage",
	[BPF_MAP_TYPE_DEVMAP_HASH] = "devmap_hash",
	[BPF_MAP_TYPE_STRUCT_OPS] = "struct_ops",
	[BPF_MAP_TYPE_RINGBUF] = "ringbuf",
	[BPF_MAP_TYPE_INODE_STORAGE] = "inode_storage",
	[BPF_MAP_TYPE_TASK_STORAGE] = "task_storage",
	[BPF_MAP_TYPE_BLOOM_FILTER] = "bloom_filter",
};

static const struct map_ops *const type_ops[] = {
	[BPF_MAP_TYPE_HASH] = &map_hash_ops,		       /* hash.c */
	[BPF_MAP_TYPE_ARRAY] = &map_array_ops,		       /* array.c */
	[BPF_MAP_TYPE_PROG_ARRAY] = &map_prog_array_ops,       /* array.c */
	[BPF_MAP_TYPE_PERCPU_HASH] = &map_hash_ops,	       /* hash.c */
	[BPF_MAP_TYPE_PERCPU_ARRAY] = &map_array_ops,	       /* array.c */
	[BPF_MAP_TYPE_LRU_HASH] = &map_hash_ops,	       /* hash.c, lru.c */
	[BPF_MAP_TYPE_LRU_PERCPU_HASH] = &map_hash_ops,	       /* hash.c, lru.c */
	[BPF_MAP_TYPE_QUEUE] = &map_queue_ops,		       /* queue.c */
	[BPF_MAP_TYPE_STACK] = &map_queue_ops,		       /* queue.c */
	[BPF_MAP_TYPE_LPM_TRIE] = &map_lpm_ops,		       /* lpm.c */
	[BPF_MAP_TYPE_RINGBUF] = &map_ringbuf_ops,	       /* ringbuf.c */
	[BPF_MAP_TYPE_PERF_EVENT_ARRAY] = &map_perf_array_ops, /* perf_array.c */
};

#define NTYPES (sizeof(type_names) / sizeof(type_names[0]))

void *map_no_lookup(struct map *m, const void *key)
{
	(void)m;
	(void)key;
	return NULL;
}

int map_no_update(struct map *m, const void *key, const void *value, uint64_t flags, bool user)
{
	(void)m;
	(void)key;
	(void)value;
	(void)flags;
	(void)user;
	return -EINVAL;
}

static bool type_percpu(uint32_t type)
{
	return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static const struct map_ops *type_lookup(uint32_t type, char *err, size_t err_len, int *ret)
{
	if (type >= NTYPES || !type_names[type]) {
		errbuf_set(err, err_len, "unknown map type %u", type);
		*ret = -EINVAL;
		return NULL;
	}
	if (type >= sizeof(type_ops) / sizeof(type_ops[0]) || !type_ops[type]) {
		errbuf_set(err, err_len, "map type %s (%u) is not supported", type_names[type],
			   type);
		*ret = -EOPNOTSUPP;
		return NULL;
	}
	return type_ops[type];
}

static int check_name(const char *name, char *err, size_t err_len)
{
	size_t i;

	for (i = 0; i < MAP_NAME_LEN && name[i]; i++) {
		char c = name[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') &&
		    c != '_' && c != '.') {
			errbuf_set(err, err_len, "map name: character 0x%02x not allowed",
				   (unsigned char)c);
			return -EINVAL;
		}
	}
	if (i == MAP_NAME_LEN) {
		errbuf_set(err, err_len, "map name longer than %d characters", MAP_NAME_LEN - 1);
		return -EINVAL;
	}
	return 0;
}

static int check_attr(const struct map_attr *attr, const struct map_ops **ops, char *err,
		      size_t err_len)
{
	int ret = 0;

	*ops = type_lookup(attr->type, err, err_len, &ret);
	if (!*ops)
		return ret;
	if (attr->map_extra) {
		errbuf_set(err, err_len, "map_extra must be 0 for %s maps", type_names[attr->type]);
		return -EINVAL;
	}
	if (attr->flags & BPF_F_NUMA_NODE) {
		errbuf_set(err, err_len, "flag BPF_F_NUMA_NODE is not supported");
		return -EINVAL;
	}
	if ((attr->flags & BPF_F_RDONLY) && (attr->flags & BPF_F_WRONLY)) {
		errbuf_set(err, err_len, "flags BPF_F_RDONLY and BPF_F_WRONLY exclude each other");
		return -EINVAL;
	}
	if ((attr->flags & BPF_F_RDONLY_PROG) && (attr->flags & BPF_F_WRONLY_PROG)) {
		errbuf_set(err, err_len,
			   "flags BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG exclude each other");
		return -EINVAL;
	}
	ret = (*ops)->check(attr, err, err_len);
	if (ret)
		return ret;
	return check_name(attr->name, err, err_len);
}

static void info_from_attr(struct map_info *info, const struct map_attr *attr)
{
	memset(info, 0, sizeof(*info));
	info->type = attr->type;
	info->key_size = attr->key_size;
	info->value_size = attr->value_size;
	info->max_entries = attr->max_entries;
	info->flags = attr->flags;
	info->nr_cpus = type_percpu(attr->type) ? map_possible_cpus() : 1;
	memcpy(info->name, attr->name, MAP_NAME_LEN);
	info->name[MAP_NAME_LEN - 1] = '\0';
}

/* Fill the handle from a header already proven consistent. */
static int handle_init(struct map *m, const struct map_ops *ops, const struct map_info *info,
		       const union map_layout *layout)
{
	m->shm = (struct map_shm *)((uint8_t *)m->base + map_hdr_off(info, layout));
	m->ops = ops;
	m->lookup = ops->lookup;
	m->info = *info;
	m->stride = map_round8(info->value_size);
	m->percpu = type_percpu(info->type);
	m->lru = info->type == BPF_MAP_TYPE_LRU_HASH || info->type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	m->layout = *layout;
	return ops->attach(m);
}

int map_create(const struct map_attr *attr, struct map **out, char *err, size_t err_len)
{
	const struct map_ops *ops;
	union map_layout layout;
	struct map_info info;
	struct map *m;
	uint64_t size;
	int ret;

	if (!attr || !out) {
		errbuf_set(err, err_len, "no attributes or no result pointer");
		return -EINVAL;
	}
	ret = check_attr(attr, &ops, err, err_len);
	if (ret)
		return ret;
	info_from_attr(&info, attr);
	memset(&layout, 0, sizeof(layout));
	ret = ops->layout(&info, &layout, &size, err, err_len);
	if (ret)
		return ret;

	m = calloc(1, sizeof(*m));
	if (!m) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	ret = map_shm_create(info.name, size, &m->fd, &m->base, err, err_len);
	if (ret) {
		free(m);
		return ret;
	}
	m->size = size;
	m->shm = (struct map_shm *)((uint8_t *)m->base + map_hdr_off(&info, &layout));
	m->shm->version = MAP_VERSION;
	m->shm->type = info.type;
	m->shm->size = size;
	m->shm->key_size = info.key_size;
	m->shm->value_size = info.value_size;
	m->shm->max_entries = info.max_entries;
	m->shm->flags = info.flags;
	m->shm->nr_cpus = info.nr_cpus;
	m->shm->value_stride = map_round8(info.value_size);
	memcpy(m->shm->name, info.name, MAP_NAME_LEN);
	m->shm->layout = layout;
	ret = handle_init(m, ops, &info, &layout);
	if (!ret && ops->init)
		ret = ops->init(m);
	if (ret) {
		errbuf_set(err, err_len, "cannot initialise the map: %s", strerror(-ret));
		map_close(m);
		return ret;
	}
	__atomic_store_n(&m->shm->magic, MAP_MAGIC, __ATOMIC_RELEASE);
	*out = m;
	return 0;
}

/*
 * The header at hdr_off must be exactly what map_create would have written
 * there for its attributes.
 */
static int validate_header(const struct map *m, uint64_t hdr_off, const struct map_ops **ops,
			   struct map_info *info, union map_layout *layout, char *err,
			   size_t err_len)
{
	const struct map_shm *shm = (const struct map_shm *)((uint8_t *)m->base + hdr_off);
	struct map_attr attr;
	uint64_t size;
	int ret;

	if (__atomic_load_n(&shm->magic, __ATOMIC_ACQUIRE) != MAP_MAGIC) {
		errbuf_set(err, err_len, "not a uebpf map (bad magic)");
		return -EINVAL;
	}
	if (shm->version != MAP_VERSION) {
		errbuf_set(err, err_len, "map format version %u, expected %u", shm->version,
			   MAP_VERSION);
		return -EINVAL;
	}
	memset(&attr, 0, sizeof(attr));
	attr.type = shm->type;
	attr.key_size = shm->key_size;
	attr.value_size = shm->value_size;
	attr.max_entries = shm->max_entries;
	attr.flags = shm->flags;
	memcpy(attr.name, shm->name, MAP_NAME_LEN);
	attr.name[MAP_NAME_LEN - 1] = '\0';
	ret = check_attr(&attr, ops, err, err_len);
	if (ret)
		return ret;
	info_from_attr(info, &attr);
	info->nr_cpus = shm->nr_cpus;
	if (!info->nr_cpus || info->nr_cpus > MAP_MAX_CPUS ||
	    (!type_percpu(attr.type) && info->nr_cpus != 1)) {
		errbuf_set(err, err_len, "bad CPU count %u in map header", shm->nr_cpus);
		return -EINVAL;
	}
	memset(layout, 0, sizeof(*layout));
	ret = (*ops)->layout(info, layout, &size, err, err_len);
	if (ret)
		return ret;
	if (size != shm->size || size != m->size || memcmp(layout, &shm->layout, sizeof(*layout)) ||
	    shm->value_stride != map_round8(info->value_size) ||
	    map_hdr_off(info, layout) != hdr_off) {
		errbuf_set(err, err_len, "map header layout does not match its attributes");
		return -EINVAL;
	}
	return 0;
}

/*
 * The header is on the first page, or for a mmapable array on the last
 * one: the first page is tried first, and what it says counts unless a
 * valid header is on the last.
 */
static int find_header(const struct map *m, const struct map_ops **ops, struct map_info *info,
		       union map_layout *layout, char *err, size_t err_len)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t hdr = (MAP_HDR_SIZE + page - 1) / page * page;
	uint64_t last = m->size - hdr;
	int ret;

	ret = validate_header(m, 0, ops, info, layout, err, err_len);
	if (!ret || m->size <= hdr || m->size % page)
		return ret;
	if (!validate_header(m, last, ops, info, layout, NULL, 0))
		return 0;
	return ret;
}

int map_open_fd(int fd, struct map **out, char *err, size_t err_len)
{
	const struct map_ops *ops;
	union map_layout layout;
	struct map_info info;
	struct map *m;
	int ret;

	if (!out) {
		errbuf_set(err, err_len, "no result pointer");
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	m->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (m->fd < 0) {
		ret = -errno;
		errbuf_set(err, err_len, "fd %d: %s", fd, strerror(errno));
		free(m);
		return ret;
	}
	ret = map_shm_attach(m->fd, &m->size, &m->base, err, err_len);
	if (ret) {
		close(m->fd);
		free(m);
		return ret;
	}
	ret = find_header(m, &ops, &info, &layout, err, err_len);
	if (!ret) {
		ret = handle_init(m, ops, &info, &layout);
		if (ret)
			errbuf_set(err, err_len, "cannot attach the map: %s", strerror(-ret));
	}
	if (ret) {
		map_shm_release(m->base, m->size);
		close(m->fd);
		free(m);
		return ret;
	}
	*out = m;
	return 0;
}

int map_fd(const struct map *m)
{
	return m->fd;
}

const struct map_info *map_info(const struct map *m)
{
	return &m->info;
}

void map_close(struct map *m)
{
	if (!m)
		return;
	if (m->ops && m->ops->detach)
		m->ops->detach(m);
	map_shm_release(m->base, m->size);
	close(m->fd);
	free(m);
}

void *map_lookup(struct map *m, const void *key)
{
	return m->lookup(m, key);
}

map_lookup_fn map_lookup_func(const struct map *m)
{
	return m->lookup;
}

/* BPF_F_LOCK needs a bpf_spin_lock in the value, which these maps do not describe. */
static int check_update_flags(uint64_t flags)
{
	return flags > BPF_EXIST ? -EINVAL : 0;
}

int map_update(struct map *m, const void *key, const void *value, uint64_t flags)
{
	int ret = check_update_flags(flags);

	return ret ? ret : m->ops->update(m, key, value, flags, false);
}

int map_delete(struct map *m, const void *key)
{
	return m->ops->delete (m, key);
}

size_t map_user_value_size(const struct map *m)
{
	return m->percpu ? (size_t)m->info.nr_cpus * m->stride : m->info.value_size;
}

int map_lookup_user(struct map *m, const void *key, void *value)
{
	if (m->info.flags & BPF_F_WRONLY)
		return -EPERM;
	return m->ops->lookup_user(m, key, value);
}

int map_update_user(struct map *m, const void *key, const void *value, uint64_t flags)
{
	int ret = check_update_flags(flags);

	if (m->info.flags & BPF_F_RDONLY)
		return -EPERM;
	return ret ? ret : m->ops->update(m, key, value, flags, true);
}

int map_delete_user(struct map *m, const void *key)
{
	if (m->info.flags & BPF_F_RDONLY)
		return -EPERM;
	return m->ops->delete (m, key);
}

int map_get_next_key(struct map *m, const void *key, void *next_key)
{
	if (m->info.flags & BPF_F_WRONLY)
		return -EPERM;
	return m->ops->get_next_key(m, key, next_key);
}

int map_push(struct map *m, const void *value, uint64_t flags)
{
	return m->ops->push ? m->ops->push(m, value, flags) : -EINVAL;
}

int map_pop(struct map *m, void *value)
{
	return m->ops->pop ? m->ops->pop(m, value, true) : -EINVAL;
}

int map_peek(struct map *m, void *value)
{
	return m->ops->pop ? m->ops->pop(m, value, false) : -EINVAL;
}

int map_lookup_and_delete_user(struct map *m, const void *key, void *value, uint64_t flags)
{
	/* BPF_F_LOCK needs a bpf_spin_lock in the value, as for updates */
	if (flags)
		return -EINVAL;
	if (m->info.flags & (BPF_F_RDONLY | BPF_F_WRONLY))
		return -EPERM;
	if (!m->ops->lookup_and_delete)
		return -MAP_ENOTSUPP;
	return m->ops->lookup_and_delete(m, key, value);
}

int map_mmap_range(const struct map *m, size_t *offset, size_t *len)
{
	if (m->info.type != BPF_MAP_TYPE_ARRAY || !(m->info.flags & BPF_F_MMAPABLE))
		return -EINVAL;
	*offset = m->layout.array.values_off;
	*len = m->layout.array.values_len;
	return 0;
}

int map_direct_value_addr(const struct map *m, uint32_t off, void **addr)
{
	if (m->info.type != BPF_MAP_TYPE_ARRAY || m->info.max_entries != 1)
		return -EOPNOTSUPP;
	if (off >= m->info.value_size)
		return -EINVAL;
	*addr = m->data + off;
	return 0;
}

void map_prog_range(const struct map *m, void **base, size_t *len)
{
	*base = m->data;
	switch (m->info.type) {
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
		*len = m->layout.array.values_len;
		break;
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
		*len = (size_t)m->info.max_entries * m->layout.hash.elem_size;
		break;
	case BPF_MAP_TYPE_LPM_TRIE:
		*len = (size_t)m->layout.lpm.n_nodes * m->layout.lpm.node_size;
		break;
	case BPF_MAP_TYPE_RINGBUF: /* mapped twice in a row: a sample may run past the end */
		*len = 2 * (size_t)m->info.max_entries;
		break;
	default:
		*base = NULL;
		*len = 0;
		break;
	}
}

void map_copy_in(const struct map *m, uint8_t *val, size_t step, const void *value, bool user,
		 bool fresh)
{
	uint32_t cpu, this;

	if (!m->percpu) {
		memcpy(val, value, m->info.value_size);
		return;
	}
	if (user) {
		for (cpu = 0; cpu < m->info.nr_cpus; cpu++)
			memcpy(val + cpu * step, (const uint8_t *)value + (size_t)cpu * m->stride,
			       m->stride);
		return;
	}
	this = map_this_cpu(m);
	memcpy(val + this * step, value, m->info.value_size);
	/* user space reads whole strides: no stale bytes in the padding */
	memset(val + this * step + m->info.value_size, 0, m->stride - m->info.value_size);
	if (!fresh)
		return;
	for (cpu = 0; cpu < m->info.nr_cpus; cpu++)
		if (cpu != this)
			memset(val + cpu * step, 0, m->stride);
}

void map_copy_out(const struct map *m, void *value, const uint8_t *val, size_t step)
{
	uint32_t cpu;

	if (!m->percpu) {
		memcpy(value, val, m->info.value_size);
		return;
	}
	for (cpu = 0; cpu < m->info.nr_cpus; cpu++)
		memcpy((uint8_t *)value + (size_t)cpu * m->stride, val + cpu * step, m->stride);
}
