// SPDX-License-Identifier: MIT
/*
 * Maps under load from several processes. The maps are made here and
 * shared by fork: each child opens its own handle on the inherited fd
 * (map_open_fd), as a process handed the fd would.
 *
 * Phase 1: PROCS processes x THREADS threads for RUN_MS update, delete and
 * look up random keys of a HASH, an LRU_HASH and a PERCPU_HASH, and add
 * atomically to counters (ARRAY slots, and one key per process in the
 * HASH and the PERCPU_HASH). Afterwards: no increment lost, no duplicate
 * key when iterating with get_next_key, at most max_entries elements, the
 * count in the header at least the elements found, every value well formed
 * (it encodes its key).
 *
 * Phase 2: a process killed while holding every lock of the HASH; another
 * must then update every bucket. Then the same writers, while victims doing the same are killed
 * with SIGKILL a few milliseconds into their work, KILLS times. The survivors must finish within a
 * bound (a dead holder's lock is recovered, not waited for forever), their counters must be exact,
 * each victim's at most one ahead of what it reported, and the maps consistent as above; emptied,
 * they must take max_entries minus at most one element per kill again
 * (what a killed writer may leave behind: the element it held).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "maps/internal.h"
#include "maps/maps.h"

#define PROCS 3
#define THREADS 2
#define RUN_MS 1500
#define KILLS 24
#define ENTRIES 64
#define KEYS 160 /* more keys than entries: inserts meet a full map */
#define SLOTS 8
#define COUNTER_KEY 100000u /* + process index: counter keys, never deleted */
#define MAGIC 0x5eed000000000000ull
#define BOUND_S 30 /* a run this much longer than asked is a deadlock */
#define MAX_PROCS 32

enum { HASH, LRU, PERCPU, ARRAY, NMAPS };

static struct map *maps[NMAPS];

/* Shared with the children: what each reported, and when to stop. */
struct shared {
	volatile int stop;
	uint64_t slot_adds[MAX_PROCS][SLOTS]; /* array increments done */
	uint64_t hash_adds[MAX_PROCS];	      /* increments of the process's HASH counter */
	uint64_t pcpu_adds[MAX_PROCS];
	uint64_t bad_values[MAX_PROCS]; /* user lookups that copied a value not of their key */
	uint64_t ops[MAX_PROCS];	/* operations done, by processes that finished */
};

static struct shared *sh;

static uint64_t value_of(uint32_t key)
{
	return MAGIC | key;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

struct worker {
	struct map *m[NMAPS];
	int proc;
	uint64_t seed;
};

/* Every value of a per-CPU element, as user space sees it, encodes the key. */
static bool pcpu_ok(struct map *m, uint32_t key, const uint64_t *vals)
{
	for (uint32_t c = 0; c < map_info(m)->nr_cpus; c++)
		if (vals[c] != value_of(key))
			return false;
	return true;
}

static void one_op(struct worker *w, uint64_t r)
{
	uint32_t key = (uint32_t)(r >> 8) % KEYS, slot = (uint32_t)(r >> 20) % SLOTS;
	uint32_t ckey = COUNTER_KEY + (uint32_t)w->proc;
	struct map *m = w->m[(r >> 32) % 3];
	uint64_t v = value_of(key), *p, vals[MAP_MAX_CPUS / 16];
	bool pcpu = m == w->m[PERCPU];

	switch (r % 8) {
	case 0:
	case 1:
		if (pcpu) {
			for (uint32_t c = 0; c < map_info(m)->nr_cpus; c++)
				vals[c] = v;
			map_update_user(m, &key, vals, BPF_ANY);
		} else {
			map_update(m, &key, &v, BPF_ANY);
		}
		break;
	case 2:
		map_delete(m, &key);
		break;
	case 3:
		/*
		 * The helper's lock-free path. Its value is not checked: a
		 * preallocated element may be reused for another key while a
		 * program holds the pointer, in the kernel too.
		 */
		p = map_lookup(m, &key);
		if (p)
			(void)*(volatile uint64_t *)p;
		break;
	case 4:
		p = map_lookup(w->m[ARRAY], &slot);
		if (p) {
			__atomic_fetch_add(p, 1, __ATOMIC_RELAXED);
			__atomic_fetch_add(&sh->slot_adds[w->proc][slot], 1, __ATOMIC_RELEASE);
		}
		break;
	case 5:
		p = map_lookup(w->m[HASH], &ckey);
		if (p) {
			__atomic_fetch_add(p, 1, __ATOMIC_RELAXED);
			__atomic_fetch_add(&sh->hash_adds[w->proc], 1, __ATOMIC_RELEASE);
		}
		break;
	case 6:
		p = map_lookup(w->m[PERCPU], &ckey);
		if (p) {
			__atomic_fetch_add(p, 1, __ATOMIC_RELAXED);
			__atomic_fetch_add(&sh->pcpu_adds[w->proc], 1, __ATOMIC_RELEASE);
		}
		break;
	default:
		if (!map_lookup_user(m, &key, vals) &&
		    (pcpu ? !pcpu_ok(m, key, vals) : vals[0] != v))
			__atomic_fetch_add(&sh->bad_values[w->proc], 1, __ATOMIC_RELAXED);
		break;
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;
	uint64_t s = w->seed | 1, n = 0;

	for (; !sh->stop; n++)
		one_op(w, rnd(&s));
	__atomic_fetch_add(&sh->ops[w->proc], n, __ATOMIC_RELAXED);
	return NULL;
}

/* A child: its own handles on the inherited fds, THREADS threads until told to stop. */
static __attribute__((noreturn)) void child(int proc, int threads)
{
	struct worker w[THREADS];
	pthread_t t[THREADS];
	char err[256];

	for (int i = 0; i < threads; i++) {
		w[i] = (struct worker){.proc = proc,
				       .seed = (uint64_t)getpid() * 7919 + (uint64_t)i};
		for (int k = 0; k < NMAPS; k++)
			if (map_open_fd(map_fd(maps[k]), &w[i].m[k], err, sizeof(err))) {
				fprintf(stderr, "child %d: %s\n", proc, err);
				_exit(2);
			}
	}
	for (int i = 1; i < threads; i++)
		if (pthread_create(&t[i], NULL, work, &w[i]))
			_exit(3);
	work(&w[0]);
	for (int i = 1; i < threads; i++)
		pthread_join(t[i], NULL);
	_exit(0);
}

static pid_t spawn(int proc, int threads)
{
	pid_t pid = fork();

	REQUIRE(pid >= 0, "fork: %s", strerror(errno));
	if (!pid)
		child(proc, threads);
	return pid;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Wait for pids, at most BOUND_S seconds: a process still running then is deadlocked. */
static void wait_bounded(pid_t *pids, int n, const char *phase)
{
	int left = n, status;

	for (int tick = 0; left && tick < BOUND_S * 100; tick++) {
		for (int i = 0; i < n; i++) {
			if (pids[i] <= 0 || waitpid(pids[i], &status, WNOHANG) != pids[i])
				continue;
			EXPECT(WIFEXITED(status) && !WEXITSTATUS(status),
			       "%s: process %d ended %#x", phase, i, status);
			pids[i] = 0;
			left--;
		}
		if (left)
			sleep_ms(10);
	}
	EXPECT(!left, "%s: %d processes still running after %d s: deadlock", phase, left, BOUND_S);
	for (int i = 0; i < n; i++)
		if (pids[i] > 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], &status, 0);
		}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Iterate m: no duplicates, at most max_entries keys, each value its key's. The key count. */
static uint32_t check_map(struct map *m, const char *name)
{
	uint32_t keys[ENTRIES * 4], n = 0, key, next;
	uint64_t vals[MAP_MAX_CPUS / 16];
	bool first = true;

	while (n < ENTRIES * 4 && !map_get_next_key(m, first ? NULL : &key, &next)) {
		keys[n++] = next;
		key = next;
		first = false;
	}
	EXPECT(n <= ENTRIES, "%s: %u keys iterated, max_entries %u", name, n, ENTRIES);
	EXPECT(n <= m->shm->state.hash.count && m->shm->state.hash.count <= ENTRIES,
	       "%s: count %u, %u keys found, max %u", name, m->shm->state.hash.count, n, ENTRIES);
	qsort(keys, n, sizeof(keys[0]), cmp_u32);
	for (uint32_t i = 0; i + 1 < n; i++)
		EXPECT(keys[i] != keys[i + 1], "%s: key %u twice", name, keys[i]);
	for (uint32_t i = 0; i < n; i++) {
		if (keys[i] >= COUNTER_KEY)
			continue;
		EXPECT(!map_lookup_user(m, &keys[i], vals), "%s: key %u iterated but not found",
		       name, keys[i]);
		EXPECT(m == maps[PERCPU] ? pcpu_ok(m, keys[i], vals) : vals[0] == value_of(keys[i]),
		       "%s: key %u has value %#" PRIx64, name, keys[i], vals[0]);
	}
	return n;
}

/* The counters: exact for survivors, at most one ahead for a killed process. */
static void check_counters(int procs, const bool *killed)
{
	uint64_t want[SLOTS] = {0}, got, vals[MAP_MAX_CPUS / 16];
	uint32_t nr = map_info(maps[PERCPU])->nr_cpus;

	for (uint32_t s = 0; s < SLOTS; s++) {
		uint64_t slack = 0;

		for (int p = 0; p < procs; p++) {
			want[s] += sh->slot_adds[p][s];
			slack += killed[p];
		}
		REQUIRE(!map_lookup_user(maps[ARRAY], &s, &got), "array slot %u", s);
		EXPECT(got >= want[s] && got <= want[s] + slack,
		       "array slot %u: %" PRIu64 ", %" PRIu64 " increments reported", s, got,
		       want[s]);
	}
	for (int p = 0; p < procs; p++) {
		uint32_t k = COUNTER_KEY + (uint32_t)p;
		uint64_t sum = 0;

		REQUIRE(!map_lookup_user(maps[HASH], &k, &got), "hash counter %d", p);
		EXPECT(got >= sh->hash_adds[p] && got <= sh->hash_adds[p] + killed[p],
		       "hash counter %d: %" PRIu64 ", reported %" PRIu64, p, got, sh->hash_adds[p]);
		REQUIRE(!map_lookup_user(maps[PERCPU], &k, vals), "per-CPU counter %d", p);
		for (uint32_t c = 0; c < nr; c++)
			sum += vals[c];
		EXPECT(sum >= sh->pcpu_adds[p] && sum <= sh->pcpu_adds[p] + killed[p],
		       "per-CPU counter %d: %" PRIu64 ", reported %" PRIu64, p, sum,
		       sh->pcpu_adds[p]);
		EXPECT(!sh->bad_values[p], "process %d saw %" PRIu64 " values of another key", p,
		       sh->bad_values[p]);
	}
}

static void make_maps(void)
{
	static const struct map_attr attrs[NMAPS] = {
		{.type = BPF_MAP_TYPE_HASH, .key_size = 4, .value_size = 8, .max_entries = ENTRIES},
		{.type = BPF_MAP_TYPE_LRU_HASH,
		 .key_size = 4,
		 .value_size = 8,
		 .max_entries = ENTRIES},
		{.type = BPF_MAP_TYPE_PERCPU_HASH,
		 .key_size = 4,
		 .value_size = 8,
		 .max_entries = ENTRIES},
		{.type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8, .max_entries = SLOTS},
	};
	char err[256];

	/* REQUIRE evaluates its condition twice: calls with effects go first */
	for (int i = 0; i < NMAPS; i++) {
		int ret;

		if (maps[i])
			map_close(maps[i]);
		ret = map_create(&attrs[i], &maps[i], err, sizeof(err));
		REQUIRE(!ret, "map %d: %s", i, err);
	}
	/* one counter per process, made before the maps fill up */
	for (uint32_t p = 0; p < MAX_PROCS; p++) {
		uint32_t k = COUNTER_KEY + p;
		uint64_t zero[MAP_MAX_CPUS / 16] = {0};
		int ret;

		if (p >= PROCS + KILLS)
			break;
		ret = map_update_user(maps[HASH], &k, zero, BPF_NOEXIST);
		if (!ret)
			ret = map_update_user(maps[PERCPU], &k, zero, BPF_NOEXIST);
		REQUIRE(!ret, "counter %u: %d", p, ret);
	}
	memset(sh, 0, sizeof(*sh));
}

static uint64_t total_ops(void)
{
	uint64_t n = 0;

	for (int p = 0; p < MAX_PROCS; p++)
		n += sh->ops[p];
	return n;
}

static void phase_load(void)
{
	pid_t pids[PROCS];
	bool killed[PROCS] = {false};

	make_maps();
	for (int p = 0; p < PROCS; p++)
		pids[p] = spawn(p, THREADS);
	sleep_ms(RUN_MS);
	sh->stop = 1;
	wait_bounded(pids, PROCS, "load");
	check_counters(PROCS, killed);
	printf("load: %d processes x %d threads for %d ms, %" PRIu64 " operations; ", PROCS,
	       THREADS, RUN_MS, total_ops());
	printf("%u, %u, %u keys at the end\n", check_map(maps[HASH], "hash"),
	       check_map(maps[LRU], "lru"), check_map(maps[PERCPU], "percpu"));
}

/* Empty m of its random keys, then fill it: at least ENTRIES - lost new keys fit. */
static void check_capacity(struct map *m, const char *name, uint32_t counters, uint32_t lost)
{
	uint32_t key, fitted = 0;
	uint64_t vals[MAP_MAX_CPUS / 16] = {0};

	for (key = 0; key < KEYS; key++)
		map_delete_user(m, &key);
	for (key = 0; key < ENTRIES; key++)
		fitted += !map_update_user(m, &key, vals, BPF_NOEXIST);
	EXPECT(fitted + counters + lost >= ENTRIES,
	       "%s: %u new keys fit besides %u counters after %u kills", name, fitted, counters,
	       lost);
	printf("%s: %u of %u elements usable after the kills\n", name, fitted + counters, ENTRIES);
}

static void phase_kill(void)
{
	pid_t pids[PROCS];
	bool killed[PROCS + KILLS] = {false};
	uint64_t s = (uint64_t)getpid() | 1;
	pid_t pid;
	int status;

	make_maps();
	for (int p = 0; p < PROCS - 1; p++)
		pids[p] = spawn(p, THREADS);
	for (int k = 0; k < KILLS; k++) {
		int proc = PROCS - 1 + k;
		pid_t victim = spawn(proc, 1);

		sleep_ms(2 + (long)(rnd(&s) % 30));
		kill(victim, SIGKILL);
		pid = waitpid(victim, &status, 0);
		REQUIRE(pid == victim, "reap a victim");
		killed[proc] = WIFSIGNALED(status);
		EXPECT(killed[proc] || (WIFEXITED(status) && !WEXITSTATUS(status)),
		       "victim %d ended %#x", k, status);
	}
	sh->stop = 1;
	wait_bounded(pids, PROCS - 1, "kill");
	check_counters(PROCS - 1 + KILLS, killed);
	printf("kill: %d writers x %d threads, %" PRIu64 " operations, %d victims killed with "
	       "SIGKILL; ",
	       PROCS - 1, THREADS, total_ops(), KILLS);
	printf("%u, %u, %u keys at the end\n", check_map(maps[HASH], "hash"),
	       check_map(maps[LRU], "lru"), check_map(maps[PERCPU], "percpu"));
	check_capacity(maps[HASH], "hash", PROCS + KILLS, KILLS);
	check_capacity(maps[LRU], "lru", 0, KILLS);
	check_capacity(maps[PERCPU], "percpu", PROCS + KILLS, KILLS);
}

/*
 * A process killed while it holds every lock of the HASH (taken through the
 * maps internals, as a writer mid-update would): a process that then
 * updates every bucket must finish.
 */
static void phase_dead_holder(void)
{
	struct map *m;
	int ready[2], status;
	pid_t holder, pids[1];
	ssize_t got;
	char c;

	make_maps();
	m = maps[HASH];
	status = pipe(ready);
	REQUIRE(!status, "pipe");
	holder = fork();
	REQUIRE(holder >= 0, "fork");
	if (!holder) {
		for (uint32_t i = 0; i < m->layout.hash.n_locks; i++)
			map_lock(&m->locks[i]);
		(void)!write(ready[1], "x", 1);
		pause();
		_exit(0);
	}
	got = read(ready[0], &c, 1);
	REQUIRE(got == 1, "the holder took the locks");
	kill(holder, SIGKILL);
	waitpid(holder, &status, 0);
	pids[0] = fork();
	REQUIRE(pids[0] >= 0, "fork");
	if (!pids[0]) {
		uint64_t v;

		for (uint32_t k = 0; k < 4 * ENTRIES; k++) {
			v = value_of(k % ENTRIES);
			map_delete(m, &k);
			if (map_update(m, &k, &v, BPF_ANY) &&
			    map_update(m, &k, &v, BPF_ANY) != -E2BIG)
				_exit(4);
		}
		_exit(0);
	}
	wait_bounded(pids, 1, "dead holder");
	check_map(m, "hash after a dead holder");
	printf("dead holder: %u locks left held by a killed process were recovered\n",
	       m->layout.hash.n_locks);
	close(ready[0]);
	close(ready[1]);
}

int main(int argc, char **argv)
{
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(sh != MAP_FAILED, "shared memory");
	if (argc < 2 || !strcmp(argv[1], "load"))
		phase_load();
	if (argc < 2 || !strcmp(argv[1], "kill")) {
		phase_dead_holder();
		phase_kill();
	}
	return check_summary();
}
