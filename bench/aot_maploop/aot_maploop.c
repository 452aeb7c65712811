// SPDX-License-Identifier: MIT
/*
 * uebpf-aot-maploop [--csv FILE] [--rounds N]: an array-map lookup loop
 * (maploop.bpf.c, clang-built, loaded by libbpf through the bpf()
 * emulation) on the AOT engine, the JIT and the interpreter, against the
 * same loop in native C (native_loop.c), all over the same map memory: the
 * three loads share the map (bpf_map__reuse_fd), and the native loop reads
 * it through mmap of the map's fd.
 *
 * Each round times every implementation once, in short slices one after
 * the other, so that a ratio compares runs under the same load; the table
 * gives the median over rounds of ns per loop iteration and of the ratio to
 * native. The CSV has one line per implementation.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>

#include "native_loop.h"
#include "syscall/syscall.h"
#include "vm/vm.h"

#define MAX_ENTRIES 256
#define RUNS_PER_SLICE 64
#define MAX_ROUNDS 101

enum { IMPL_NATIVE, IMPL_AOT, IMPL_JIT, IMPL_INTERP, NIMPLS };

static const char *const impl_names[NIMPLS] = {"native", "aot", "jit", "interp"};

struct impl {
	struct bpf_object *obj;
	struct uebpf_vm *vm;
	double ns[MAX_ROUNDS], ratio[MAX_ROUNDS];
};

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int load_once(const char *engine, int map_fd, struct impl *im)
{
	struct bpf_program *prog;
	int ret;

	setenv("UEBPF_ENGINE", engine, 1);
	im->obj = bpf_object__open_file(MAPLOOP_OBJ, NULL);
	if (!im->obj) {
		fprintf(stderr, "cannot open %s: %s\n", MAPLOOP_OBJ, strerror(errno));
		return -1;
	}
	if (map_fd >= 0 &&
	    bpf_map__reuse_fd(bpf_object__find_map_by_name(im->obj, "values"), map_fd)) {
		fprintf(stderr, "cannot share the map\n");
		return -1;
	}
	ret = bpf_object__load(im->obj);
	prog = bpf_object__find_program_by_name(im->obj, "maploop");
	if (ret || !prog) {
		if (getenv("UEBPF_VERIFY"))
			fprintf(stderr, "load on %s failed: %s (%s)\n", engine, strerror(-ret),
				syscall_last_error());
		bpf_object__close(im->obj);
		im->obj = NULL;
		return -1;
	}
	im->vm = syscall_prog_vm(bpf_program__fd(prog));
	if (strcmp(im->vm->engine->name, engine))
		printf("note: the %s load runs on the %s engine: %s\n", engine,
		       im->vm->engine->name, syscall_last_error());
	return 0;
}

/*
 * The object loaded on engine, its map the one of map_fd when that is not
 * -1. Verified, as the kernel loads it; a program the verifier refuses is
 * loaded again unverified (UEBPF_VERIFY=0), with its run-time checks, and
 * the table says so.
 */
static int load(const char *engine, int map_fd, struct impl *im)
{
	int ret = load_once(engine, map_fd, im);

	if (ret && !getenv("UEBPF_VERIFY")) {
		printf("note: the verifier refuses the loop (%s); loading it unverified\n",
		       syscall_last_error());
		setenv("UEBPF_VERIFY", "0", 1);
		ret = load_once(engine, map_fd, im);
	}
	return ret;
}

/* r0 of one run of the program on im's engine. */
static uint64_t run_once(const struct impl *im)
{
	uint64_t ctx = 0, r0 = 0;
	char err[256];

	if (uebpf_vm_run(im->vm, &ctx, sizeof(ctx), &r0, err, sizeof(err)))
		fprintf(stderr, "run failed: %s\n", err);
	return r0;
}

/* ns per loop iteration of one slice of impl i. */
static double slice(const struct impl *im, int i, const uint64_t *values)
{
	volatile uint64_t sink = 0;
	double t = now_ns();

	for (int r = 0; r < RUNS_PER_SLICE; r++)
		sink += i == IMPL_NATIVE ? native_maploop(values, MAX_ENTRIES) : run_once(im);
	(void)sink;
	return (now_ns() - t) / RUNS_PER_SLICE / MAPLOOP_N;
}

static void write_csv(const char *path, const double ns[], const double ratio[])
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return;
	}
	fprintf(f, "impl,ns_per_iteration,ratio_to_native\n");
	for (int i = 0; i < NIMPLS; i++)
		fprintf(f, "%s,%.3f,%.3f\n", impl_names[i], ns[i], ratio[i]);
	fclose(f);
}

int main(int argc, char **argv)
{
	struct impl im[NIMPLS] = {0};
	double ns[NIMPLS], ratio[NIMPLS], load_avg[1];
	const char *csv = NULL;
	int rounds = 15, map_fd;
	uint64_t *values, want;
	struct utsname u;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--csv") && i + 1 < argc) {
			csv = argv[++i];
		} else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
			rounds = atoi(argv[++i]);
		} else {
			fprintf(stderr, "usage: uebpf-aot-maploop [--csv FILE] [--rounds N]\n");
			return 2;
		}
	}
	if (rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "--rounds: 1 to %d\n", MAX_ROUNDS);
		return 2;
	}
	libbpf_set_print(quiet);
	if (load("interp", -1, &im[IMPL_INTERP]))
		return 1;
	map_fd = bpf_map__fd(bpf_object__find_map_by_name(im[IMPL_INTERP].obj, "values"));
	for (uint32_t k = 0; k < MAX_ENTRIES; k++) {
		uint64_t v = k * 2654435761u;

		bpf_map_update_elem(map_fd, &k, &v, BPF_ANY);
	}
	values = mmap(NULL, MAX_ENTRIES * sizeof(*values), PROT_READ, MAP_SHARED, map_fd, 0);
	if (values == MAP_FAILED) {
		fprintf(stderr, "mmap of the map: %s\n", strerror(errno));
		return 1;
	}
	if (load("aot", map_fd, &im[IMPL_AOT]) || load("jit", map_fd, &im[IMPL_JIT]))
		return 1;
	want = (uint32_t)native_maploop(values, MAX_ENTRIES);
	for (int i = IMPL_AOT; i < NIMPLS; i++) {
		uint64_t got = (uint32_t)run_once(&im[i]);

		if (got != want) {
			fprintf(stderr, "%s: sum %#llx, native %#llx\n", impl_names[i],
				(unsigned long long)got, (unsigned long long)want);
			return 1;
		}
	}
	for (int r = 0; r < rounds; r++) {
		for (int i = 0; i < NIMPLS; i++)
			im[i].ns[r] = slice(&im[i], i, values);
		for (int i = 0; i < NIMPLS; i++)
			im[i].ratio[r] = im[i].ns[r] / im[IMPL_NATIVE].ns[r];
	}
	uname(&u);
	getloadavg(load_avg, 1);
	printf("Array-map lookup loop, %d lookups a run, %d rounds, %s; %s %s, load average %.1f\n",
	       MAPLOOP_N, rounds, getenv("UEBPF_VERIFY") ? "unverified" : "verified", u.machine,
	       u.release, load_avg[0]);
	printf("%-8s %14s %16s\n", "impl", "ns/iteration", "ratio to native");
	for (int i = 0; i < NIMPLS; i++) {
		ns[i] = median(im[i].ns, rounds);
		ratio[i] = median(im[i].ratio, rounds);
		printf("%-8s %14.3f %15.2fx\n", impl_names[i], ns[i], ratio[i]);
	}
	if (csv)
		write_csv(csv, ns, ratio);
	munmap(values, MAX_ENTRIES * sizeof(*values));
	for (int i = IMPL_AOT; i < NIMPLS; i++)
		bpf_object__close(im[i].obj);
	return 0;
}
