// SPDX-License-Identifier: MIT
/*
 * Unit tests of BPF_MAP_TYPE_RINGBUF: attribute checks, element commands
 * refused, records in order, reserve with submit and discard (also out of
 * order), a full ring, wrap-around through the double mapping, the
 * consumer's callback stopping, and producers in another process and in
 * threads feeding one consumer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "maps/maps.h"

#define RING 16384

static int create(uint32_t key_size, uint32_t value_size, uint32_t max_entries, uint32_t flags,
		  struct map **m, char *err, size_t err_len)
{
	struct map_attr a = {.type = BPF_MAP_TYPE_RINGBUF,
			     .key_size = key_size,
			     .value_size = value_size,
			     .max_entries = max_entries,
			     .flags = flags};

	*m = NULL;
	return map_create(&a, m, err, err_len);
}

static struct map *make(uint32_t size)
{
	struct map *m;
	char err[256] = "";
	int ret = create(0, 0, size, 0, &m, err, sizeof(err));

	REQUIRE(ret == 0, "map_create: %d (%s)", ret, err);
	return m;
}

static void test_attrs(void)
{
	struct map *m;
	char err[256] = "";
	uint32_t k = 0, v;

	EXPECT_RET(create(4, 0, RING, 0, &m, err, sizeof(err)), -EINVAL);
	EXPECT(strstr(err, "sizes must be 0"), "message: %s", err);
	EXPECT_RET(create(0, 4, RING, 0, &m, err, sizeof(err)), -EINVAL);
	EXPECT_RET(create(0, 0, 3 * 4096, 0, &m, err, sizeof(err)), -EINVAL);
	EXPECT(strstr(err, "power of two"), "message: %s", err);
	EXPECT_RET(create(0, 0, 2048, 0, &m, err, sizeof(err)), -EINVAL);
	EXPECT_RET(create(0, 0, 0, 0, &m, err, sizeof(err)), -EINVAL);
	EXPECT_RET(create(0, 0, RING, BPF_F_RDONLY, &m, err, sizeof(err)), -EINVAL);
	EXPECT(strstr(err, "not valid for a ring buffer"), "message: %s", err);

	m = make(4096);
	EXPECT(!map_lookup(m, &k), "no element pointers");
	EXPECT_RET(map_lookup_user(m, &k, &v), -EINVAL);
	EXPECT_RET(map_update_user(m, &k, &v, BPF_ANY), -EINVAL);
	EXPECT_RET(map_delete_user(m, &k), -EINVAL);
	EXPECT_RET(map_get_next_key(m, NULL, &k), -524);
	map_close(m);
}

struct seen {
	uint32_t n;
	uint32_t sizes[64];
	uint8_t first[64];
	int stop_at; /* callback returns -EINTR on this record */
};

static int collect(void *ctx, void *data, size_t size)
{
	struct seen *s = ctx;

	if (s->n < 64) {
		s->sizes[s->n] = (uint32_t)size;
		s->first[s->n] = size ? *(uint8_t *)data : 0;
	}
	return (int)s->n++ == s->stop_at ? -EINTR : 0;
}

static void test_records(void)
{
	struct map *m = make(4096), *other = make(4096);
	struct seen s = {.stop_at = -1};
	uint8_t buf[100];
	uint8_t *a, *b, *c;
	uint32_t i;

	EXPECT_RET(map_ringbuf_consume(m, collect, &s), 0);
	for (i = 0; i < 3; i++) {
		memset(buf, (int)i + 1, sizeof(buf));
		EXPECT_RET(map_ringbuf_output(m, buf, 10 + i, 0), 0);
	}
	EXPECT(map_ringbuf_query(m, BPF_RB_AVAIL_DATA) == 3 * 24, "avail %llu",
	       (unsigned long long)map_ringbuf_query(m, BPF_RB_AVAIL_DATA));
	EXPECT(map_ringbuf_query(m, BPF_RB_RING_SIZE) == 4096, "ring size");
	EXPECT(map_ringbuf_query(m, BPF_RB_PROD_POS) == 72 && map_ringbuf_query(m, 99) == 0,
	       "positions");
	EXPECT_RET(map_ringbuf_output(m, buf, 1, 4), -EINVAL);
	EXPECT_RET(map_ringbuf_consume(m, collect, &s), 3);
	EXPECT(s.sizes[0] == 10 && s.sizes[2] == 12 && s.first[0] == 1 && s.first[2] == 3,
	       "records in order with their sizes");
	EXPECT(map_ringbuf_query(m, BPF_RB_CONS_POS) == 72 &&
		       map_ringbuf_query(m, BPF_RB_AVAIL_DATA) == 0,
	       "consumer caught up");

	/* completed out of order: the consumer waits for the first */
	s.n = 0;
	a = map_ringbuf_reserve(m, 5, 0);
	b = map_ringbuf_reserve(m, 6, 0);
	c = map_ringbuf_reserve(m, 7, 0);
	EXPECT(a && b && c && ((uintptr_t)a & 7) == 0, "reserved, 8-byte aligned");
	EXPECT(!map_ringbuf_reserve(m, 5, 1), "reserve with flags");
	if (a && b && c) {
		*b = 0xb;
		*c = 0xc;
		EXPECT_RET(map_ringbuf_submit(m, b, 0), 0);
		EXPECT_RET(map_ringbuf_discard(m, c, BPF_RB_NO_WAKEUP), 0);
		EXPECT_RET(map_ringbuf_submit(m, b, 0), -EINVAL);
		EXPECT_RET(map_ringbuf_submit(other, a, 0), -EINVAL);
		EXPECT_RET(map_ringbuf_submit(m, buf, 0), -EINVAL);
		EXPECT_RET(map_ringbuf_consume(m, collect, &s), 0);
		*a = 0xa;
		EXPECT_RET(map_ringbuf_submit(m, a, BPF_RB_FORCE_WAKEUP), 0);
		EXPECT_RET(map_ringbuf_consume(m, collect, &s), 2);
		EXPECT(s.n == 2 && s.first[0] == 0xa && s.first[1] == 0xb,
		       "a then b, discarded c skipped");
	}
	EXPECT(!map_ringbuf_reserve(m, 4096, 0), "a record larger than the ring");
	EXPECT_RET(map_push(m, buf, 0), -EINVAL);
	EXPECT(!map_ringbuf_reserve(m, 1u << 31, 0), "a record beyond the size limit");
	map_close(other);

	/* the callback's error stops consumption after its record */
	for (i = 0; i < 3; i++)
		EXPECT_RET(map_ringbuf_output(m, buf, 8, 0), 0);
	s = (struct seen){.stop_at = 1};
	EXPECT_RET(map_ringbuf_consume(m, collect, &s), -EINTR);
	EXPECT_RET(map_ringbuf_consume(m, collect, &s), 1);
	map_close(m);
}

struct check {
	uint64_t next; /* expected sequence number */
	uint64_t bad;
};

static int check_seq(void *ctx, void *data, size_t size)
{
	struct check *c = ctx;
	uint64_t seq;
	size_t i;

	memcpy(&seq, data, sizeof(seq));
	c->bad += seq != c->next || size != 8 + seq % 200;
	for (i = 8; i < size; i++)
		c->bad += ((uint8_t *)data)[i] != (uint8_t)(seq + i);
	c->next = seq + 1;
	return 0;
}

/* A record of 8 + seq % 200 bytes: the sequence number, then a pattern. */
static void fill(uint8_t *rec, uint64_t seq)
{
	size_t i;

	memcpy(rec, &seq, sizeof(seq));
	for (i = 8; i < 8 + seq % 200; i++)
		rec[i] = (uint8_t)(seq + i);
}

static void test_full_and_wrap(void)
{
	struct map *m = make(4096);
	struct check c = {0};
	uint64_t seq = 0, made;
	uint8_t *rec, big[300] = {0};
	int round;

	/* fill up: reserve fails, output says -EAGAIN, consuming makes room */
	while ((rec = map_ringbuf_reserve(m, 8 + seq % 200, 0))) {
		fill(rec, seq++);
		map_ringbuf_submit(m, rec, 0);
	}
	EXPECT(seq > 20, "%llu records fit", (unsigned long long)seq);
	/* the gap left is smaller than the record refused */
	EXPECT_RET(map_ringbuf_output(m, big, sizeof(big), 0), -EAGAIN);
	EXPECT(map_ringbuf_consume(m, check_seq, &c) == (int)seq, "consumed the full ring");
	/* sizes not dividing the ring: records run over its end, contiguous */
	for (round = 0; round < 200; round++) {
		made = 0;
		while (made < 7 && (rec = map_ringbuf_reserve(m, 8 + seq % 200, 0))) {
			fill(rec, seq++);
			map_ringbuf_submit(m, rec, 0);
			made++;
		}
		map_ringbuf_consume(m, check_seq, &c);
	}
	EXPECT(c.next == seq && !c.bad, "%llu records through the ring, %llu bad",
	       (unsigned long long)seq, (unsigned long long)c.bad);
	map_close(m);
}

#define PRODUCED 50000

struct producer {
	struct map *m;
	uint32_t id;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	uint64_t i, rec[2];

	for (i = 0; i < PRODUCED; i++) {
		rec[0] = p->id;
		rec[1] = i;
		while (map_ringbuf_output(p->m, rec, sizeof(rec), 0) == -EAGAIN)
			sched_yield();
	}
	return NULL;
}

struct tally {
	uint64_t next[3];
	uint64_t bad;
	uint64_t total;
};

static int count_rec(void *ctx, void *data, size_t size)
{
	struct tally *t = ctx;
	uint64_t rec[2];

	memcpy(rec, data, sizeof(rec));
	if (size != sizeof(rec) || rec[0] > 2 || rec[1] != t->next[rec[0]]) {
		t->bad++;
		return 0;
	}
	t->next[rec[0]]++;
	t->total++;
	return 0;
}

static void test_producers(void)
{
	struct map *m = make(RING);
	struct producer p[2] = {{m, 1}, {m, 2}};
	struct tally t = {{0}};
	pthread_t th[2];
	int status, i;
	pid_t pid = fork();

	if (pid == 0) {
		struct producer self = {m, 0};

		produce(&self);
		_exit(0);
	}
	for (i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, produce, &p[i]);
	while (t.total < 3 * PRODUCED && !t.bad) {
		if (map_ringbuf_consume(m, count_rec, &t) == 0)
			sched_yield();
	}
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	waitpid(pid, &status, 0);
	EXPECT(WIFEXITED(status) && !WEXITSTATUS(status), "producer process");
	EXPECT(!t.bad && t.total == 3 * PRODUCED,
	       "one process and two threads: %llu records, %llu out of order",
	       (unsigned long long)t.total, (unsigned long long)t.bad);
	EXPECT(map_ringbuf_query(m, BPF_RB_AVAIL_DATA) == 0, "drained");
	map_close(m);
}

int main(void)
{
	test_attrs();
	test_records();
	test_full_and_wrap();
	test_producers();
	return check_summary();
}
