// SPDX-License-Identifier: MIT
/*
 * Differential test against the kernel: the same attributes given to
 * bpf_map_create and map_create must be accepted or refused with the same
 * errno, and the same random sequence of updates (random flags, invalid
 * ones included), deletes, lookups and get_next_key calls, run on a kernel
 * map through libbpf and on a uebpf map, must give the same return codes,
 * values and final contents. Hash maps iterate in different orders, so
 * their contents are compared as sets and get_next_key only where its
 * answer is order-free. LRU maps evict in no fixed order, so for them the
 * same sequence checks what both must hold: the same return codes for
 * flags, an insert never refused, a key just written is there with its
 * value, at most max_entries keys, each iterated once. Queues and stacks
 * are deterministic: pushes, pops and peeks must agree exactly; so is an
 * LPM trie's shape, so its get_next_key order must agree key for key.
 * Without BPF in the kernel: SKIP, exit 77.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "maps/maps.h"

#define OPS 20000
#define MAX_KEY 64

struct pair {
	int kfd;
	struct map *m;
	const struct map_attr *attr;
	size_t usize; /* user-space value size */
	bool array;
};

static int kernel_create(const struct map_attr *a)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = a->flags, .map_extra = a->map_extra);

	return bpf_map_create(a->type, a->name[0] ? a->name : NULL, a->key_size, a->value_size,
			      a->max_entries, &opts);
}

static void test_attrs(void)
{
	static const struct map_attr cases[] = {
		{BPF_MAP_TYPE_ARRAY, 4, 8, 16, 0},
		{BPF_MAP_TYPE_ARRAY, 8, 8, 16, 0},
		{BPF_MAP_TYPE_ARRAY, 4, 0, 16, 0},
		{BPF_MAP_TYPE_ARRAY, 4, 8, 0, 0},
		{BPF_MAP_TYPE_ARRAY, 4, 8, 16, BPF_F_NO_PREALLOC},
		{BPF_MAP_TYPE_ARRAY, 4, 8, 16, BPF_F_MMAPABLE},
		{BPF_MAP_TYPE_ARRAY, 4, 8, 16, BPF_F_RDONLY | BPF_F_WRONLY},
		{BPF_MAP_TYPE_ARRAY, 4, 8, 16, BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG},
		{BPF_MAP_TYPE_ARRAY, 4, 8, 16, BPF_F_ZERO_SEED},
		{BPF_MAP_TYPE_ARRAY, 4, 8, 16, 1u << 20},
		{BPF_MAP_TYPE_ARRAY, 4, 4u << 20, 1, 0},
		{BPF_MAP_TYPE_ARRAY, 4, (4u << 20) + 1, 1, 0},
		{BPF_MAP_TYPE_ARRAY, 4, 0x80000000u, 1, 0},
		{BPF_MAP_TYPE_ARRAY, 4, 8, 16, 0, 1},
		{BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 16, BPF_F_MMAPABLE},
		{BPF_MAP_TYPE_PERCPU_ARRAY, 4, 32u << 10, 1, 0},
		{BPF_MAP_TYPE_PERCPU_ARRAY, 4, (32u << 10) + 1, 1, 0},
		{BPF_MAP_TYPE_HASH, 4, 8, 16, 0},
		{BPF_MAP_TYPE_HASH, 0, 8, 16, 0},
		{BPF_MAP_TYPE_HASH, 4, 0, 16, 0},
		{BPF_MAP_TYPE_HASH, 4, 8, 0, 0},
		{BPF_MAP_TYPE_HASH, 4, 8, 16, BPF_F_NO_PREALLOC},
		{BPF_MAP_TYPE_HASH, 4, 8, 16, BPF_F_ZERO_SEED},
		{BPF_MAP_TYPE_HASH, 4, 8, 16, BPF_F_MMAPABLE},
		{BPF_MAP_TYPE_HASH, 4, 8, 16, BPF_F_NO_COMMON_LRU},
		{BPF_MAP_TYPE_HASH, 4, 8, 16, BPF_F_RDONLY | BPF_F_WRONLY},
		{BPF_MAP_TYPE_HASH, 512, 8, 16, 0},
		{BPF_MAP_TYPE_HASH, 4, (4u << 20) - 100, 1, 0},
		{BPF_MAP_TYPE_HASH, 4, 4u << 20, 1, 0},
		{BPF_MAP_TYPE_HASH, 4, 4194251, 1, 0},
		{BPF_MAP_TYPE_HASH, 4, 4194252, 1, 0},
		{BPF_MAP_TYPE_HASH, 4194247, 8, 1, 0},
		{BPF_MAP_TYPE_HASH, 4194248, 8, 1, 0},
		{BPF_MAP_TYPE_HASH, 4, 8, (1u << 27) + 1, 0},
		{BPF_MAP_TYPE_HASH, 4, 8, 16, 0, 1},
		{BPF_MAP_TYPE_PERCPU_HASH, 4, 32u << 10, 1, 0},
		{BPF_MAP_TYPE_PERCPU_HASH, 4, (32u << 10) + 1, 1, 0},
		{BPF_MAP_TYPE_PERCPU_HASH, 4, (32u << 10) - 7, 1, 0},
		{BPF_MAP_TYPE_LRU_HASH, 4, 8, 16, 0},
		{BPF_MAP_TYPE_LRU_HASH, 4, 8, 16, BPF_F_NO_PREALLOC},
		{BPF_MAP_TYPE_LRU_HASH, 4, 8, 16, BPF_F_NO_COMMON_LRU},
		{BPF_MAP_TYPE_LRU_HASH, 4, 8, 16, BPF_F_MMAPABLE},
		{BPF_MAP_TYPE_LRU_HASH, 0, 8, 16, 0},
		{BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, (32u << 10) + 1, 1, 0},
		{BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 8, 16, BPF_F_NO_COMMON_LRU},
		{BPF_MAP_TYPE_QUEUE, 0, 8, 16, 0},
		{BPF_MAP_TYPE_QUEUE, 4, 8, 16, 0},
		{BPF_MAP_TYPE_QUEUE, 0, 0, 16, 0},
		{BPF_MAP_TYPE_QUEUE, 0, 8, 0, 0},
		{BPF_MAP_TYPE_QUEUE, 0, 8, 16, BPF_F_NO_PREALLOC},
		{BPF_MAP_TYPE_STACK, 0, 8, 16, BPF_F_RDONLY_PROG},
		{BPF_MAP_TYPE_STACK, 0, 4u << 20, 1, 0},
		{BPF_MAP_TYPE_STACK, 0, (4u << 20) + 1, 1, 0},
		{BPF_MAP_TYPE_LPM_TRIE, 8, 8, 16, BPF_F_NO_PREALLOC},
		{BPF_MAP_TYPE_LPM_TRIE, 8, 8, 16, 0},
		{BPF_MAP_TYPE_LPM_TRIE, 4, 8, 16, BPF_F_NO_PREALLOC},
		{BPF_MAP_TYPE_LPM_TRIE, 5, 8, 16, BPF_F_NO_PREALLOC},
		{BPF_MAP_TYPE_LPM_TRIE, 260, 8, 16, BPF_F_NO_PREALLOC},
		{BPF_MAP_TYPE_LPM_TRIE, 261, 8, 16, BPF_F_NO_PREALLOC},
		{BPF_MAP_TYPE_LPM_TRIE, 8, 0, 16, BPF_F_NO_PREALLOC},
		{BPF_MAP_TYPE_LPM_TRIE, 8, 4194024, 16, BPF_F_NO_PREALLOC},
		{BPF_MAP_TYPE_LPM_TRIE, 8, 4194025, 16, BPF_F_NO_PREALLOC},
		{BPF_MAP_TYPE_LPM_TRIE, 8, 8, 0, BPF_F_NO_PREALLOC},
		{BPF_MAP_TYPE_LPM_TRIE, 8, 8, 16, BPF_F_NO_PREALLOC | BPF_F_ZERO_SEED},
		{BPF_MAP_TYPE_LPM_TRIE, 8, 8, 16, BPF_F_NO_PREALLOC | BPF_F_RDONLY_PROG},
		{BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0},
		{BPF_MAP_TYPE_RINGBUF, 4, 0, 4096, 0},
		{BPF_MAP_TYPE_RINGBUF, 0, 4, 4096, 0},
		{BPF_MAP_TYPE_RINGBUF, 0, 0, 3 * 4096, 0},
		{BPF_MAP_TYPE_RINGBUF, 0, 0, 2048, 0},
		{BPF_MAP_TYPE_RINGBUF, 0, 0, 0, 0},
		{BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, BPF_F_RDONLY},
		{4242, 4, 8, 16, 0},
	};
	struct map_attr named = {BPF_MAP_TYPE_ARRAY, 4, 8, 1, 0, 0, "bad-name"};
	size_t i;

	for (i = 0; i <= sizeof(cases) / sizeof(cases[0]); i++) {
		const struct map_attr *a =
			i < sizeof(cases) / sizeof(cases[0]) ? &cases[i] : &named;
		struct map *m = NULL;
		char err[256] = "";
		int kret = kernel_create(a), uret = map_create(a, &m, err, sizeof(err));

		EXPECT((kret >= 0 && uret == 0) || kret == uret,
		       "type %u ks %u vs %u n %u flags 0x%x extra %llu: kernel %d, uebpf %d (%s)",
		       a->type, a->key_size, a->value_size, a->max_entries, a->flags,
		       (unsigned long long)a->map_extra, kret, uret, err);
		if (kret >= 0)
			close(kret);
		map_close(m);
	}
}

static void random_bytes(void *p, size_t n, unsigned *seed)
{
	uint8_t *b = p;

	while (n--)
		*b++ = (uint8_t)rand_r(seed);
}

/* Keys from a small domain, so updates collide, deletes hit and maps fill up. */
static void random_key(const struct pair *p, void *key, unsigned *seed)
{
	uint32_t i = (uint32_t)rand_r(seed) % (p->attr->max_entries * 3 / 2 + 2);

	memset(key, 0, p->attr->key_size);
	memcpy(key, &i, p->attr->key_size < 4 ? p->attr->key_size : 4);
	if (p->attr->key_size > 4)
		((uint8_t *)key)[p->attr->key_size - 1] = (uint8_t)(i * 31);
}

static int key_cmp(const void *a, const void *b, size_t n)
{
	return memcmp(a, b, n);
}

/* Every key and value of the map in sorted order; iteration must visit each once. */
static size_t dump(const struct pair *p, bool kernel, uint8_t *out, size_t cap)
{
	size_t ks = p->attr->key_size, rec = ks + p->usize, n = 0, i, j;
	uint8_t key[MAX_KEY], next[MAX_KEY], *tmp = malloc(rec);
	int ret;

	ret = kernel ? bpf_map_get_next_key(p->kfd, NULL, next)
		     : map_get_next_key(p->m, NULL, next);
	while (!ret && n < cap) {
		memcpy(out + n * rec, next, ks);
		ret = kernel ? bpf_map_lookup_elem(p->kfd, next, out + n * rec + ks)
			     : map_lookup_user(p->m, next, out + n * rec + ks);
		EXPECT(ret == 0, "%s: lookup of an iterated key: %d", kernel ? "kernel" : "uebpf",
		       ret);
		n++;
		memcpy(key, next, ks);
		ret = kernel ? bpf_map_get_next_key(p->kfd, key, next)
			     : map_get_next_key(p->m, key, next);
	}
	EXPECT(ret == -ENOENT, "%s: iteration ends with %d", kernel ? "kernel" : "uebpf", ret);
	/* insertion sort by key: small maps */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && key_cmp(out + (j - 1) * rec, out + j * rec, ks) > 0; j--) {
			memcpy(tmp, out + j * rec, rec);
			memcpy(out + j * rec, out + (j - 1) * rec, rec);
			memcpy(out + (j - 1) * rec, tmp, rec);
		}
	for (i = 1; i < n; i++)
		EXPECT(key_cmp(out + (i - 1) * rec, out + i * rec, ks), "%s: key visited twice",
		       kernel ? "kernel" : "uebpf");
	free(tmp);
	return n;
}

static void compare_contents(const struct pair *p, int step)
{
	size_t rec = p->attr->key_size + p->usize, cap = p->attr->max_entries + 1;
	uint8_t *kd = calloc(cap, rec), *ud = calloc(cap, rec);
	size_t kn = dump(p, true, kd, cap), un = dump(p, false, ud, cap);

	EXPECT(kn == un && !memcmp(kd, ud, kn * rec),
	       "type %u after %d ops: contents differ (kernel %zu keys, uebpf %zu)", p->attr->type,
	       step, kn, un);
	free(kd);
	free(ud);
}

static void run_sequence(const struct map_attr *a, unsigned seed)
{
	uint8_t key[MAX_KEY], kn[MAX_KEY], un[MAX_KEY];
	struct pair p = {.attr = a};
	uint8_t *val, *kv, *uv;
	int op, kret, uret, step, agree = 0, ops = 0;
	uint64_t flags;
	char err[256] = "";

	p.array = a->type == BPF_MAP_TYPE_ARRAY || a->type == BPF_MAP_TYPE_PERCPU_ARRAY;
	p.kfd = kernel_create(a);
	EXPECT(p.kfd >= 0, "kernel map type %u: %d", a->type, p.kfd);
	EXPECT_RET(map_create(a, &p.m, err, sizeof(err)), 0);
	if (p.kfd < 0 || !p.m)
		return;
	p.usize = map_user_value_size(p.m);
	if (a->type == BPF_MAP_TYPE_PERCPU_ARRAY || a->type == BPF_MAP_TYPE_PERCPU_HASH)
		EXPECT(p.usize == (size_t)libbpf_num_possible_cpus() * ((a->value_size + 7) & ~7u),
		       "per-CPU value size %zu agrees with libbpf", p.usize);
	val = malloc(p.usize);
	kv = malloc(p.usize);
	uv = malloc(p.usize);
	for (step = 0; step < OPS; step++) {
		random_key(&p, key, &seed);
		op = rand_r(&seed) % 10;
		ops++;
		if (op < 4) {
			random_bytes(val, p.usize, &seed);
			flags = rand_r(&seed) % 16 ? rand_r(&seed) % 3 : rand_r(&seed) % 8;
			kret = bpf_map_update_elem(p.kfd, key, val, flags);
			uret = map_update_user(p.m, key, val, flags);
		} else if (op < 6) {
			kret = bpf_map_delete_elem(p.kfd, key);
			uret = map_delete_user(p.m, key);
		} else if (op < 9) {
			bool del = rand_r(&seed) % 4 == 0;

			memset(kv, 0, p.usize);
			memset(uv, 0, p.usize);
			kret = del ? bpf_map_lookup_and_delete_elem(p.kfd, key, kv)
				   : bpf_map_lookup_elem(p.kfd, key, kv);
			uret = del ? map_lookup_and_delete_user(p.m, key, uv, 0)
				   : map_lookup_user(p.m, key, uv);
			EXPECT(kret || uret || !memcmp(kv, uv, p.usize),
			       "type %u step %d: lookup values differ", a->type, step);
		} else {
			bool null = rand_r(&seed) % 4 == 0;

			kret = bpf_map_get_next_key(p.kfd, null ? NULL : key, kn);
			uret = map_get_next_key(p.m, null ? NULL : key, un);
			if (p.array) {
				EXPECT(kret || uret || !memcmp(kn, un, a->key_size),
				       "type %u step %d: next keys differ", a->type, step);
			} else if (!null && !bpf_map_lookup_elem(p.kfd, key, kv)) {
				/* the successor of a present key depends on the hash order */
				ops--;
				continue;
			}
		}
		if (kret == uret)
			agree++;
		else
			EXPECT(0, "type %u step %d op %d: kernel %d, uebpf %d", a->type, step, op,
			       kret, uret);
		if (step % 2000 == 1999)
			compare_contents(&p, step);
	}
	compare_contents(&p, OPS);
	EXPECT(agree == ops, "type %u: %d of %d return codes agree", a->type, agree, ops);
	printf("type %u ks %u vs %u max %u: %d/%d return codes agree with the kernel\n", a->type,
	       a->key_size, a->value_size, a->max_entries, agree, ops);
	free(val);
	free(kv);
	free(uv);
	close(p.kfd);
	map_close(p.m);
}

/*
 * One side of the LRU sequence. The code must follow from that side's own
 * contents (which evictions make differ between the sides): invalid flags
 * -EINVAL, BPF_NOEXIST on a present key -EEXIST, BPF_EXIST on an absent one
 * -ENOENT, else 0, never a full map; a key written is then there. The
 * kernel's update takes a free node before it looks the key up, and taking
 * one may evict the key itself: BPF_NOEXIST on a present key then succeeds
 * there (seen under load, when the per-CPU free lists run dry).
 */
static void lru_update(const struct pair *p, bool kernel, const void *key, const void *val,
		       uint64_t flags, uint8_t *back, int *ret)
{
	bool present = !(kernel ? bpf_map_lookup_elem(p->kfd, key, back)
				: map_lookup_user(p->m, key, back));
	int want = flags > BPF_EXIST		     ? -EINVAL
		   : flags == BPF_NOEXIST && present ? -EEXIST
		   : flags == BPF_EXIST && !present  ? -ENOENT
						     : 0;
	int look;

	*ret = kernel ? bpf_map_update_elem(p->kfd, key, val, flags)
		      : map_update_user(p->m, key, val, flags);
	if (kernel && want == -EEXIST && !*ret)
		want = 0;
	EXPECT(*ret == want, "%s: update with flags %llu of a%s key: %d, want %d",
	       kernel ? "kernel" : "uebpf", (unsigned long long)flags, present ? "" : "n absent",
	       *ret, want);
	if (*ret)
		return;
	look = kernel ? bpf_map_lookup_elem(p->kfd, key, back) : map_lookup_user(p->m, key, back);
	EXPECT(!look && !memcmp(back, val, p->usize), "%s: key just written is not there",
	       kernel ? "kernel" : "uebpf");
}

static void run_lru_sequence(const struct map_attr *a, unsigned seed)
{
	uint8_t key[MAX_KEY], *val, *back;
	struct pair p = {.attr = a};
	int step, kret, uret, agree = 0, ops = 0, evicting = 0;
	size_t rec, kn, un;
	uint8_t *dump_buf;
	uint64_t flags;
	char err[256] = "";

	p.kfd = kernel_create(a);
	EXPECT(p.kfd >= 0, "kernel map type %u: %d", a->type, p.kfd);
	EXPECT_RET(map_create(a, &p.m, err, sizeof(err)), 0);
	if (p.kfd < 0 || !p.m)
		return;
	p.usize = map_user_value_size(p.m);
	val = malloc(p.usize);
	back = malloc(p.usize);
	for (step = 0; step < OPS; step++) {
		random_key(&p, key, &seed);
		random_bytes(val, p.usize, &seed);
		if (rand_r(&seed) % 4) {
			flags = rand_r(&seed) % 16 ? BPF_ANY : rand_r(&seed) % 8;
			lru_update(&p, true, key, val, flags, back, &kret);
			lru_update(&p, false, key, val, flags, back, &uret);
			/* NOEXIST and EXIST answer each side's contents, checked above */
			if (flags == BPF_NOEXIST || flags == BPF_EXIST)
				continue;
		} else {
			kret = bpf_map_delete_elem(p.kfd, key);
			uret = map_delete_user(p.m, key);
			/* which keys are left differs once either map has evicted */
			if (kret != uret && kret != -ENOENT && uret != -ENOENT)
				EXPECT(0, "step %d: delete gave %d and %d", step, kret, uret);
			evicting += kret != uret;
			continue;
		}
		ops++;
		if (kret == uret)
			agree++;
		else
			EXPECT(0, "type %u step %d flags %llu: kernel %d, uebpf %d", a->type, step,
			       (unsigned long long)flags, kret, uret);
	}
	rec = a->key_size + p.usize;
	dump_buf = calloc(a->max_entries + 1, rec);
	kn = dump(&p, true, dump_buf, a->max_entries + 1);
	un = dump(&p, false, dump_buf, a->max_entries + 1);
	EXPECT(kn <= a->max_entries && un <= a->max_entries, "sizes %zu and %zu, max %u", kn, un,
	       a->max_entries);
	EXPECT(agree == ops, "type %u: %d of %d update codes agree", a->type, agree, ops);
	printf("type %u max %u: %d/%d update codes agree with the kernel, %zu and %zu keys left, "
	       "%d deletes hit keys only one side had evicted\n",
	       a->type, a->max_entries, agree, ops, kn, un, evicting);
	free(dump_buf);
	free(val);
	free(back);
	close(p.kfd);
	map_close(p.m);
}

static void run_queue_sequence(const struct map_attr *a, unsigned seed)
{
	uint8_t val[64], kv[64], uv[64], key[4];
	struct pair p = {.attr = a};
	int step, op, kret, uret, agree = 0;
	uint64_t flags;
	char err[256] = "";

	p.kfd = kernel_create(a);
	EXPECT(p.kfd >= 0, "kernel map type %u: %d", a->type, p.kfd);
	EXPECT_RET(map_create(a, &p.m, err, sizeof(err)), 0);
	if (p.kfd < 0 || !p.m)
		return;
	for (step = 0; step < OPS; step++) {
		op = rand_r(&seed) % 10;
		memset(kv, 0, sizeof(kv));
		memset(uv, 0, sizeof(uv));
		if (op < 5) {
			random_bytes(val, a->value_size, &seed);
			flags = rand_r(&seed) % 8 ? rand_r(&seed) % 2 * BPF_EXIST
						  : rand_r(&seed) % 8;
			kret = bpf_map_update_elem(p.kfd, NULL, val, flags);
			uret = map_update_user(p.m, NULL, val, flags);
		} else if (op < 7) {
			kret = bpf_map_lookup_and_delete_elem(p.kfd, NULL, kv);
			uret = map_lookup_and_delete_user(p.m, NULL, uv, 0);
		} else if (op < 9) {
			kret = bpf_map_lookup_elem(p.kfd, NULL, kv);
			uret = map_lookup_user(p.m, NULL, uv);
		} else {
			kret = bpf_map_get_next_key(p.kfd, NULL, key);
			uret = map_get_next_key(p.m, NULL, key);
		}
		EXPECT(memcmp(kv, uv, a->value_size) == 0, "type %u step %d: values differ",
		       a->type, step);
		if (kret == uret)
			agree++;
		else
			EXPECT(0, "type %u step %d op %d: kernel %d, uebpf %d", a->type, step, op,
			       kret, uret);
	}
	EXPECT_RET(bpf_map_delete_elem(p.kfd, key), -EINVAL);
	EXPECT_RET(map_delete_user(p.m, key), -EINVAL);
	printf("type %u vs %u max %u: %d/%d return codes and values agree with the kernel\n",
	       a->type, a->value_size, a->max_entries, agree, OPS);
	close(p.kfd);
	map_close(p.m);
}

/* Keys of the LPM sequence: 16 data bits, prefixes up to 17 (one too long). */
static void lpm_random_key(uint8_t *key, unsigned *seed)
{
	uint32_t len = (uint32_t)rand_r(seed) % 18;

	if (len > 16 && rand_r(seed) % 4)
		len = 16;
	memcpy(key, &len, 4);
	key[4] = (uint8_t)rand_r(seed);
	key[5] = (uint8_t)rand_r(seed);
	/* half the keys carry no bits past their prefix */
	if (rand_r(seed) % 2 && len < 16) {
		uint16_t mask = (uint16_t)(0xffffu << (16 - len));

		key[4] &= (uint8_t)(mask >> 8);
		key[5] &= (uint8_t)mask;
	}
}

static void run_lpm_sequence(const struct map_attr *a, unsigned seed)
{
	uint8_t key[6], kn[6], un[6], val[8], kv[8], uv[8];
	struct pair p = {.attr = a};
	int step, op, kret, uret, agree = 0, kcount, ucount;
	uint64_t flags;
	char err[256] = "";

	p.kfd = kernel_create(a);
	EXPECT(p.kfd >= 0, "kernel map type %u: %d", a->type, p.kfd);
	EXPECT_RET(map_create(a, &p.m, err, sizeof(err)), 0);
	if (p.kfd < 0 || !p.m)
		return;
	for (step = 0; step < OPS; step++) {
		lpm_random_key(key, &seed);
		op = rand_r(&seed) % 10;
		memset(kv, 0, sizeof(kv));
		memset(uv, 0, sizeof(uv));
		memset(kn, 0, sizeof(kn));
		memset(un, 0, sizeof(un));
		if (op < 4) {
			random_bytes(val, sizeof(val), &seed);
			flags = rand_r(&seed) % 16 ? rand_r(&seed) % 3 : rand_r(&seed) % 8;
			kret = bpf_map_update_elem(p.kfd, key, val, flags);
			uret = map_update_user(p.m, key, val, flags);
		} else if (op < 6) {
			kret = bpf_map_delete_elem(p.kfd, key);
			uret = map_delete_user(p.m, key);
		} else if (op < 8) {
			const uint8_t *pv = map_lookup(p.m, key);

			kret = bpf_map_lookup_elem(p.kfd, key, kv);
			uret = map_lookup_user(p.m, key, uv);
			/* the program side's lock-free lookup (length index or trie) agrees */
			EXPECT(kret ? !pv : pv && !memcmp(pv, kv, sizeof(kv)),
			       "LPM step %d: program-side lookup differs", step);
		} else {
			bool null = rand_r(&seed) % 8 == 0;

			kret = bpf_map_get_next_key(p.kfd, null ? NULL : key, kn);
			uret = map_get_next_key(p.m, null ? NULL : key, un);
		}
		EXPECT(!memcmp(kv, uv, sizeof(kv)) && !memcmp(kn, un, sizeof(kn)),
		       "LPM step %d op %d: values or next keys differ", step, op);
		if (kret == uret)
			agree++;
		else
			EXPECT(0, "LPM step %d op %d: kernel %d, uebpf %d", step, op, kret, uret);
	}
	/* the whole iteration, in order */
	kcount = ucount = 0;
	kret = bpf_map_get_next_key(p.kfd, NULL, kn);
	uret = map_get_next_key(p.m, NULL, un);
	while (!kret && !uret && kcount <= (int)a->max_entries) {
		EXPECT(!memcmp(kn, un, sizeof(kn)), "LPM iteration %d differs", kcount);
		kcount++;
		ucount++;
		memcpy(key, kn, sizeof(key));
		kret = bpf_map_get_next_key(p.kfd, key, kn);
		memcpy(key, un, sizeof(key));
		uret = map_get_next_key(p.m, key, un);
	}
	EXPECT(kret == -ENOENT && uret == -ENOENT, "LPM iteration ends: %d, %d", kret, uret);
	printf("type %u ks %u max %u: %d/%d return codes, values and next keys agree with the "
	       "kernel, %d entries iterated alike\n",
	       a->type, a->key_size, a->max_entries, agree, OPS, kcount);
	close(p.kfd);
	map_close(p.m);
}

/* A ring buffer refuses the element commands, with the kernel's codes. */
static void test_ringbuf_commands(void)
{
	static const struct map_attr a = {BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0};
	uint8_t key[8] = {0}, val[8] = {0};
	struct map *m = NULL;
	int kfd = kernel_create(&a);

	EXPECT_RET(map_create(&a, &m, NULL, 0), 0);
	if (kfd < 0 || !m)
		return;
	EXPECT_RET(map_lookup_user(m, key, val), bpf_map_lookup_elem(kfd, key, val));
	EXPECT_RET(map_update_user(m, key, val, BPF_ANY),
		   bpf_map_update_elem(kfd, key, val, BPF_ANY));
	EXPECT_RET(map_delete_user(m, key), bpf_map_delete_elem(kfd, key));
	EXPECT_RET(map_get_next_key(m, NULL, key), bpf_map_get_next_key(kfd, NULL, key));
	close(kfd);
	map_close(m);
}

int main(void)
{
	static const struct map_attr seqs[] = {
		{BPF_MAP_TYPE_ARRAY, 4, 8, 32, 0},
		{BPF_MAP_TYPE_ARRAY, 4, 5, 17, BPF_F_MMAPABLE},
		{BPF_MAP_TYPE_PERCPU_ARRAY, 4, 12, 16, 0},
		{BPF_MAP_TYPE_HASH, 4, 8, 64, 0},
		{BPF_MAP_TYPE_HASH, 7, 13, 32, BPF_F_NO_PREALLOC},
		{BPF_MAP_TYPE_HASH, 40, 3, 8, 0},
		{BPF_MAP_TYPE_PERCPU_HASH, 4, 12, 32, 0},
	};
	static const struct map_attr lru = {BPF_MAP_TYPE_LRU_HASH, 4, 8, 256, 0};
	static const struct map_attr lru_percpu = {BPF_MAP_TYPE_LRU_PERCPU_HASH, 6, 12, 256, 0};
	static const struct map_attr lpm = {BPF_MAP_TYPE_LPM_TRIE, 6, 8, 48, BPF_F_NO_PREALLOC};
	static const struct map_attr queue = {BPF_MAP_TYPE_QUEUE, 0, 12, 20, 0};
	static const struct map_attr stack = {BPF_MAP_TYPE_STACK, 0, 5, 7, 0};
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 8, 1, NULL);
	size_t i;

	if (fd < 0) {
		printf("SKIP: cannot create a kernel BPF map: %s\n", strerror(-fd));
		return 77;
	}
	close(fd);
	test_attrs();
	test_ringbuf_commands();
	for (i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++)
		run_sequence(&seqs[i], 1000u + (unsigned)i);
	run_lru_sequence(&lru, 2000u);
	run_lru_sequence(&lru_percpu, 2001u);
	run_queue_sequence(&queue, 3000u);
	run_queue_sequence(&stack, 3001u);
	run_lpm_sequence(&lpm, 4000u);
	return check_summary();
}
