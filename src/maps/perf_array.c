// SPDX-License-Identifier: MIT
/*
 * BPF_MAP_TYPE_PERF_EVENT_ARRAY and the rings of BPF output perf events,
 * in the kernel's formats, so that libbpf's perf_buffer reads them as it
 * reads the kernel's.
 *
 * A ring is a file of the state directory: page 0 is a struct
 * perf_event_mmap_page (data_head written by producers, data_tail by the
 * consumer), with this module's control block in its second half (lock,
 * CPU, wakeup settings, lost count, wait queue); pages 1.. are the data,
 * 2^n pages sized once by the consumer's mmap (map_perf_ring_set_size).
 * Records are the kernel's: a PERF_RECORD_SAMPLE {header; u32 size; raw
 * bytes}, size rounded up so the record is 8-byte aligned (the consumer
 * sees the rounded size, as from the kernel), and a PERF_RECORD_LOST {header;
 * id; lost} before the next sample that fits after samples were dropped
 * for want of room. Writers hold the ring's robust lock (lock.c): threads
 * on one CPU may preempt each other here, unlike in the kernel.
 *
 * A slot of the array names a ring by (pid, fd, dev, ino): a process and an
 * fd of the ring's file in it, the loader's own table fd, which lives as
 * long as the slot holds the event (the bpf() emulation keeps it), and the
 * file's identity to recognise it. Producers anywhere open it through
 * /proc/PID/fd/FD once and keep the mapping in the map handle's cache; a
 * slot carries a sequence number, odd while it changes, so a cached ring
 * is used only while its slot still names it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "maps/internal.h"

#define PERF_RING_MAGIC 0x474e495246524550ull /* "PERFRING" */
#define PERF_CTL_OFF 2048		      /* past the kernel's fields of the header page */
#define PERF_RECORD_MAX 0xffffu		      /* perf_event_header.size is 16 bits */

struct perf_ring_ctl {
	uint64_t magic;
	int32_t cpu;
	uint32_t enabled;
	uint32_t wakeup_events;
	uint32_t watermark; /* bytes between wakeups, or 0 to count events */
	uint64_t data_size; /* 0 until the consumer maps the ring */
	uint64_t id;	    /* what PERF_RECORD_LOST names the event by */
	struct map_lock lock;
	uint64_t lost;	     /* samples dropped since the last LOST record */
	uint64_t events;     /* samples since the last wakeup */
	uint64_t woken_head; /* data_head at the last wakeup */
	struct map_waitq waitq __attribute__((aligned(64)));
};

_Static_assert(PERF_CTL_OFF >= sizeof(struct perf_event_mmap_page), "control after the header");
_Static_assert(PERF_CTL_OFF + sizeof(struct perf_ring_ctl) <= 4096, "control in the first page");

struct map_perf_ring {
	int fd;
	uint8_t *base;
	size_t len; /* of the mapping: the header page, then the data once sized */
};

/* A slot of the array. */
struct perf_slot {
	uint32_t seq; /* odd while being written; 0: never set */
	int32_t pid;  /* 0: empty */
	int32_t fd;
	uint32_t pad;
	uint64_t dev, ino;
};

/* A ring this process opened for a slot; never freed while the map handle lives. */
struct perf_open {
	uint32_t seq;
	struct map_perf_ring ring;
	struct perf_open *next;
};

struct perf_cache {
	pthread_mutex_t lock;
	struct perf_open *all;	  /* every one opened, to free at detach */
	struct perf_open *slot[]; /* per index: the current one, or NULL */
};

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

static struct perf_event_mmap_page *ring_hdr(const struct map_perf_ring *r)
{
	return (struct perf_event_mmap_page *)r->base;
}

static struct perf_ring_ctl *ring_ctl(const struct map_perf_ring *r)
{
	return (struct perf_ring_ctl *)(r->base + PERF_CTL_OFF);
}

int map_perf_ring_create(const struct map_perf_ring_attr *attr, struct map_perf_ring **out,
			 char *err, size_t err_len)
{
	struct map_perf_ring *r = calloc(1, sizeof(*r));
	struct perf_ring_ctl *ctl;
	void *base;
	struct stat st;
	int ret;

	if (!r) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	ret = map_shm_create("perf_ring", page_size(), &r->fd, &base, err, err_len);
	if (ret) {
		free(r);
		return ret;
	}
	r->base = base;
	r->len = page_size();
	ctl = ring_ctl(r);
	ctl->cpu = attr->cpu;
	ctl->enabled = attr->enabled;
	ctl->wakeup_events = attr->wakeup_events;
	ctl->watermark = attr->watermark ? (attr->wakeup_watermark ?: 1) : 0;
	ctl->id = fstat(r->fd, &st) ? 0 : st.st_ino;
	ret = map_lock_init(&ctl->lock);
	if (ret) {
		errbuf_set(err, err_len, "perf ring lock: %s", strerror(-ret));
		map_perf_ring_close(r);
		return ret;
	}
	ring_hdr(r)->version = 0;
	ring_hdr(r)->data_offset = page_size();
	__atomic_store_n(&ctl->magic, PERF_RING_MAGIC, __ATOMIC_RELEASE);
	*out = r;
	return 0;
}

int map_perf_ring_fd(const struct map_perf_ring *r)
{
	return r->fd;
}

void map_perf_ring_close(struct map_perf_ring *r)
{
	if (!r)
		return;
	if (r->base)
		munmap(r->base, r->len);
	close(r->fd);
	free(r);
}

int map_perf_ring_set_size(struct map_perf_ring *r, size_t len)
{
	struct perf_ring_ctl *ctl = ring_ctl(r);
	size_t page = page_size(), data;
	uint64_t have;

	if (len <= page || len % page || ((len / page - 1) & (len / page - 2)))
		return -EINVAL;
	data = len - page;
	have = __atomic_load_n(&ctl->data_size, __ATOMIC_ACQUIRE);
	if (have)
		return have == data ? 0 : -EINVAL;
	if (ftruncate(r->fd, (off_t)len) < 0 ||
	    (fallocate(r->fd, 0, (off_t)page, (off_t)data) < 0 && errno != EOPNOTSUPP))
		return -errno;
	ring_hdr(r)->data_offset = page;
	ring_hdr(r)->data_size = data;
	__atomic_store_n(&ctl->data_size, data, __ATOMIC_RELEASE);
	return 0;
}

void map_perf_ring_enable(struct map_perf_ring *r, bool on)
{
	__atomic_store_n(&ring_ctl(r)->enabled, on, __ATOMIC_RELEASE);
}

bool map_perf_ring_readable(struct map_perf_ring *r)
{
	struct perf_event_mmap_page *h = ring_hdr(r);

	return __atomic_load_n(&h->data_head, __ATOMIC_ACQUIRE) !=
	       __atomic_load_n(&h->data_tail, __ATOMIC_ACQUIRE);
}

struct map_waitq *map_perf_ring_waitq(struct map_perf_ring *r)
{
	return &ring_ctl(r)->waitq;
}

/* Copy len bytes to position pos of the data, wrapping at its end. */
static void ring_put(uint8_t *data, uint64_t size, uint64_t pos, const void *src, size_t len)
{
	size_t at = (size_t)(pos & (size - 1)), first = len < size - at ? len : size - at;

	memcpy(data + at, src, first);
	memcpy(data, (const uint8_t *)src + first, len - first);
}

static void ring_zero(uint8_t *data, uint64_t size, uint64_t pos, size_t len)
{
	static const uint8_t zeros[8];

	ring_put(data, size, pos, zeros, len);
}

/* Wake the consumer as the event's wakeup_events or watermark asks. */
static bool ring_wants_wakeup(struct perf_ring_ctl *ctl, uint64_t head)
{
	uint64_t mark = ctl->watermark ? ctl->watermark : ctl->data_size / 2;

	if (!ctl->watermark && ctl->wakeup_events && ++ctl->events >= ctl->wakeup_events) {
		ctl->events = 0;
		ctl->woken_head = head;
		return true;
	}
	if (head - ctl->woken_head >= mark) {
		ctl->woken_head = head;
		return true;
	}
	return false;
}

static int ring_output(struct map_perf_ring *r, const void *data, uint64_t size)
{
	struct perf_event_mmap_page *h = ring_hdr(r);
	struct perf_ring_ctl *ctl = ring_ctl(r);
	/* this mapping's size, not the header's, which the consumer can write */
	uint64_t dsize = r->len - page_size(), head, tail, need, raw;
	uint8_t *ring = r->base + page_size();
	struct perf_event_header eh;
	uint32_t raw_size;
	bool wake;

	raw = (size + sizeof(uint32_t) + 7) & ~7ull;
	need = sizeof(eh) + raw;
	if (need > PERF_RECORD_MAX)
		return -E2BIG;
	map_lock(&ctl->lock);
	head = h->data_head;
	tail = __atomic_load_n(&h->data_tail, __ATOMIC_ACQUIRE);
	if (ctl->lost)
		need += sizeof(eh) + 2 * sizeof(uint64_t);
	if (head + need - tail > dsize) {
		ctl->lost++;
		map_unlock(&ctl->lock);
		return -ENOSPC;
	}
	if (ctl->lost) {
		uint64_t body[2] = {ctl->id, ctl->lost};

		eh = (struct perf_event_header){.type = PERF_RECORD_LOST,
						.size = sizeof(eh) + sizeof(body)};
		ring_put(ring, dsize, head, &eh, sizeof(eh));
		ring_put(ring, dsize, head + sizeof(eh), body, sizeof(body));
		head += eh.size;
		ctl->lost = 0;
	}
	eh = (struct perf_event_header){.type = PERF_RECORD_SAMPLE,
					.misc = PERF_RECORD_MISC_USER,
					.size = (uint16_t)(sizeof(eh) + raw)};
	raw_size = (uint32_t)(raw - sizeof(uint32_t));
	ring_put(ring, dsize, head, &eh, sizeof(eh));
	ring_put(ring, dsize, head + sizeof(eh), &raw_size, sizeof(raw_size));
	ring_put(ring, dsize, head + sizeof(eh) + sizeof(raw_size), data, size);
	ring_zero(ring, dsize, head + sizeof(eh) + sizeof(raw_size) + size, raw_size - size);
	head += eh.size;
	__atomic_store_n(&h->data_head, head, __ATOMIC_RELEASE);
	wake = ring_wants_wakeup(ctl, head);
	map_unlock(&ctl->lock);
	if (wake)
		map_waitq_wake(&ctl->waitq);
	return 0;
}

static struct perf_slot *perf_slot(const struct map *m, uint32_t index)
{
	return (struct perf_slot *)(m->data + (size_t)index * sizeof(struct perf_slot));
}

/* Read slot s consistently: 0, or -ENOENT when it is empty. */
static int slot_read(const struct perf_slot *s, struct perf_slot *out)
{
	for (;;) {
		uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);

		if (seq & 1)
			continue;
		out->pid = __atomic_load_n(&s->pid, __ATOMIC_RELAXED);
		out->fd = __atomic_load_n(&s->fd, __ATOMIC_RELAXED);
		out->dev = __atomic_load_n(&s->dev, __ATOMIC_RELAXED);
		out->ino = __atomic_load_n(&s->ino, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) != seq)
			continue;
		out->seq = seq;
		return out->pid ? 0 : -ENOENT;
	}
}

static void slot_write(struct perf_slot *s, int32_t pid, int32_t fd, uint64_t dev, uint64_t ino)
{
	uint32_t seq = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);

	__atomic_store_n(&s->seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&s->pid, pid, __ATOMIC_RELAXED);
	__atomic_store_n(&s->fd, fd, __ATOMIC_RELAXED);
	__atomic_store_n(&s->dev, dev, __ATOMIC_RELAXED);
	__atomic_store_n(&s->ino, ino, __ATOMIC_RELAXED);
	__atomic_store_n(&s->seq, seq + 2, __ATOMIC_RELEASE);
}

int map_perf_array_set(struct map *m, uint32_t index, int32_t pid, int32_t fd,
		       const struct map_perf_ring *r)
{
	struct stat st;

	if (m->info.type != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
		return -EINVAL;
	if (index >= m->info.max_entries)
		return -E2BIG;
	if (fstat(r->fd, &st) < 0)
		return -errno;
	slot_write(perf_slot(m, index), pid, fd, st.st_dev, st.st_ino);
	return 0;
}

int map_perf_array_clear(struct map *m, uint32_t index)
{
	struct perf_slot cur;

	if (m->info.type != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
		return -EINVAL;
	if (index >= m->info.max_entries)
		return -E2BIG;
	if (slot_read(perf_slot(m, index), &cur))
		return -ENOENT;
	slot_write(perf_slot(m, index), 0, 0, 0, 0);
	return 0;
}

/*
 * Map the ring a slot names, once its consumer has sized it: -ENOENT when
 * the slot's file is gone, -EOPNOTSUPP or -ENOSPC (what an output would
 * get) while it has no data pages.
 */
static int ring_open(const struct perf_slot *s, struct map_perf_ring *r)
{
	struct perf_ring_ctl ctl;
	char path[64];
	struct stat st;
	void *p;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)s->pid, (int)s->fd);
	r->fd = open(path, O_RDWR | O_CLOEXEC);
	if (r->fd < 0)
		return -ENOENT;
	ret = -ENOENT;
	if (fstat(r->fd, &st) < 0 || st.st_ino != s->ino || st.st_dev != s->dev ||
	    pread(r->fd, &ctl, sizeof(ctl), PERF_CTL_OFF) != (ssize_t)sizeof(ctl) ||
	    ctl.magic != PERF_RING_MAGIC)
		goto fail;
	if (!ctl.data_size) {
		ret = !ctl.enabled || (ctl.cpu >= 0 && (uint32_t)ctl.cpu != map_cpu_now())
			      ? -EOPNOTSUPP
			      : -ENOSPC;
		goto fail;
	}
	r->len = page_size() + ctl.data_size;
	if ((uint64_t)st.st_size < r->len)
		goto fail;
	p = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, 0);
	if (p == MAP_FAILED) {
		ret = -errno;
		goto fail;
	}
	/* written once now rather than at a record, as ringbuf.c does (ringbuf_touch) */
	for (size_t off = page_size(); off < r->len; off += page_size())
		__atomic_fetch_or((uint64_t *)((uint8_t *)p + off), 0, __ATOMIC_RELAXED);
	r->base = p;
	return 0;
fail:
	close(r->fd);
	return ret;
}

/* The ring slot index names, opened in this process; NULL with *err set. */
static struct map_perf_ring *ring_of(struct map *m, uint32_t index, int *err)
{
	struct perf_cache *c = __atomic_load_n(&m->perf, __ATOMIC_ACQUIRE), *none = NULL;
	struct perf_open *o;
	struct perf_slot s;

	*err = slot_read(perf_slot(m, index), &s);
	if (*err)
		return NULL;
	o = c ? __atomic_load_n(&c->slot[index], __ATOMIC_ACQUIRE) : NULL;
	if (o && o->seq == s.seq)
		return &o->ring;
	if (!c) {
		c = calloc(1, sizeof(*c) + m->info.max_entries * sizeof(c->slot[0]));
		if (!c) {
			*err = -ENOMEM;
			return NULL;
		}
		pthread_mutex_init(&c->lock, NULL);
		if (!__atomic_compare_exchange_n(&m->perf, &none, c, false, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE)) {
			free(c);
			c = none;
		}
	}
	o = calloc(1, sizeof(*o));
	if (!o) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = ring_open(&s, &o->ring);
	if (*err) {
		free(o);
		return NULL;
	}
	o->seq = s.seq;
	pthread_mutex_lock(&c->lock);
	o->next = c->all;
	c->all = o;
	__atomic_store_n(&c->slot[index], o, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&c->lock);
	return &o->ring;
}

int map_perf_event_output(struct map *m, uint64_t flags, const void *data, uint64_t size)
{
	uint32_t cpu = map_cpu_now(), index;
	struct map_perf_ring *r;
	struct perf_ring_ctl *ctl;
	int err;

	if (m->info.type != BPF_MAP_TYPE_PERF_EVENT_ARRAY || (flags & ~BPF_F_INDEX_MASK))
		return -EINVAL;
	index = (flags & BPF_F_INDEX_MASK) == BPF_F_CURRENT_CPU ? cpu : (uint32_t)flags;
	if (index >= m->info.max_entries)
		return -E2BIG;
	r = ring_of(m, index, &err);
	if (!r)
		return err;
	ctl = ring_ctl(r);
	if (!__atomic_load_n(&ctl->enabled, __ATOMIC_ACQUIRE) ||
	    (ctl->cpu >= 0 && (uint32_t)ctl->cpu != cpu))
		return -EOPNOTSUPP;
	return ring_output(r, data, size);
}

static int perf_array_check(const struct map_attr *attr, char *err, size_t err_len)
{
	if (attr->flags & ~(uint32_t)(BPF_F_RDONLY | BPF_F_WRONLY | BPF_F_PRESERVE_ELEMS)) {
		errbuf_set(err, err_len, "flags 0x%x not valid for a perf_event_array",
			   attr->flags);
		return -EINVAL;
	}
	if (attr->key_size != 4 || attr->value_size != 4) {
		errbuf_set(err, err_len,
			   "perf_event_array key_size and value_size must be 4, not %u and %u",
			   attr->key_size, attr->value_size);
		return -EINVAL;
	}
	if (!attr->max_entries) {
		errbuf_set(err, err_len, "max_entries must not be 0");
		return -EINVAL;
	}
	return 0;
}

static int perf_array_layout(const struct map_info *info, union map_layout *layout, uint64_t *size,
			     char *err, size_t err_len)
{
	(void)err;
	(void)err_len;
	layout->array.values_off = MAP_HDR_SIZE;
	layout->array.values_len = (uint64_t)info->max_entries * sizeof(struct perf_slot);
	*size = MAP_HDR_SIZE + layout->array.values_len;
	return 0;
}

static int perf_array_attach(struct map *m)
{
	m->data = (uint8_t *)m->base + m->layout.array.values_off;
	return 0;
}

static void perf_array_detach(struct map *m)
{
	struct perf_cache *c = m->perf;

	if (!c)
		return;
	while (c->all) {
		struct perf_open *o = c->all;

		c->all = o->next;
		munmap(o->ring.base, o->ring.len);
		close(o->ring.fd);
		free(o);
	}
	pthread_mutex_destroy(&c->lock);
	free(c);
	m->perf = NULL;
}

static int perf_array_delete(struct map *m, const void *key)
{
	uint32_t index;

	memcpy(&index, key, sizeof(index));
	return map_perf_array_clear(m, index);
}

/* The kernel's perf_event_array has no lookup from bpf(): ENOTSUPP. */
static int perf_array_lookup_user(struct map *m, const void *key, void *value)
{
	(void)m;
	(void)key;
	(void)value;
	return -MAP_ENOTSUPP;
}

static int perf_array_get_next_key(struct map *m, const void *key, void *next_key)
{
	uint32_t index = 0;

	if (key) {
		memcpy(&index, key, sizeof(index));
		index = index >= m->info.max_entries ? 0 : index + 1;
	}
	if (index >= m->info.max_entries)
		return -ENOENT;
	memcpy(next_key, &index, sizeof(index));
	return 0;
}

const struct map_ops map_perf_array_ops = {
	.check = perf_array_check,
	.layout = perf_array_layout,
	.attach = perf_array_attach,
	.detach = perf_array_detach,
	/* programs only write into the rings; bpf() fills the slots (map_perf_array_set) */
	.lookup = map_no_lookup,
	.update = map_no_update,
	.delete = perf_array_delete,
	.lookup_user = perf_array_lookup_user,
	.get_next_key = perf_array_get_next_key,
};
