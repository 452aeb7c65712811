// SPDX-License-Identifier: MIT
/*
 * Clang-built objects on every engine: each program of tests/progs and of
 * tests/aot/progs, loaded by libbpf through the bpf() emulation on the
 * interpreter, the JIT and the AOT engine in turn, must give the same
 * return value, packet and map contents (every CPU's copy of per-CPU
 * values). Then what only the AOT engine adds: its open-coded helpers give
 * what the helpers give (prandom from the same state, the clocks between
 * two readings of the host's, the CPU this thread is pinned to), are
 * open-coded indeed, and callbacks run; and a second load of an object
 * with maps comes from the cache, the maps being given at run time.
 *
 * Usage: test_aot_obj PROGS_DIR AOT_PROGS_DIR (the environment is
 * UEBPF_AOT_TEST_ENV: no fallback, so the AOT runs are the AOT engine's).
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aot/aot.h"
#include "check.h"
#include "common/state_dir.h"
#include "helpers/helpers.h"
#include "syscall/syscall.h"

static const char *const engines[] = {"interp", "jit", "aot"};
#define NENGINES (sizeof(engines) / sizeof(engines[0]))

/* One test run: an object's program with its input. */
struct run_case {
	const char *dir; /* 0: tests/progs, 1: tests/aot/progs */
	const char *obj, *prog;
	bool ctx; /* the input is the context, not packet data */
	const char *hex;
};

static const char pkt_ipv4[] =
	"02000000000102000000000208004500002e00000000401166bd0a0000010a000002"
	"0000000000000000000000000000000000000000000000000000";
static const char pkt_ipv6[] =
	"02000000000102000000000286dd4500002e00000000401166bd0a0000010a000002"
	"0000000000000000000000000000000000000000000000000000";
static const char zero64[] = "0000000000000000000000000000000000000000000000000000000000000000"
			     "0000000000000000000000000000000000000000000000000000000000000000";
/* xdp_adjust's packets: a command word, then 56 bytes */
#define PAD56                                                              \
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f" \
	"202122232425262728292a2b2c2d2e2f3031323334353637"
static const char args_v4[] = "f9ffffffffffffff020000000000000080000000000000000080000000000000";

static const struct run_case cases[] = {
	{"progs", "global_data", "global_data", false, zero64},
	{"progs", "xdp_rewrite", "xdp_rewrite", false, pkt_ipv4},
	{"progs", "xdp_rewrite", "xdp_rewrite", false, pkt_ipv6},
	{"progs", "skb", "tc_len", false, pkt_ipv4},
	{"progs", "skb", "socket_len", false, pkt_ipv4},
	{"progs", "isa_v4", "isa_v4", true, args_v4},
	{"progs", "tail_call", "entry", false, zero64},
	{"progs", "tail_call_subprog", "entry", false, zero64},
	{"progs", "xdp_adjust", "xdp_adjust", false, "28ffffff810d0000" PAD56},
	{"progs", "xdp_adjust", "xdp_adjust", false, "27ffffff800d0000" PAD56},
	{"progs", "xdp_adjust", "xdp_adjust", false, "32000000ffffffff" PAD56},
	{"progs", "xdp_adjust", "xdp_adjust", false, "33000000ceffffff" PAD56},
	{"progs", "pinned", "count_runs", false, zero64},
	{"progs", "ctx_corrupt", "xdp_bad_bounds", false, zero64},
	{"progs", "ctx_corrupt", "tc_bad_data", false, pkt_ipv4},
	{"aot", "callbacks", "callbacks", false, zero64},
	{"aot", "inline_helpers", "inline_helpers", false, zero64},
};

/* Objects that must fail to load, alike on every engine. */
static const char *const bad_objs[] = {"bad_map", "bad_helper"};

static const char *dirs[2];

/* The slots of inline_helpers' out map that hold clock readings: compared apart. */
enum { SLOT_CPU = 3, SLOT_KTIME = 4, SLOT_BOOT = 5, SLOT_COARSE = 6, SLOT_PRANDOM = 7 };
#define PRANDOM_SEED 0x9e3779b97f4a7c15ull

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

static char *obj_path(const struct run_case *c)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/%s.bpf.o", dirs[!strcmp(c->dir, "aot")], c->obj);
	return path;
}

static size_t hex_decode(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned b;

	while (n < max && sscanf(s, "%2x", &b) == 1) {
		out[n++] = (uint8_t)b;
		s += 2;
	}
	return n;
}

/* Appends to a growing text: what a run gave, for comparison. */
struct text {
	char *buf;
	size_t len;
	FILE *f;
};

static void hex(FILE *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

static bool percpu(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

struct entry {
	uint8_t key[64], *value;
};

static size_t key_size_g;

static int by_key(const void *a, const void *b)
{
	return memcmp(((const struct entry *)a)->key, ((const struct entry *)b)->key, key_size_g);
}

/* A map's entries sorted by key (hash order is the implementation's), every CPU's value. */
static void dump_map(FILE *f, const struct bpf_map *m, bool mask_clocks)
{
	size_t ks = bpf_map__key_size(m), vs = bpf_map__value_size(m), n = 0;
	int fd = bpf_map__fd(m);
	struct entry e[64];
	uint8_t key[64];

	if (percpu(bpf_map__type(m)))
		vs = (size_t)libbpf_num_possible_cpus() * ((vs + 7) & ~(size_t)7);
	fprintf(f, "map %s:", bpf_map__name(m));
	while (ks <= sizeof(key) && n < 64 && !bpf_map_get_next_key(fd, n ? key : NULL, key)) {
		memcpy(e[n].key, key, ks);
		e[n].value = calloc(1, vs);
		if (bpf_map_lookup_elem(fd, key, e[n].value))
			memset(e[n].value, 0xee, vs);
		n++;
	}
	key_size_g = ks;
	qsort(e, n, sizeof(e[0]), by_key);
	for (size_t i = 0; i < n; i++) {
		uint32_t k;

		memcpy(&k, e[i].key, sizeof(k));
		fputc(' ', f);
		hex(f, e[i].key, ks);
		fputc('=', f);
		if (bpf_map__type(m) == BPF_MAP_TYPE_PROG_ARRAY)
			fprintf(f, "%s", e[i].value[0] ? "prog" : "none");
		else if (mask_clocks && k >= SLOT_KTIME && k <= SLOT_COARSE)
			fprintf(f, "clock");
		else
			hex(f, e[i].value, vs);
		free(e[i].value);
	}
	fputc('\n', f);
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static uint64_t slot(struct bpf_object *obj, uint32_t k)
{
	uint64_t v = 0;

	bpf_map_lookup_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, "out")), &k, &v);
	return v;
}

/* The helpers' own results that differ from run to run: against the host's. */
static void check_clocks(struct bpf_object *obj, const char *engine, const int64_t before[3],
			 const int64_t after[3])
{
	static const char *const names[] = {"ktime_get_ns", "ktime_get_boot_ns",
					    "ktime_get_coarse_ns"};

	for (unsigned i = 0; i < 3; i++) {
		int64_t v = (int64_t)slot(obj, SLOT_KTIME + i);

		if (!(v >= before[i] && v <= after[i]))
			EXPECT(false, "%s on %s: %" PRId64 " not within [%" PRId64 ", %" PRId64 "]",
			       names[i], engine, v, before[i], after[i]);
	}
	EXPECT(slot(obj, SLOT_CPU) == (uint64_t)sched_getcpu(),
	       "%s: smp_processor_id %" PRIu64 " on CPU %d", engine, slot(obj, SLOT_CPU),
	       sched_getcpu());
}

/* Whether the AOT engine's C for prog open-codes what it should. */
static void check_inlined(struct bpf_program *prog)
{
	struct uebpf_vm *vm = syscall_prog_vm(bpf_program__fd(prog));
	char *text = NULL, err[256];
	size_t len;
	FILE *f = open_memstream(&text, &len);

	REQUIRE(vm && f, "the VM of %s", bpf_program__name(prog));
	EXPECT(!aot_emit_c(vm, f, err, sizeof(err)), "emit: %s", err);
	fclose(f);
	if (!strcmp(bpf_program__name(prog), "inline_helpers")) {
		static const char *const calls[] = {"ctx->helpers[5]", "ctx->helpers[125]",
						    "ctx->helpers[160]", "ctx->helpers[28]"};

		for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
			EXPECT(!strstr(text, calls[i]), "%s is called, not open-coded", calls[i]);
		EXPECT(strstr(text, "aot_clock_ns(") && strstr(text, "aot_prandom(prandom)") &&
			       strstr(text, "(uint64_t)k * 8"),
		       "the clocks, prandom and array lookups are open-coded");
	}
	free(text);
}

/*
 * Removes the pins of LIBBPF_PIN_BY_NAME maps (tests/progs/pinned): each
 * engine's run starts from a new map, as the first did.
 */
static void unpin_all(void)
{
	static const char *const names[] = {"runs"};
	char dir[4096], err[256], path[4200];
	const char *env = getenv("UEBPF_PIN_DIR");

	if (env && *env)
		snprintf(dir, sizeof(dir), "%s", env);
	else if (!state_dir(dir, sizeof(dir) - 8, err, sizeof(err)))
		strcat(dir, "/pins");
	else
		return;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/sys/fs/bpf/%s", dir, names[i]);
		unlink(path);
	}
}

/* Loads and runs c on engine; out gets what to compare. Returns 0 or the load's error. */
static int run_on(const struct run_case *c, const char *engine, struct text *out)
{
	static uint8_t in[4096], data_out[8192];
	bool inline_prog = !strcmp(c->obj, "inline_helpers");
	int64_t before[3], after[3];
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *m;
	size_t n = hex_decode(c->hex, in, sizeof(in));
	int ret;

	setenv("UEBPF_ENGINE", engine, 1);
	unpin_all();
	obj = bpf_object__open_file(obj_path(c), NULL);
	REQUIRE(obj, "open %s", obj_path(c));
	prog = bpf_object__find_program_by_name(obj, c->prog);
	REQUIRE(prog, "program %s in %s", c->prog, c->obj);
	ret = bpf_object__load(obj);
	if (ret) {
		fprintf(out->f, "load failed: %d\n", ret);
		bpf_object__close(obj);
		return ret;
	}
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = c->ctx ? NULL : in,
		    .data_size_in = c->ctx ? 0 : (uint32_t)n, .ctx_in = c->ctx ? in : NULL,
		    .ctx_size_in = c->ctx ? (uint32_t)n : 0, .data_out = c->ctx ? NULL : data_out,
		    .data_size_out = c->ctx ? 0 : sizeof(data_out));
	helpers_prandom_state = PRANDOM_SEED;
	before[0] = clock_ns(CLOCK_MONOTONIC);
	before[1] = clock_ns(CLOCK_BOOTTIME);
	before[2] = clock_ns(CLOCK_MONOTONIC_COARSE);
	ret = bpf_prog_test_run_opts(bpf_program__fd(prog), &t);
	after[0] = clock_ns(CLOCK_MONOTONIC);
	after[1] = clock_ns(CLOCK_BOOTTIME);
	after[2] = clock_ns(CLOCK_MONOTONIC_COARSE);
	if (ret)
		fprintf(out->f, "test run failed: %s\n", strerror(errno));
	else
		fprintf(out->f, "retval %u\n", t.retval);
	if (!ret && !c->ctx) {
		fprintf(out->f, "data_out ");
		hex(out->f, data_out, t.data_size_out);
		fputc('\n', out->f);
	}
	bpf_object__for_each_map(m, obj) dump_map(out->f, m, inline_prog);
	if (inline_prog && !ret)
		check_clocks(obj, engine, before, after);
	if (!strcmp(engine, "aot"))
		check_inlined(prog);
	bpf_object__close(obj);
	unpin_all();
	return 0;
}

static void test_engines_agree(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct text out[NENGINES];

		for (size_t e = 0; e < NENGINES; e++) {
			out[e].buf = NULL;
			out[e].f = open_memstream(&out[e].buf, &out[e].len);
			REQUIRE(out[e].f, "memstream");
			EXPECT(!run_on(&cases[i], engines[e], &out[e]), "%s/%s loads on %s",
			       cases[i].obj, cases[i].prog, engines[e]);
			fclose(out[e].f);
		}
		for (size_t e = 1; e < NENGINES; e++)
			EXPECT(!strcmp(out[0].buf, out[e].buf),
			       "%s/%s: %s and %s differ:\n%s---\n%s", cases[i].obj, cases[i].prog,
			       engines[0], engines[e], out[0].buf, out[e].buf);
		for (size_t e = 0; e < NENGINES; e++)
			free(out[e].buf);
	}
}

/* The bad objects fail to load with the same error and message on every engine. */
static void test_bad_objects(void)
{
	for (size_t i = 0; i < sizeof(bad_objs) / sizeof(bad_objs[0]); i++) {
		char first[512] = "";
		int first_ret = 0;

		for (size_t e = 0; e < NENGINES; e++) {
			char path[4096];
			struct bpf_object *obj;
			int ret;

			snprintf(path, sizeof(path), "%s/%s.bpf.o", dirs[0], bad_objs[i]);
			setenv("UEBPF_ENGINE", engines[e], 1);
			obj = bpf_object__open_file(path, NULL);
			REQUIRE(obj, "open %s", path);
			ret = bpf_object__load(obj);
			EXPECT(ret, "%s loads on %s", bad_objs[i], engines[e]);
			if (!e) {
				first_ret = ret;
				snprintf(first, sizeof(first), "%s", syscall_last_error());
			} else {
				EXPECT(ret == first_ret && !strcmp(first, syscall_last_error()),
				       "%s: %s fails with %d '%s', interp with %d '%s'",
				       bad_objs[i], engines[e], ret, syscall_last_error(),
				       first_ret, first);
			}
			bpf_object__close(obj);
		}
	}
}

/* Objects in the cache directory. */
static int cached_objects(void)
{
	DIR *d = opendir(getenv("UEBPF_AOT_CACHE"));
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.' && strstr(de->d_name, ".so") != NULL;
	if (d)
		closedir(d);
	return n;
}

/*
 * An object with maps loads a second time from the cache, with no
 * compiler: the maps of the second load (other fds, other addresses) reach
 * the same code.
 */
static void test_cached_with_maps(void)
{
	static const struct run_case c = {"aot", "inline_helpers", "inline_helpers", false, zero64};
	const char *cc = getenv("UEBPF_CC");
	char *saved = cc ? strdup(cc) : NULL;
	struct text out[2];
	int before = 0;

	for (int i = 0; i < 2; i++) {
		out[i].buf = NULL;
		out[i].f = open_memstream(&out[i].buf, &out[i].len);
		REQUIRE(out[i].f, "memstream");
		if (i) {
			before = cached_objects();
			setenv("UEBPF_CC", "/nonexistent/cc", 1);
		}
		EXPECT(!run_on(&c, "aot", &out[i]),
		       "load %d of inline_helpers on aot, from the cache", i + 1);
		fclose(out[i].f);
	}
	EXPECT(cached_objects() == before, "the second load compiled nothing");
	EXPECT(!strcmp(out[0].buf, out[1].buf),
	       "a cached load gives what the first did:\n%s---\n%s", out[0].buf, out[1].buf);
	if (saved)
		setenv("UEBPF_CC", saved, 1);
	free(saved);
	free(out[0].buf);
	free(out[1].buf);
}

int main(int argc, char **argv)
{
	cpu_set_t one;

	if (argc != 3) {
		fprintf(stderr, "usage: test_aot_obj PROGS_DIR AOT_PROGS_DIR\n");
		return 2;
	}
	dirs[0] = argv[1];
	dirs[1] = argv[2];
	libbpf_set_print(quiet);
	/*
	 * Engines are compared on programs the verifier refuses too (ctx_corrupt;
	 * inline_helpers passes csum_diff an unchecked packet pointer, which the
	 * kernel's verifier refuses as well): load them unverified.
	 */
	setenv("UEBPF_VERIFY", "0", 1);
	/* one CPU: smp_processor_id and per-CPU values are the same on every engine */
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	REQUIRE(!sched_setaffinity(0, sizeof(one), &one), "pin to a CPU: %s", strerror(errno));
	test_engines_agree();
	test_bad_objects();
	test_cached_with_maps();
	return check_summary();
}
