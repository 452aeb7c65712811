// SPDX-License-Identifier: MIT
/*
 * Unit tests of BPF_MAP_TYPE_QUEUE and STACK: attribute checks, FIFO and
 * LIFO order, full and empty maps, BPF_EXIST dropping the oldest value, the
 * bpf() command forms, wrap-around, and sharing with a child process.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "maps/maps.h"

static int create(uint32_t type, uint32_t key_size, uint32_t value_size, uint32_t max_entries,
		  uint32_t flags, struct map **m, char *err, size_t err_len)
{
	struct map_attr a = {.type = type,
			     .key_size = key_size,
			     .value_size = value_size,
			     .max_entries = max_entries,
			     .flags = flags};

	*m = NULL;
	return map_create(&a, m, err, err_len);
}

static struct map *make(uint32_t type, uint32_t value_size, uint32_t max_entries)
{
	struct map *m;
	char err[256] = "";
	int ret = create(type, 0, value_size, max_entries, 0, &m, err, sizeof(err));

	REQUIRE(ret == 0, "map_create: %d (%s)", ret, err);
	return m;
}

static void test_attrs(void)
{
	struct map *m;
	char err[256] = "";

	EXPECT_RET(create(BPF_MAP_TYPE_QUEUE, 4, 8, 4, 0, &m, err, sizeof(err)), -EINVAL);
	EXPECT(strstr(err, "key_size must be 0"), "message: %s", err);
	EXPECT_RET(create(BPF_MAP_TYPE_STACK, 0, 0, 4, 0, &m, err, sizeof(err)), -EINVAL);
	EXPECT_RET(create(BPF_MAP_TYPE_STACK, 0, 8, 0, 0, &m, err, sizeof(err)), -EINVAL);
	EXPECT_RET(create(BPF_MAP_TYPE_QUEUE, 0, 8, 4, BPF_F_NO_PREALLOC, &m, err, sizeof(err)),
		   -EINVAL);
	EXPECT(strstr(err, "not valid for a queue"), "message: %s", err);
	EXPECT_RET(create(BPF_MAP_TYPE_QUEUE, 0, (4u << 20) + 1, 4, 0, &m, err, sizeof(err)),
		   -E2BIG);
}

static void test_order(uint32_t type)
{
	bool stack = type == BPF_MAP_TYPE_STACK;
	struct map *m = make(type, 12, 5);
	uint32_t v[3] = {0}, i, round;
	uint8_t key;

	EXPECT_RET(map_pop(m, v), -ENOENT);
	EXPECT_RET(map_peek(m, v), -ENOENT);
	EXPECT_RET(map_push(m, v, BPF_NOEXIST), -EINVAL);
	EXPECT_RET(map_push(m, v, 7), -EINVAL);
	/* enough rounds for head and tail to wrap around the ring */
	for (round = 0; round < 4; round++) {
		for (i = 0; i < 5; i++) {
			v[0] = round * 10 + i;
			EXPECT_RET(map_push(m, v, BPF_ANY), 0);
		}
		EXPECT_RET(map_push(m, v, BPF_ANY), -E2BIG);
		EXPECT_RET(map_peek(m, v), 0);
		EXPECT(v[0] == round * 10 + (stack ? 4 : 0), "peek gives %u", v[0]);
		for (i = 0; i < 5; i++) {
			EXPECT_RET(map_pop(m, v), 0);
			EXPECT(v[0] == round * 10 + (stack ? 4 - i : i), "pop %u gives %u", i,
			       v[0]);
		}
		EXPECT_RET(map_pop(m, v), -ENOENT);
		v[0] = 99;
		EXPECT_RET(map_push(m, v, BPF_ANY), 0);
		EXPECT_RET(map_pop(m, v), 0);
	}
	/* full: BPF_EXIST drops the oldest value */
	for (i = 0; i < 7; i++) {
		v[0] = 100 + i;
		EXPECT_RET(map_push(m, v, BPF_EXIST), 0);
	}
	for (i = 0; i < 5; i++) {
		EXPECT_RET(map_pop(m, v), 0);
		EXPECT(v[0] == (stack ? 106 - i : 102 + i), "after overwrite, pop %u gives %u", i,
		       v[0]);
	}
	/* the bpf() command forms */
	v[0] = 5;
	EXPECT_RET(map_update_user(m, NULL, v, BPF_ANY), 0);
	EXPECT_RET(map_update_user(m, NULL, v, BPF_NOEXIST), -EINVAL);
	EXPECT_RET(map_lookup_user(m, NULL, v), 0);
	EXPECT_RET(map_lookup_and_delete_user(m, NULL, v, BPF_F_LOCK), -EINVAL);
	EXPECT_RET(map_lookup_and_delete_user(m, NULL, v, 0), 0);
	EXPECT(v[0] == 5, "lookup_and_delete pops %u", v[0]);
	EXPECT_RET(map_delete_user(m, &key), -EINVAL);
	EXPECT_RET(map_get_next_key(m, NULL, &key), -EINVAL);
	EXPECT(!map_lookup(m, &key), "no value pointers into a queue");
	map_close(m);
}

static void test_not_a_queue(void)
{
	struct map *m;
	char err[256];
	uint64_t v = 0;

	EXPECT_RET(create(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0, &m, err, sizeof(err)), 0);
	EXPECT_RET(map_push(m, &v, BPF_ANY), -EINVAL);
	EXPECT_RET(map_pop(m, &v), -EINVAL);
	EXPECT_RET(map_peek(m, &v), -EINVAL);
	EXPECT_RET(map_lookup_and_delete_user(m, &v, &v, 0), -524);
	map_close(m);
}

static void test_shared(void)
{
	struct map *m = make(BPF_MAP_TYPE_QUEUE, 8, 100);
	uint64_t v, i, bad = 0;
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		for (i = 0; i < 100; i++)
			bad += map_push(m, &i, BPF_ANY) != 0;
		_exit(bad ? 1 : 0);
	}
	EXPECT(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !WEXITSTATUS(status),
	       "child pushed");
	for (i = 0; i < 100; i++)
		bad += map_pop(m, &v) || v != i;
	EXPECT(!bad, "parent pops the child's 100 values in order");
	map_close(m);
}

int main(void)
{
	test_attrs();
	test_order(BPF_MAP_TYPE_QUEUE);
	test_order(BPF_MAP_TYPE_STACK);
	test_not_a_queue();
	test_shared();
	return check_summary();
}
