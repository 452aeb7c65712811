// SPDX-License-Identifier: MIT
/*
 * Maps shared between processes: a child attaches through an fd passed
 * over a unix socket or opened through /proc/PID/fd, updates, and the
 * parent sees it; both count into one value at once; a writer that dies
 * holding bucket locks leaves a usable map; map_open_fd refuses what is not
 * a sound map.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "maps/internal.h"

#define COUNTS 200000

static struct map *make(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t max_entries)
{
	struct map_attr a = {.type = type,
			     .key_size = key_size,
			     .value_size = value_size,
			     .max_entries = max_entries};
	struct map *m = NULL;
	char err[256] = "";
	int ret = map_create(&a, &m, err, sizeof(err));

	REQUIRE(ret == 0, "map_create: %d (%s)", ret, err);
	return m;
}

static void send_fd(int sock, int fd)
{
	char data = 'm', ctl[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = &data, .iov_len = 1};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl,
			     .msg_controllen = sizeof(ctl)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	EXPECT(sendmsg(sock, &msg, 0) == 1, "sendmsg: %s", strerror(errno));
}

static int recv_fd(int sock)
{
	char data, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = &data, .iov_len = 1};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl,
			     .msg_controllen = sizeof(ctl)};
	struct cmsghdr *c;
	int fd = -1;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* The child's side: returns its failure count as exit status. */
static int child(int sock, pid_t parent, int array_fd_in_parent)
{
	struct map *h = NULL, *a = NULL;
	char path[64], err[256] = "";
	uint64_t v, *counter;
	uint32_t k, zero = 0;
	int fd;

	fd = recv_fd(sock);
	EXPECT(fd >= 0, "received the hash map's fd");
	EXPECT_RET(map_open_fd(fd, &h, err, sizeof(err)), 0);
	close(fd);
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)parent, array_fd_in_parent);
	fd = open(path, O_RDWR | O_CLOEXEC);
	EXPECT(fd >= 0, "open %s: %s", path, strerror(errno));
	EXPECT_RET(map_open_fd(fd, &a, err, sizeof(err)), 0);
	close(fd);
	if (!h || !a)
		return 1;
	EXPECT(map_info(h)->type == BPF_MAP_TYPE_HASH && map_info(h)->max_entries == 1000,
	       "child sees the map's attributes");
	for (k = 0; k < 500; k++) {
		v = k * 3ull;
		EXPECT_RET(map_update_user(h, &k, &v, BPF_NOEXIST), 0);
	}
	k = 7;
	EXPECT_RET(map_delete(h, &k), 0);
	/* wait for the parent's go, then count along with it */
	EXPECT(read(sock, &v, 1) == 1, "go");
	counter = map_lookup(a, &zero);
	for (k = 0; k < COUNTS; k++)
		__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
	map_close(h);
	map_close(a);
	return failed;
}

static void test_two_processes(void)
{
	struct map *h = make(BPF_MAP_TYPE_HASH, 4, 8, 1000);
	struct map *a = make(BPF_MAP_TYPE_ARRAY, 4, 8, 1);
	uint64_t v, *counter;
	uint32_t k, zero = 0, n = 0;
	int sv[2], status, i;
	pid_t pid;

	EXPECT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		_exit(child(sv[1], getppid(), map_fd(a)));
	}
	close(sv[1]);
	send_fd(sv[0], map_fd(h));
	/* the child's inserts are seen as soon as made: wait for all 499 */
	for (i = 0; i < 10000; i++) {
		k = 499;
		if (map_lookup(h, &k) && map_lookup_user(h, &(uint32_t){7}, &v) == -ENOENT)
			break;
		usleep(1000);
	}
	counter = map_lookup(a, &zero);
	EXPECT(write(sv[0], "g", 1) == 1, "go");
	for (k = 0; k < COUNTS; k++)
		__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
	EXPECT(waitpid(pid, &status, 0) == pid, "waitpid");
	EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child passed (status 0x%x)", status);
	EXPECT(*counter == 2ull * COUNTS, "counter %llu, want %d", (unsigned long long)*counter,
	       2 * COUNTS);
	for (k = 0; k < 500; k++) {
		int ret = map_lookup_user(h, &k, &v);

		if (k == 7)
			EXPECT(ret == -ENOENT, "key deleted by the child");
		else if (!ret && v == k * 3ull)
			n++;
	}
	EXPECT(n == 499, "parent sees the child's %u values, want 499", n);
	EXPECT(h->shm->state.hash.count == 499, "count %u", h->shm->state.hash.count);
	close(sv[0]);
	map_close(h);
	map_close(a);
}

/* A process dies holding every bucket lock; the next writer recovers them. */
static void test_dead_writer(void)
{
	struct map *h = make(BPF_MAP_TYPE_HASH, 4, 4, 16);
	uint32_t k, v = 1, i;
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		for (i = 0; i < h->layout.hash.n_locks; i++)
			pthread_mutex_lock(&h->locks[i].mutex);
		/* a half-made insert: counted, never linked */
		h->shm->state.hash.count++;
		_exit(0);
	}
	waitpid(pid, &status, 0);
	for (k = 0; k < 15; k++)
		EXPECT_RET(map_update(h, &k, &v, BPF_ANY), 0);
	EXPECT(map_lookup(h, &(uint32_t){3}) != NULL, "map usable after the writer died");
	k = 3;
	EXPECT_RET(map_delete(h, &k), 0);
	EXPECT_RET(map_update(h, &k, &v, BPF_ANY), 0);
	k = 15;
	EXPECT_RET(map_update(h, &k, &v, BPF_ANY), -E2BIG);
	map_close(h);
}

static void test_open_refusals(void)
{
	struct map *h = make(BPF_MAP_TYPE_HASH, 4, 8, 64), *o = NULL;
	char err[256] = "";
	struct map_shm *shm;
	int fd;

	EXPECT_RET(map_open_fd(-1, &o, err, sizeof(err)), -EBADF);
	fd = open("/dev/null", O_RDWR);
	EXPECT_RET(map_open_fd(fd, &o, err, sizeof(err)), -EINVAL);
	EXPECT(strstr(err, "not a map"), "message: %s", err);
	close(fd);

	fd = memfd_create("junk", MFD_CLOEXEC);
	EXPECT(ftruncate(fd, 8192) == 0, "ftruncate");
	EXPECT_RET(map_open_fd(fd, &o, err, sizeof(err)), -EINVAL);
	EXPECT(strstr(err, "bad magic"), "message: %s", err);
	close(fd);

	/* a header whose layout does not follow from its attributes */
	fd = memfd_create("copy", MFD_CLOEXEC);
	EXPECT(ftruncate(fd, (off_t)h->size) == 0, "ftruncate");
	shm = mmap(NULL, h->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	memcpy(shm, h->shm, sizeof(*shm));
	EXPECT_RET(map_open_fd(fd, &o, err, sizeof(err)), 0);
	map_close(o);
	shm->max_entries = 1u << 20;
	EXPECT_RET(map_open_fd(fd, &o, err, sizeof(err)), -EINVAL);
	EXPECT(strstr(err, "layout does not match"), "message: %s", err);
	shm->max_entries = 64;
	shm->layout.hash.elems_off += 64;
	EXPECT_RET(map_open_fd(fd, &o, err, sizeof(err)), -EINVAL);
	shm->layout.hash.elems_off -= 64;
	shm->key_size = 0;
	EXPECT_RET(map_open_fd(fd, &o, err, sizeof(err)), -EINVAL);
	EXPECT(strstr(err, "must not be 0"), "message: %s", err);
	shm->key_size = 4;
	shm->nr_cpus = 2;
	EXPECT_RET(map_open_fd(fd, &o, err, sizeof(err)), -EINVAL);
	EXPECT(strstr(err, "CPU count"), "message: %s", err);
	munmap(shm, h->size);
	close(fd);
	map_close(h);
}

int main(void)
{
	test_two_processes();
	test_dead_writer();
	test_open_refusals();
	return check_summary();
}
