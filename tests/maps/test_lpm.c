// SPDX-License-Identifier: MIT
/*
 * Unit tests of BPF_MAP_TYPE_LPM_TRIE: attribute checks, IPv4-style
 * routing lookups, the key's own prefix length limiting a match, update
 * flags, a full trie, deletes that fold intermediate nodes, postorder
 * iteration, and a long random run checked against a brute-force model;
 * the length index that program-side lookups use (IPv6-sized keys, and
 * its rebuild by whoever inherits the lock from a dead writer).
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "maps/internal.h"

struct key4 {
	uint32_t prefixlen;
	uint8_t data[4];
};

struct key2 {
	uint32_t prefixlen;
	uint8_t data[2];
} __attribute__((packed));

static int create(uint32_t key_size, uint32_t value_size, uint32_t max_entries, uint32_t flags,
		  struct map **m, char *err, size_t err_len)
{
	struct map_attr a = {.type = BPF_MAP_TYPE_LPM_TRIE,
			     .key_size = key_size,
			     .value_size = value_size,
			     .max_entries = max_entries,
			     .flags = flags};

	*m = NULL;
	return map_create(&a, m, err, err_len);
}

static struct map *make(uint32_t key_size, uint32_t max_entries)
{
	struct map *m;
	char err[256] = "";
	int ret = create(key_size, 4, max_entries, BPF_F_NO_PREALLOC, &m, err, sizeof(err));

	REQUIRE(ret == 0, "map_create: %d (%s)", ret, err);
	return m;
}

static void test_attrs(void)
{
	struct map *m;
	char err[256] = "";

	EXPECT_RET(create(8, 4, 16, 0, &m, err, sizeof(err)), -EINVAL);
	EXPECT(strstr(err, "needs BPF_F_NO_PREALLOC"), "message: %s", err);
	EXPECT_RET(create(4, 4, 16, BPF_F_NO_PREALLOC, &m, err, sizeof(err)), -EINVAL);
	EXPECT(strstr(err, "key_size"), "message: %s", err);
	EXPECT_RET(create(261, 4, 16, BPF_F_NO_PREALLOC, &m, err, sizeof(err)), -EINVAL);
	EXPECT_RET(create(8, 0, 16, BPF_F_NO_PREALLOC, &m, err, sizeof(err)), -EINVAL);
	EXPECT_RET(create(8, 4194025, 16, BPF_F_NO_PREALLOC, &m, err, sizeof(err)), -EINVAL);
	EXPECT_RET(create(8, 4, 0, BPF_F_NO_PREALLOC, &m, err, sizeof(err)), -EINVAL);
	EXPECT_RET(create(8, 4, 16, BPF_F_NO_PREALLOC | BPF_F_ZERO_SEED, &m, err, sizeof(err)),
		   -EINVAL);
	EXPECT(strstr(err, "not valid for an LPM trie"), "message: %s", err);
	EXPECT_RET(create(260, 4194024, 1, BPF_F_NO_PREALLOC, &m, err, sizeof(err)), 0);
	map_close(m);
}

static struct key4 ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint32_t len)
{
	struct key4 k = {len, {a, b, c, d}};

	return k;
}

static uint32_t route(struct map *m, struct key4 k)
{
	uint32_t *v = map_lookup(m, &k);

	return v ? *v : 0;
}

static void add(struct map *m, struct key4 k, uint32_t v)
{
	EXPECT_RET(map_update(m, &k, &v, BPF_ANY), 0);
}

static void test_routes(void)
{
	struct map *m = make(8, 5);
	struct key4 k, next;
	uint32_t v = 9, n = 0, order[5];
	int ret;

	EXPECT(route(m, ip(10, 0, 0, 1, 32)) == 0, "empty trie matches nothing");
	add(m, ip(10, 0, 0, 0, 8), 1);
	add(m, ip(10, 1, 0, 0, 16), 2);
	add(m, ip(10, 1, 1, 0, 24), 3);
	add(m, ip(0, 0, 0, 0, 0), 4);
	add(m, ip(192, 168, 1, 1, 32), 5);
	EXPECT(route(m, ip(10, 1, 1, 5, 32)) == 3, "10.1.1.5 via /24");
	EXPECT(route(m, ip(10, 1, 2, 3, 32)) == 2, "10.1.2.3 via /16");
	EXPECT(route(m, ip(10, 2, 0, 0, 32)) == 1, "10.2.0.0 via /8");
	EXPECT(route(m, ip(11, 0, 0, 0, 32)) == 4, "11.0.0.0 via default");
	EXPECT(route(m, ip(192, 168, 1, 1, 32)) == 5, "host route");
	EXPECT(route(m, ip(192, 168, 1, 2, 32)) == 4, "next to the host route");
	EXPECT(route(m, ip(10, 1, 1, 5, 16)) == 2, "the key's prefix length limits the match");
	EXPECT(route(m, ip(10, 1, 1, 5, 33)) == 0, "a key longer than the data matches nothing");

	k = ip(1, 2, 3, 4, 0);
	EXPECT_RET(map_update(m, &k, &v, BPF_NOEXIST), -EEXIST);
	k = ip(1, 2, 3, 4, 12);
	EXPECT_RET(map_update(m, &k, &v, BPF_EXIST), -ENOENT);
	EXPECT_RET(map_update(m, &k, &v, BPF_ANY), -ENOSPC);
	k = ip(1, 2, 3, 4, 33);
	EXPECT_RET(map_update(m, &k, &v, BPF_ANY), -EINVAL);
	EXPECT_RET(map_delete(m, &k), -EINVAL);
	k = ip(10, 1, 1, 0, 24);
	EXPECT_RET(map_update(m, &k, &v, BPF_EXIST), 0);
	EXPECT(route(m, ip(10, 1, 1, 5, 32)) == 9, "replaced while full");

	/* postorder: a more specific prefix before the prefixes containing it */
	for (ret = map_get_next_key(m, NULL, &next); !ret && n < 5;
	     ret = map_get_next_key(m, &k, &next)) {
		k = next;
		order[n++] = route(m, ip(k.data[0], k.data[1], k.data[2], k.data[3], k.prefixlen));
	}
	EXPECT(ret == -ENOENT && n == 5, "iterated %u entries (%d)", n, ret);
	EXPECT(n == 5 && order[0] == 9 && order[1] == 2 && order[2] == 1 && order[3] == 5 &&
		       order[4] == 4,
	       "postorder /24 /16 /8 /32 /0");

	k = ip(10, 1, 0, 0, 16);
	EXPECT_RET(map_delete(m, &k), 0);
	EXPECT_RET(map_delete(m, &k), -ENOENT);
	EXPECT(route(m, ip(10, 1, 2, 3, 32)) == 1, "after deleting /16, via /8");
	EXPECT(route(m, ip(10, 1, 1, 3, 32)) == 9, "the /24 stays");
	k = ip(10, 1, 1, 0, 23);
	EXPECT_RET(map_delete(m, &k), -ENOENT);
	EXPECT_RET(map_lookup_user(m, &(struct key4){32, {172, 16, 0, 1}}, &v), 0);
	EXPECT(v == 4, "user lookup via default: %u", v);
	map_close(m);
}

/* The brute-force model: a list of prefixes over 16 bits. */
struct model {
	struct key2 keys[64];
	uint32_t vals[64];
	int n;
};

static bool prefix_eq(const uint8_t *a, const uint8_t *b, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		if (((a[i / 8] >> (7 - i % 8)) ^ (b[i / 8] >> (7 - i % 8))) & 1)
			return false;
	return true;
}

static int model_find(const struct model *md, const struct key2 *k)
{
	int i;

	for (i = 0; i < md->n; i++)
		if (md->keys[i].prefixlen == k->prefixlen &&
		    prefix_eq(md->keys[i].data, k->data, k->prefixlen))
			return i;
	return -1;
}

static int model_match(const struct model *md, const struct key2 *k)
{
	int i, best = -1;

	for (i = 0; i < md->n; i++)
		if (md->keys[i].prefixlen <= k->prefixlen &&
		    prefix_eq(md->keys[i].data, k->data, md->keys[i].prefixlen) &&
		    (best < 0 || md->keys[i].prefixlen > md->keys[best].prefixlen))
			best = i;
	return best;
}

static void test_against_model(void)
{
	struct map *m = make(6, 64);
	struct model md = {.n = 0};
	struct key2 k, next;
	unsigned seed = 42;
	uint32_t v, got, bad_update = 0, bad_lookup = 0, bad_delete = 0, n;
	int step, i, ret;

	for (step = 0; step < 200000; step++) {
		k.prefixlen = (uint32_t)rand_r(&seed) % 17;
		k.data[0] = (uint8_t)rand_r(&seed);
		k.data[1] = (uint8_t)rand_r(&seed);
		i = model_find(&md, &k);
		switch (rand_r(&seed) % 4) {
		case 0:
			v = (uint32_t)step;
			ret = map_update(m, &k, &v, BPF_ANY);
			if (i >= 0) {
				md.vals[i] = v;
				bad_update += ret != 0;
			} else if (md.n == 64) {
				bad_update += ret != -ENOSPC;
			} else {
				md.keys[md.n] = k;
				md.vals[md.n++] = v;
				bad_update += ret != 0;
			}
			break;
		case 1:
			ret = map_delete(m, &k);
			if (i >= 0) {
				md.keys[i] = md.keys[md.n - 1];
				md.vals[i] = md.vals[--md.n];
			}
			bad_delete += ret != (i >= 0 ? 0 : -ENOENT);
			break;
		default: {
			const uint32_t *pv;

			k.prefixlen = 16;
			i = model_match(&md, &k);
			ret = map_lookup_user(m, &k, &got);
			bad_lookup += i >= 0 ? ret || got != md.vals[i] : ret != -ENOENT;
			/* the program side: length index, or the trie past 8 lengths */
			pv = map_lookup(m, &k);
			bad_lookup += i >= 0 ? !pv || *pv != md.vals[i] : pv != NULL;
			break;
		}
		}
	}
	EXPECT(!bad_update && !bad_delete && !bad_lookup,
	       "against the model: %u updates, %u deletes, %u lookups wrong", bad_update,
	       bad_delete, bad_lookup);
	n = 0;
	for (ret = map_get_next_key(m, NULL, &next); !ret && n <= 64;
	     ret = map_get_next_key(m, &k, &next)) {
		k = next;
		n += model_find(&md, &k) >= 0;
	}
	EXPECT(ret == -ENOENT && n == (uint32_t)md.n, "iteration found %u of %d entries", n, md.n);
	map_close(m);
}

/* The length index on 16-byte keys: prefixes in both halves of the data. */
static void test_ipv6(void)
{
	static const uint32_t lens[] = {0, 32, 64, 72, 127};
	struct {
		uint32_t prefixlen;
		uint8_t data[16];
	} k;
	/* a bit flipped in the key, and the entry (value) that then matches */
	static const struct {
		unsigned bit, want;
	} flips[] = {{127, 5}, {126, 4}, {70, 3}, {40, 2}, {5, 1}};
	struct map *m = make(20, 8);
	const uint32_t *got;
	uint32_t v;

	memset(k.data, 0x5a, sizeof(k.data));
	for (v = 0; v < 5; v++) {
		k.prefixlen = lens[v];
		EXPECT_RET(map_update(m, &k, &(uint32_t){v + 1}, BPF_ANY), 0);
	}
	k.prefixlen = 128;
	for (unsigned i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		k.data[flips[i].bit / 8] ^= (uint8_t)(0x80 >> flips[i].bit % 8);
		got = map_lookup(m, &k);
		EXPECT(got && *got == flips[i].want, "bit %u flipped: %u, want %u", flips[i].bit,
		       got ? *got : 0, flips[i].want);
		k.data[flips[i].bit / 8] ^= (uint8_t)(0x80 >> flips[i].bit % 8);
	}
	k.prefixlen = 70;
	got = map_lookup(m, &k);
	EXPECT(got && *got == 3, "a /70 key matches the /64: %u", got ? *got : 0);
	map_close(m);
}

/*
 * A writer killed between the trie and the length index: the child takes
 * the lock, empties the index as a half-done change could, and dies with
 * the lock. The next lookup inherits the lock and rebuilds the index.
 */
static void test_dead_writer(void)
{
	struct map *m = make(8, 16);
	struct map_lock *lock = (struct map_lock *)((uint8_t *)m->base + m->layout.lpm.lock_off);
	int status = -1;
	pid_t pid;

	add(m, ip(10, 0, 0, 0, 8), 1);
	add(m, ip(10, 1, 0, 0, 16), 2);
	pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (!pid) {
		map_lock(lock);
		m->shm->state.lpm.seq |= 1;
		for (uint32_t b = 0; b < m->layout.lpm.n_buckets; b++)
			m->buckets[b] = MAP_NIL;
		memset(m->shm->state.lpm.lens, 0, sizeof(m->shm->state.lpm.lens));
		_exit(0);
	}
	waitpid(pid, &status, 0);
	EXPECT(WIFEXITED(status), "the child ended: %d", status);
	EXPECT(route(m, ip(10, 1, 2, 3, 32)) == 2, "10.1.2.3 via /16 after the writer died");
	EXPECT(m->shm->state.lpm.seq % 2 == 0, "sequence count even again: %u",
	       m->shm->state.lpm.seq);
	EXPECT(route(m, ip(10, 2, 0, 0, 32)) == 1, "10.2.0.0 via /8, from the rebuilt index");
	EXPECT(route(m, ip(11, 0, 0, 0, 32)) == 0, "11.0.0.0 matches nothing");
	map_close(m);
}

int main(void)
{
	test_attrs();
	test_routes();
	test_against_model();
	test_ipv6();
	test_dead_writer();
	return check_summary();
}
