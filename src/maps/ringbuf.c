// SPDX-License-Identifier: MIT
/*
 * BPF_MAP_TYPE_RINGBUF: the kernel's ring buffer of variable-length
 * records, many producers, one consumer. max_entries bytes of data, a power
 * of two and whole pages. Each record is an 8-byte header {len, offset}
 * and the sample, 8-byte aligned; len carries BPF_RINGBUF_BUSY_BIT until
 * the producer submits and BPF_RINGBUF_DISCARD_BIT if it discarded.
 *
 * Positions count bytes forever (they wrap only at 2^64); a record lives at
 * position mod size. The data is mapped twice in a row in every process, so
 * a record that runs past the end is contiguous in memory, as a program
 * writing into a reserved sample needs.
 *
 * Producers reserve under one robust lock (lock.c), as the kernel does
 * under a spinlock: the record's header is written busy before the producer
 * position moves past it (release), so the consumer never reads a record
 * that is not there. Submit and discard flip the header with one atomic
 * exchange and take no lock, so records may complete out of order; the
 * consumer stops at the first busy one. Space is free again only once the
 * consumer has passed it; the pending position (the first record still
 * busy) also bounds the producer, so a slow submit cannot be overrun.
 *
 * There are no wakeups: the consumer polls with map_ringbuf_consume, and
 * the BPF_RB_*_WAKEUP flags are accepted and change nothing. A producer
 * killed between reserve and submit leaves its record busy and the
 * consumer stopped there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "maps/internal.h"

#define RINGBUF_WAKEUP_FLAGS (BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)
#define RINGBUF_MAX_RECORD (UINT32_MAX / 4) /* below the busy and discard bits */

struct ringbuf_hdr {
	uint32_t len;
	uint32_t off; /* the record's offset in the ring, to recognise a sample */
};

/* Apart on their own cache lines: producers and the consumer write different ones. */
struct ringbuf_ctl {
	struct map_lock lock;
	uint64_t consumer_pos __attribute__((aligned(64)));
	uint64_t producer_pos __attribute__((aligned(64)));
	uint64_t pending_pos;
};

static int ringbuf_check(const struct map_attr *attr, char *err, size_t err_len)
{
	uint32_t n = attr->max_entries;

	if (attr->flags) {
		errbuf_set(err, err_len, "flags 0x%x not valid for a ring buffer", attr->flags);
		return -EINVAL;
	}
	if (attr->key_size || attr->value_size) {
		errbuf_set(err, err_len, "a ring buffer has no keys or values: sizes must be 0");
		return -EINVAL;
	}
	if (!n || (n & (n - 1)) || n % (uint32_t)sysconf(_SC_PAGESIZE)) {
		errbuf_set(err, err_len,
			   "ring buffer size %u must be a power of two and a multiple of the page "
			   "size",
			   n);
		return -EINVAL;
	}
	return 0;
}

static int ringbuf_layout(const struct map_info *info, union map_layout *layout, uint64_t *size,
			  char *err, size_t err_len)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	(void)err;
	(void)err_len;
	layout->ringbuf.ctl_off = MAP_HDR_SIZE;
	layout->ringbuf.data_off =
		(MAP_HDR_SIZE + sizeof(struct ringbuf_ctl) + page - 1) / page * page;
	*size = layout->ringbuf.data_off + info->max_entries;
	return 0;
}

static struct ringbuf_ctl *ringbuf_ctl(const struct map *m)
{
	return (struct ringbuf_ctl *)((uint8_t *)m->base + m->layout.ringbuf.ctl_off);
}

static int ringbuf_init(struct map *m)
{
	return map_lock_init(&ringbuf_ctl(m)->lock);
}

static int ringbuf_attach(struct map *m)
{
	size_t len = m->info.max_entries;
	off_t off = (off_t)m->layout.ringbuf.data_off;
	uint8_t *p =
		mmap(NULL, 2 * len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	int ret;

	if (p == MAP_FAILED)
		return -errno;
	if (mmap(p, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, m->fd, off) ==
		    MAP_FAILED ||
	    mmap(p + len, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, m->fd, off) ==
		    MAP_FAILED) {
		ret = -errno;
		munmap(p, 2 * len);
		return ret;
	}
	m->data = p;
	return 0;
}

static void ringbuf_detach(struct map *m)
{
	if (m->data)
		munmap(m->data, 2 * (size_t)m->info.max_entries);
}

static uint64_t ringbuf_mask(const struct map *m)
{
	return m->info.max_entries - 1;
}

static struct ringbuf_hdr *ringbuf_hdr_at(const struct map *m, uint64_t pos)
{
	return (struct ringbuf_hdr *)(m->data + (pos & ringbuf_mask(m)));
}

/* Bytes a record of sample length len takes in the ring. */
static uint64_t ringbuf_record(uint32_t len)
{
	len &= ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
	return ((uint64_t)len + BPF_RINGBUF_HDR_SZ + 7) & ~7ull;
}

static bool ringbuf(const struct map *m)
{
	return m->info.type == BPF_MAP_TYPE_RINGBUF;
}

void *map_ringbuf_reserve(struct map *m, uint64_t size, uint64_t flags)
{
	struct ringbuf_ctl *ctl;
	struct ringbuf_hdr *hdr;
	uint64_t len, cons, prod, pend;

	if (!ringbuf(m) || flags || size > RINGBUF_MAX_RECORD)
		return NULL;
	len = ringbuf_record((uint32_t)size);
	if (len > m->info.max_entries)
		return NULL;
	ctl = ringbuf_ctl(m);
	cons = __atomic_load_n(&ctl->consumer_pos, __ATOMIC_ACQUIRE);
	map_lock(&ctl->lock);
	prod = ctl->producer_pos;
	pend = ctl->pending_pos;
	while (pend < prod) {
		uint32_t l = __atomic_load_n(&ringbuf_hdr_at(m, pend)->len, __ATOMIC_ACQUIRE);

		if (l & BPF_RINGBUF_BUSY_BIT)
			break;
		pend += ringbuf_record(l);
	}
	ctl->pending_pos = pend;
	if (prod + len - cons > ringbuf_mask(m) || prod + len - pend > ringbuf_mask(m)) {
		map_unlock(&ctl->lock);
		return NULL;
	}
	hdr = ringbuf_hdr_at(m, prod);
	hdr->off = (uint32_t)(prod & ringbuf_mask(m));
	__atomic_store_n(&hdr->len, (uint32_t)size | BPF_RINGBUF_BUSY_BIT, __ATOMIC_RELAXED);
	__atomic_store_n(&ctl->producer_pos, prod + len, __ATOMIC_RELEASE);
	map_unlock(&ctl->lock);
	return hdr + 1;
}

/* Completes a reserved record: only a busy record of this ring qualifies. */
static int ringbuf_commit(struct map *m, void *sample, bool discard)
{
	struct ringbuf_hdr *hdr = (struct ringbuf_hdr *)sample - 1;
	uintptr_t at = (uintptr_t)hdr - (uintptr_t)m->data;
	uint32_t len;

	if (!ringbuf(m) || !sample || (uintptr_t)hdr < (uintptr_t)m->data ||
	    at >= m->info.max_entries || hdr->off != at)
		return -EINVAL;
	len = __atomic_load_n(&hdr->len, __ATOMIC_RELAXED);
	if (!(len & BPF_RINGBUF_BUSY_BIT))
		return -EINVAL;
	len &= ~BPF_RINGBUF_BUSY_BIT;
	if (discard)
		len |= BPF_RINGBUF_DISCARD_BIT;
	__atomic_exchange_n(&hdr->len, len, __ATOMIC_ACQ_REL);
	return 0;
}

int map_ringbuf_submit(struct map *m, void *sample, uint64_t flags)
{
	(void)flags;
	return ringbuf_commit(m, sample, false);
}

int map_ringbuf_discard(struct map *m, void *sample, uint64_t flags)
{
	(void)flags;
	return ringbuf_commit(m, sample, true);
}

int map_ringbuf_output(struct map *m, const void *data, uint64_t size, uint64_t flags)
{
	void *rec;

	if (!ringbuf(m) || (flags & ~RINGBUF_WAKEUP_FLAGS))
		return -EINVAL;
	rec = map_ringbuf_reserve(m, size, 0);
	if (!rec)
		return -EAGAIN;
	memcpy(rec, data, size);
	return ringbuf_commit(m, rec, false);
}

uint64_t map_ringbuf_query(struct map *m, uint64_t flags)
{
	struct ringbuf_ctl *ctl;
	uint64_t cons, prod;

	if (!ringbuf(m))
		return 0;
	ctl = ringbuf_ctl(m);
	cons = __atomic_load_n(&ctl->consumer_pos, __ATOMIC_ACQUIRE);
	prod = __atomic_load_n(&ctl->producer_pos, __ATOMIC_ACQUIRE);
	switch (flags) {
	case BPF_RB_AVAIL_DATA:
		return prod - cons;
	case BPF_RB_RING_SIZE:
		return m->info.max_entries;
	case BPF_RB_CONS_POS:
		return cons;
	case BPF_RB_PROD_POS:
		return prod;
	default:
		return 0;
	}
}

int map_ringbuf_consume(struct map *m, map_ringbuf_fn fn, void *ctx)
{
	struct ringbuf_ctl *ctl;
	uint64_t cons, prod;
	uint32_t len;
	int n = 0, ret;

	if (!ringbuf(m))
		return -EINVAL;
	ctl = ringbuf_ctl(m);
	cons = __atomic_load_n(&ctl->consumer_pos, __ATOMIC_RELAXED);
	for (;;) {
		prod = __atomic_load_n(&ctl->producer_pos, __ATOMIC_ACQUIRE);
		if (cons >= prod)
			break;
		len = __atomic_load_n(&ringbuf_hdr_at(m, cons)->len, __ATOMIC_ACQUIRE);
		if (len & BPF_RINGBUF_BUSY_BIT)
			break;
		/* a header a program overwrote: never hand out more than the ring */
		if ((len & ~BPF_RINGBUF_DISCARD_BIT) >
		    m->info.max_entries - sizeof(struct ringbuf_hdr))
			return -EBADMSG;
		ret = 0;
		if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
			ret = fn(ctx, ringbuf_hdr_at(m, cons) + 1, len);
			n++;
		}
		cons += ringbuf_record(len);
		/* the record is the consumer's until this store: producers may then reuse it */
		__atomic_store_n(&ctl->consumer_pos, cons, __ATOMIC_RELEASE);
		if (ret < 0)
			return ret;
	}
	return n;
}

static void *ringbuf_lookup(struct map *m, const void *key)
{
	(void)m;
	(void)key;
	return NULL;
}

/* Element commands on a ring buffer fail with the kernel's codes. */
static int ringbuf_update(struct map *m, const void *key, const void *value, uint64_t flags,
			  bool user)
{
	(void)m;
	(void)key;
	(void)value;
	(void)flags;
	(void)user;
	return -EINVAL;
}

static int ringbuf_delete(struct map *m, const void *key)
{
	(void)m;
	(void)key;
	return -EINVAL;
}

static int ringbuf_lookup_user(struct map *m, const void *key, void *value)
{
	(void)m;
	(void)key;
	(void)value;
	return -EINVAL;
}

static int ringbuf_get_next_key(struct map *m, const void *key, void *next_key)
{
	(void)m;
	(void)key;
	(void)next_key;
	return -MAP_ENOTSUPP;
}

const struct map_ops map_ringbuf_ops = {
	.check = ringbuf_check,
	.layout = ringbuf_layout,
	.init = ringbuf_init,
	.attach = ringbuf_attach,
	.detach = ringbuf_detach,
	.lookup = ringbuf_lookup,
	.update = ringbuf_update,
	.delete = ringbuf_delete,
	.lookup_user = ringbuf_lookup_user,
	.get_next_key = ringbuf_get_next_key,
};
