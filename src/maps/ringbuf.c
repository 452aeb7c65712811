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
 * Producers reserve under one lock, as the kernel does under a spinlock:
 * the record's header is written busy before the producer
 * position moves past it (release), so the consumer never reads a record
 * that is not there. Submit and discard flip the header with one atomic
 * exchange and take no lock, so records may complete out of order; the
 * consumer stops at the first busy one. Space is free again only once the
 * consumer has passed it; the pending position (the first record still
 * busy) also bounds the producer, so a slow submit cannot be overrun.
 *
 * The lock is a spinlock whose word names its holder (process and thread
 * id), robust as the other maps' pthread mutexes are (lock.c) but at a
 * third of their cost, which mattered at ~15 ns a record: a waiter that
 * has spun a while asks the kernel whether the holder's thread still
 * exists (tgkill with signal 0) and takes the lock over from a dead one.
 * The section it guards is a few loads and stores, so waiters spin, then
 * yield. Should a dead holder's thread id be reused in its process before
 * anyone looks, the lock would wait for the new thread, which never holds
 * it: that needs the pid space to wrap within the reservation's window.
 *
 * The object is laid out so that libbpf's consumer works on it as on the
 * kernel's: after the map header, a page holding the consumer position
 * (the consumer's to write), a page starting with the producer position,
 * then the data; map_ringbuf_mmap maps them as the kernel's mmap of a ring
 * buffer fd does. The data's pages are allocated at creation and written
 * once in each process that maps them (ringbuf_touch), as the kernel
 * allocates its ring up front: a first write to a shared page once
 * dominated every record.
 *
 * A consumer sleeping in epoll is woken through the ring's wait queue
 * (wake.c) after a submit or output, unless BPF_RB_NO_WAKEUP; a wakeup is
 * a system call only when a consumer is about to sleep. A producer killed
 * between reserve and submit leaves its record busy and the consumer
 * stopped there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
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

/*
 * The producer page: its position first, where libbpf reads it. The
 * consumer position is alone on the page before (struct ringbuf_cons).
 */
struct ringbuf_prod {
	uint64_t producer_pos;
	uint64_t pending_pos;
	uint64_t lock __attribute__((aligned(64))); /* 0, or pid << 32 | tid of the holder */
	struct map_waitq waitq __attribute__((aligned(64)));
};

struct ringbuf_cons {
	uint64_t consumer_pos;
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

static uint64_t page_size(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

static int ringbuf_layout(const struct map_info *info, union map_layout *layout, uint64_t *size,
			  char *err, size_t err_len)
{
	uint64_t page = page_size();

	(void)err;
	(void)err_len;
	layout->ringbuf.ctl_off = (MAP_HDR_SIZE + page - 1) / page * page;
	layout->ringbuf.data_off = layout->ringbuf.ctl_off + 2 * page;
	*size = layout->ringbuf.data_off + info->max_entries;
	return 0;
}

_Static_assert(sizeof(struct ringbuf_prod) <= 4096, "the producer page holds its state");

static struct ringbuf_cons *ringbuf_cons(const struct map *m)
{
	return (struct ringbuf_cons *)((uint8_t *)m->base + m->layout.ringbuf.ctl_off);
}

/* The page before the data (the layout's, not sysconf's: this is on every record's path). */
static struct ringbuf_prod *ringbuf_prod(const struct map *m)
{
	const struct map_ringbuf_layout *l = &m->layout.ringbuf;

	return (struct ringbuf_prod *)((uint8_t *)m->base + l->data_off -
				       (l->data_off - l->ctl_off) / 2);
}

static int ringbuf_init(struct map *m)
{
	/* the kernel's ring is allocated whole; pages that cannot be are found now */
	int ret =
		fallocate(m->fd, 0, (off_t)m->layout.ringbuf.data_off, (off_t)m->info.max_entries);

	if (ret < 0 && errno != EOPNOTSUPP)
		return -errno;
	return 0;
}

/* This thread's name in a lock word, reset in a forked child. */
static __thread uint64_t self_id;
static pthread_once_t self_once = PTHREAD_ONCE_INIT;

static void self_forget(void)
{
	self_id = 0;
}

static void self_at_fork(void)
{
	pthread_atfork(NULL, NULL, self_forget);
}

static uint64_t self(void)
{
	if (__builtin_expect(!self_id, 0)) {
		pthread_once(&self_once, self_at_fork);
		self_id = (uint64_t)getpid() << 32 | (uint32_t)gettid();
	}
	return self_id;
}

static bool holder_gone(uint64_t holder)
{
	return syscall(SYS_tgkill, (pid_t)(holder >> 32), (pid_t)(uint32_t)holder, 0) < 0 &&
	       errno == ESRCH;
}

static void __attribute__((noinline)) ring_lock_wait(uint64_t *lock, uint64_t me)
{
	for (unsigned spins = 1;; spins++) {
		uint64_t holder = __atomic_load_n(lock, __ATOMIC_RELAXED);

		if (!holder || (!(spins % 4096) && holder_gone(holder))) {
			if (__atomic_compare_exchange_n(lock, &holder, me, false, __ATOMIC_ACQUIRE,
							__ATOMIC_RELAXED))
				return;
			continue;
		}
		if (spins % 64)
			__builtin_ia32_pause();
		else
			sched_yield();
	}
}

static void ring_lock(uint64_t *lock)
{
	uint64_t me = self(), free = 0;

	if (!__atomic_compare_exchange_n(lock, &free, me, false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED))
		ring_lock_wait(lock, me);
}

static void ring_unlock(uint64_t *lock)
{
	__atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

/* The data twice in a row at p (2 * len bytes reserved there). */
static int map_data_twice(const struct map *m, uint8_t *p, size_t len, int prot, int flags)
{
	off_t off = (off_t)m->layout.ringbuf.data_off;

	if (mmap(p, len, prot, MAP_SHARED | MAP_FIXED | flags, m->fd, off) == MAP_FAILED ||
	    mmap(p + len, len, prot, MAP_SHARED | MAP_FIXED | flags, m->fd, off) == MAP_FAILED)
		return -errno;
	return 0;
}

/*
 * Write to every page of the data once, now rather than at a record: even
 * populated, a shared page's first write from user space here costs ~14 us
 * (a VM's host fills its own tables then), 50 ns a record spread over the
 * 256 records of a page, while the kernel's ring was written whole when it
 * was allocated. An atomic or of 0 changes nothing, so records other
 * processes are writing meanwhile stay whole. The second copy is only
 * written by records that wrap.
 */
static void ringbuf_touch(uint8_t *p, size_t len)
{
	size_t page = page_size();

	for (size_t off = 0; off < len; off += page)
		__atomic_fetch_or((uint64_t *)(p + off), 0, __ATOMIC_RELAXED);
}

static int ringbuf_attach(struct map *m)
{
	size_t len = m->info.max_entries;
	uint8_t *p =
		mmap(NULL, 2 * len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	int ret;

	if (p == MAP_FAILED)
		return -errno;
	ret = map_data_twice(m, p, len, PROT_READ | PROT_WRITE, MAP_POPULATE);
	if (ret) {
		munmap(p, 2 * len);
		return ret;
	}
	ringbuf_touch(p, len);
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
	struct ringbuf_prod *ctl;
	struct ringbuf_hdr *hdr;
	uint64_t len, cons, prod, pend;

	if (!ringbuf(m) || flags || size > RINGBUF_MAX_RECORD)
		return NULL;
	len = ringbuf_record((uint32_t)size);
	if (len > m->info.max_entries)
		return NULL;
	ctl = ringbuf_prod(m);
	cons = __atomic_load_n(&ringbuf_cons(m)->consumer_pos, __ATOMIC_ACQUIRE);
	ring_lock(&ctl->lock);
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
		ring_unlock(&ctl->lock);
		return NULL;
	}
	hdr = ringbuf_hdr_at(m, prod);
	hdr->off = (uint32_t)(prod & ringbuf_mask(m));
	__atomic_store_n(&hdr->len, (uint32_t)size | BPF_RINGBUF_BUSY_BIT, __ATOMIC_RELAXED);
	__atomic_store_n(&ctl->producer_pos, prod + len, __ATOMIC_RELEASE);
	ring_unlock(&ctl->lock);
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

/* After a record is complete: a sleeping consumer hears of it unless told not to. */
static void ringbuf_wake(struct map *m, uint64_t flags)
{
	if (!(flags & BPF_RB_NO_WAKEUP))
		map_waitq_wake(&ringbuf_prod(m)->waitq);
}

int map_ringbuf_submit(struct map *m, void *sample, uint64_t flags)
{
	int ret = ringbuf_commit(m, sample, false);

	if (!ret)
		ringbuf_wake(m, flags);
	return ret;
}

int map_ringbuf_discard(struct map *m, void *sample, uint64_t flags)
{
	int ret = ringbuf_commit(m, sample, true);

	if (!ret)
		ringbuf_wake(m, flags);
	return ret;
}

int map_ringbuf_output(struct map *m, const void *data, uint64_t size, uint64_t flags)
{
	void *rec;
	int ret;

	if (!ringbuf(m) || (flags & ~RINGBUF_WAKEUP_FLAGS))
		return -EINVAL;
	rec = map_ringbuf_reserve(m, size, 0);
	if (!rec)
		return -EAGAIN;
	memcpy(rec, data, size);
	ret = ringbuf_commit(m, rec, false);
	if (!ret)
		ringbuf_wake(m, flags);
	return ret;
}

struct map_waitq *map_ringbuf_waitq(struct map *m)
{
	return ringbuf(m) ? &ringbuf_prod(m)->waitq : NULL;
}

int map_ringbuf_mmap(struct map *m, void *addr, size_t len, int prot, int flags, off_t offset,
		     void **out)
{
	size_t page = page_size(), data = m->info.max_entries;
	int fixed = flags & MAP_FIXED;
	uint8_t *p;
	int ret;

	if (!ringbuf(m))
		return -EINVAL;
	if (offset == 0 && len == page) {
		p = mmap(addr, len, prot, MAP_SHARED | fixed, m->fd,
			 (off_t)m->layout.ringbuf.ctl_off);
		if (p == MAP_FAILED)
			return -errno;
		*out = p;
		return 0;
	}
	if ((size_t)offset != page || len != page + 2 * data)
		return -EINVAL;
	if (prot & PROT_WRITE)
		return -EACCES;
	p = mmap(addr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | fixed, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	if (mmap(p, page, prot, MAP_SHARED | MAP_FIXED, m->fd,
		 (off_t)m->layout.ringbuf.ctl_off + (off_t)page) == MAP_FAILED) {
		ret = -errno;
		munmap(p, len);
		return ret;
	}
	ret = map_data_twice(m, p + page, data, prot, 0);
	if (ret) {
		munmap(p, len);
		return ret;
	}
	*out = p;
	return 0;
}

uint64_t map_ringbuf_query(struct map *m, uint64_t flags)
{
	uint64_t cons, prod;

	if (!ringbuf(m))
		return 0;
	cons = __atomic_load_n(&ringbuf_cons(m)->consumer_pos, __ATOMIC_ACQUIRE);
	prod = __atomic_load_n(&ringbuf_prod(m)->producer_pos, __ATOMIC_ACQUIRE);
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
	struct ringbuf_cons *cc;
	uint64_t cons, prod;
	uint32_t len;
	int n = 0, ret;

	if (!ringbuf(m))
		return -EINVAL;
	cc = ringbuf_cons(m);
	cons = __atomic_load_n(&cc->consumer_pos, __ATOMIC_RELAXED);
	for (;;) {
		prod = __atomic_load_n(&ringbuf_prod(m)->producer_pos, __ATOMIC_ACQUIRE);
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
		__atomic_store_n(&cc->consumer_pos, cons, __ATOMIC_RELEASE);
		if (ret < 0)
			return ret;
	}
	return n;
}

/* Element commands on a ring buffer fail with the kernel's codes. */
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
	.lookup = map_no_lookup,
	.update = map_no_update,
	.delete = ringbuf_delete,
	.lookup_user = ringbuf_lookup_user,
	.get_next_key = ringbuf_get_next_key,
};
