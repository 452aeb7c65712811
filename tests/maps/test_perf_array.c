// SPDX-License-Identifier: MIT
/*
 * Unit tests of BPF_MAP_TYPE_PERF_EVENT_ARRAY, its rings and the wait
 * queues: attribute checks, every error code of bpf_perf_event_output,
 * records in the kernel's format (read from the ring's file as a consumer
 * maps it), a full ring's PERF_RECORD_LOST, a ring named by a slot reached
 * from another process, and wakeups: none unless a consumer armed the
 * queue, one from another process when it did, none with
 * BPF_RB_NO_WAKEUP; and a ring buffer whose producer lock a dead thread
 * holds is taken over.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "maps/maps.h"

#define PAGES 2 /* data pages of a ring */

static struct map *make_array(uint32_t n)
{
	struct map_attr a = {.type = BPF_MAP_TYPE_PERF_EVENT_ARRAY,
			     .key_size = 4,
			     .value_size = 4,
			     .max_entries = n};
	char err[256] = "";
	struct map *m = NULL;
	int ret = map_create(&a, &m, err, sizeof(err));

	REQUIRE(ret == 0, "map_create: %d (%s)", ret, err);
	return m;
}

static struct map_perf_ring *make_ring(bool enabled)
{
	struct map_perf_ring_attr a = {.cpu = -1, .wakeup_events = 1, .enabled = enabled};
	struct map_perf_ring *r = NULL;
	char err[256] = "";
	int ret = map_perf_ring_create(&a, &r, err, sizeof(err));

	REQUIRE(ret == 0, "map_perf_ring_create: %d (%s)", ret, err);
	return r;
}

static void test_attrs(void)
{
	struct map_attr a = {.type = BPF_MAP_TYPE_PERF_EVENT_ARRAY,
			     .key_size = 4,
			     .value_size = 8,
			     .max_entries = 2};
	struct map *m = NULL;
	char err[256];
	uint32_t k = 0, v = 0;

	EXPECT_RET(map_create(&a, &m, err, sizeof(err)), -EINVAL);
	a.value_size = 4;
	a.max_entries = 0;
	EXPECT_RET(map_create(&a, &m, err, sizeof(err)), -EINVAL);
	a.max_entries = 2;
	a.flags = BPF_F_MMAPABLE;
	EXPECT_RET(map_create(&a, &m, err, sizeof(err)), -EINVAL);
	m = make_array(2);
	EXPECT_RET(map_lookup_user(m, &k, &v), -524);
	EXPECT_RET(map_delete_user(m, &k), -ENOENT);
	k = 2;
	EXPECT_RET(map_delete_user(m, &k), -E2BIG);
	EXPECT(map_lookup(m, &k) == NULL, "a program cannot look into it");
	map_close(m);
}

/* A consumer's view: the ring's file mapped as libbpf maps it. */
static struct perf_event_mmap_page *consumer_map(struct map_perf_ring *r)
{
	size_t len = (1 + PAGES) * (size_t)sysconf(_SC_PAGESIZE);
	void *p;

	REQUIRE(map_perf_ring_set_size(r, len) == 0, "size the ring");
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, map_perf_ring_fd(r), 0);
	REQUIRE(p != MAP_FAILED, "mmap the ring");
	return p;
}

static void test_errors(void)
{
	struct map *m = make_array(2);
	struct map_perf_ring *r = make_ring(false);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	static char big[70000];
	char data[8] = "abcdefg";

	EXPECT_RET(map_perf_event_output(m, 0, data, 8), -ENOENT);
	EXPECT_RET(map_perf_event_output(m, 2, data, 8), -E2BIG);
	EXPECT_RET(map_perf_event_output(m, 1ull << 40, data, 8), -EINVAL);
	EXPECT_RET(map_perf_array_set(m, 2, getpid(), map_perf_ring_fd(r), r), -E2BIG);
	EXPECT_RET(map_perf_array_set(m, 0, getpid(), map_perf_ring_fd(r), r), 0);
	EXPECT_RET(map_perf_event_output(m, 0, data, 8), -EOPNOTSUPP);
	map_perf_ring_enable(r, true);
	EXPECT_RET(map_perf_event_output(m, 0, data, 8), -ENOSPC);
	EXPECT_RET(map_perf_ring_set_size(r, page), -EINVAL);
	EXPECT_RET(map_perf_ring_set_size(r, 4 * page), -EINVAL);
	munmap(consumer_map(r), (1 + PAGES) * page);
	EXPECT_RET(map_perf_ring_set_size(r, 5 * page), -EINVAL);
	EXPECT_RET(map_perf_event_output(m, 0, data, 8), 0);
	EXPECT_RET(map_perf_event_output(m, 0, big, sizeof(big)), -E2BIG);
	EXPECT_RET(map_perf_array_clear(m, 0), 0);
	EXPECT_RET(map_perf_array_clear(m, 0), -ENOENT);
	EXPECT_RET(map_perf_event_output(m, 0, data, 8), -ENOENT);
	map_close(m);
	map_perf_ring_close(r);
}

struct sample {
	struct perf_event_header h;
	uint32_t size;
	uint8_t data[];
};

static void test_records(void)
{
	struct map *m = make_array(1);
	struct map_perf_ring *r = make_ring(true);
	struct perf_event_mmap_page *h = consumer_map(r);
	size_t page = (size_t)sysconf(_SC_PAGESIZE), dsize = PAGES * page;
	uint8_t *ring = (uint8_t *)h + page, data[100];
	uint64_t tail = 0, head, n = 0;
	int ret;

	for (int i = 0; i < (int)sizeof(data); i++)
		data[i] = (uint8_t)i;
	REQUIRE(map_perf_array_set(m, 0, getpid(), map_perf_ring_fd(r), r) == 0, "set slot");
	EXPECT_RET(map_perf_event_output(m, 0, data, 5), 0);
	head = __atomic_load_n(&h->data_head, __ATOMIC_ACQUIRE);
	EXPECT(head == 24, "a 5-byte sample takes 24 bytes, not %llu", (unsigned long long)head);
	{
		struct sample *s = (struct sample *)ring;

		EXPECT(s->h.type == PERF_RECORD_SAMPLE && s->h.size == 24 && s->size == 12,
		       "sample header: type %u size %u raw %u", s->h.type, s->h.size, s->size);
		EXPECT(!memcmp(s->data, data, 5) && !s->data[5], "sample bytes, zero padding");
	}
	tail = head;
	__atomic_store_n(&h->data_tail, tail, __ATOMIC_RELEASE);
	/* fill the ring: 100-byte samples take 112 bytes */
	while ((ret = map_perf_event_output(m, 0, data, sizeof(data))) == 0)
		n++;
	EXPECT(ret == -ENOSPC && n == dsize / 112, "%llu samples then %d", (unsigned long long)n,
	       ret);
	EXPECT_RET(map_perf_event_output(m, 0, data, sizeof(data)), -ENOSPC);
	/* consume everything: the next sample comes after a LOST record of 2 */
	__atomic_store_n(&h->data_tail, __atomic_load_n(&h->data_head, __ATOMIC_ACQUIRE),
			 __ATOMIC_RELEASE);
	tail = h->data_tail;
	EXPECT_RET(map_perf_event_output(m, 0, data, 4), 0);
	{
		struct perf_event_header lh, sh;
		uint64_t body[2];

		memcpy(&lh, ring + tail % dsize, sizeof(lh));
		memcpy(body, ring + (tail + sizeof(lh)) % dsize, sizeof(body));
		memcpy(&sh, ring + (tail + lh.size) % dsize, sizeof(sh));
		EXPECT(lh.type == PERF_RECORD_LOST && lh.size == 24 && body[1] == 2,
		       "lost record: type %u size %u lost %llu", lh.type, lh.size,
		       (unsigned long long)body[1]);
		EXPECT(sh.type == PERF_RECORD_SAMPLE && sh.size == 16, "then the sample");
	}
	munmap(h, (1 + PAGES) * page);
	map_close(m);
	map_perf_ring_close(r);
}

/* Another process writes through the array's slot: the map and ring are shared. */
static void test_other_process(void)
{
	struct map *m = make_array(1);
	struct map_perf_ring *r = make_ring(true);
	struct perf_event_mmap_page *h = consumer_map(r);
	struct map_waitq *q = map_perf_ring_waitq(r);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct pollfd pfd;
	int p[2], status;
	pid_t pid;

	REQUIRE(pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0, "pipe");
	REQUIRE(map_perf_array_set(m, 0, getpid(), map_perf_ring_fd(r), r) == 0, "set slot");
	EXPECT(map_waitq_join(q, p[1]) >= 0, "join the wait queue");
	map_waitq_arm(q);
	pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (pid == 0) {
		struct map *cm = NULL;
		char err[256];

		/* a process of its own: the map opened anew from its fd, as a target does */
		if (map_open_fd(map_fd(m), &cm, err, sizeof(err)))
			_exit(2);
		_exit(map_perf_event_output(cm, 0, "xyz", 3) ? 1 : 0);
	}
	REQUIRE(waitpid(pid, &status, 0) == pid, "wait");
	EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child's output: status %d", status);
	pfd = (struct pollfd){.fd = p[0], .events = POLLIN};
	EXPECT(poll(&pfd, 1, 10000) == 1, "the child woke the armed consumer");
	EXPECT(h->data_head == 16, "the child's record is in the ring");
	munmap(h, (1 + PAGES) * page);
	close(p[0]);
	close(p[1]);
	map_close(m);
	map_perf_ring_close(r);
}

static bool readable(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char buf[16];
	bool yes = poll(&pfd, 1, 0) == 1;

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	return yes;
}

static void test_ringbuf_wakeups(void)
{
	struct map_attr a = {.type = BPF_MAP_TYPE_RINGBUF,
			     .max_entries = 4 * (uint32_t)sysconf(_SC_PAGESIZE)};
	struct map *m = NULL;
	struct map_waitq *q;
	char err[256];
	int p[2], slot, status;
	uint64_t v = 1;
	pid_t pid;

	REQUIRE(map_create(&a, &m, err, sizeof(err)) == 0, "ringbuf: %s", err);
	REQUIRE(pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0, "pipe");
	q = map_ringbuf_waitq(m);
	slot = map_waitq_join(q, p[1]);
	EXPECT(slot >= 0, "join");
	EXPECT_RET(map_ringbuf_output(m, &v, 8, 0), 0);
	EXPECT(!readable(p[0]), "no wakeup while no consumer sleeps");
	map_waitq_arm(q);
	EXPECT_RET(map_ringbuf_output(m, &v, 8, BPF_RB_NO_WAKEUP), 0);
	EXPECT(!readable(p[0]), "no wakeup with BPF_RB_NO_WAKEUP");
	pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (pid == 0)
		_exit(map_ringbuf_output(m, &v, 8, 0) ? 1 : 0);
	REQUIRE(waitpid(pid, &status, 0) == pid, "wait");
	EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child's output");
	EXPECT(readable(p[0]), "a wakeup from another process");
	EXPECT_RET(map_ringbuf_output(m, &v, 8, 0), 0);
	EXPECT(!readable(p[0]), "one wakeup per arming");
	map_waitq_leave(q, slot);
	close(p[0]);
	close(p[1]);
	map_close(m);
}

/*
 * The ring buffer's producer lock (ringbuf.c: the word at offset 64 of the
 * producer page, the second page after the map's header) held by a thread
 * that is gone, as after a SIGKILL inside a reservation: the next record
 * waits a moment, then takes the lock over.
 */
static void test_ringbuf_dead_holder(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct map_attr a = {.type = BPF_MAP_TYPE_RINGBUF, .max_entries = 4 * (uint32_t)page};
	struct map *m = NULL;
	uint64_t *prod, v = 7;
	char err[256];
	int status;
	pid_t pid;

	REQUIRE(map_create(&a, &m, err, sizeof(err)) == 0, "ringbuf: %s", err);
	prod = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd(m), (off_t)(2 * page));
	REQUIRE(prod != MAP_FAILED, "map the producer page");
	pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (pid == 0)
		_exit(0);
	REQUIRE(waitpid(pid, &status, 0) == pid, "wait");
	EXPECT_RET(map_ringbuf_output(m, &v, 8, 0), 0);
	__atomic_store_n(&prod[8], (uint64_t)pid << 32 | (uint32_t)pid, __ATOMIC_RELEASE);
	EXPECT_RET(map_ringbuf_output(m, &v, 8, 0), 0);
	EXPECT(prod[0] == 32 && prod[8] == 0, "two records, the lock free: pos %llu lock %llx",
	       (unsigned long long)prod[0], (unsigned long long)prod[8]);
	munmap(prod, page);
	map_close(m);
}

int main(void)
{
	test_attrs();
	test_errors();
	test_records();
	test_other_process();
	test_ringbuf_wakeups();
	test_ringbuf_dead_holder();
	return check_summary();
}
