// SPDX-License-Identifier: MIT
/*
 * rings_reader OBJ RUNS: the consumer side of the rings tests, as libbpf
 * users write it. On CPU 0, loads OBJ (rings.bpf.c), opens a perf_buffer
 * on its perf event array and a ring_buffer on its ring buffer, test-runs
 * emit RUNS times, then takes every record with perf_buffer__poll and
 * ring_buffer__poll (each wait long enough that only a wakeup or data
 * already there ends it), and prints them: "perf cpu C size S: HEX",
 * "ring size S: HEX", "lost N", then emit's return codes. A perf record's
 * size is rounded up (the kernel pads it to 8 bytes with its header) and
 * the padding's bytes are whatever the ring held, so only the bytes the
 * program wrote are printed: the size emit gave its record seq is
 * sizes[seq % PER_RUN], the sequence number being its first 4 bytes. Built twice, as
 * objrun is: with uebpf's interposition linked in, and plain for the
 * kernel. Exit 0 when every record arrived, 77 when the kernel refuses
 * the object (no privileges), else 1.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PER_RUN 6

static const unsigned sizes[PER_RUN] = {4, 5, 8, 13, 24, 64};
#define WAIT_MS 20000 /* a missed wakeup ends a poll only here */

struct seen {
	int perf, ring;
	unsigned long long lost;
};

static void hex(const char *what, int cpu, const void *data, unsigned size)
{
	const unsigned char *p = data;

	if (cpu >= 0)
		printf("%s cpu %d size %u:", what, cpu, size);
	else
		printf("%s size %u:", what, size);
	for (unsigned i = 0; i < size; i++)
		printf("%02x", p[i]);
	printf("\n");
}

static void on_sample(void *ctx, int cpu, void *data, __u32 size)
{
	unsigned seq, want;

	((struct seen *)ctx)->perf++;
	if (size < sizeof(seq)) {
		printf("perf cpu %d size %u: short\n", cpu, size);
		return;
	}
	memcpy(&seq, data, sizeof(seq));
	want = sizes[seq % PER_RUN];
	printf("perf cpu %d size %u ", cpu, size);
	hex("bytes", -1, data, want < size ? want : size);
}

static void on_lost(void *ctx, int cpu, __u64 n)
{
	((struct seen *)ctx)->lost += n;
	printf("lost cpu %d: %llu\n", cpu, (unsigned long long)n);
}

static int on_ring(void *ctx, void *data, size_t size)
{
	((struct seen *)ctx)->ring++;
	hex("ring", -1, data, (unsigned)size);
	return 0;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/* emit's return codes: the start of .bss (out.rets, then out.errs). */
static int print_codes(struct bpf_object *obj)
{
	struct bpf_map *bss = bpf_object__find_map_by_name(obj, ".bss");
	long v[PER_RUN + 3];
	char value[256];
	__u32 zero = 0;

	if (!bss || bpf_map__value_size(bss) > sizeof(value) ||
	    bpf_map__value_size(bss) < sizeof(v) ||
	    bpf_map__lookup_elem(bss, &zero, sizeof(zero), value, bpf_map__value_size(bss), 0))
		return -1;
	memcpy(v, value, sizeof(v));
	printf("rets");
	for (int i = 0; i < PER_RUN; i++)
		printf(" %ld", v[i]);
	printf("\nerrs %ld %ld %ld\n", v[PER_RUN], v[PER_RUN + 1], v[PER_RUN + 2]);
	return 0;
}

int main(int argc, char **argv)
{
	struct seen seen = {0};
	struct bpf_object *obj;
	struct perf_buffer *pb;
	struct ring_buffer *rb;
	unsigned char pkt[64] = {0};
	cpu_set_t cpus;
	int runs, prog, ret;

	if (argc != 3 || (runs = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: rings_reader OBJ RUNS\n");
		return 2;
	}
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus)) {
		fprintf(stderr, "rings_reader: cannot run on CPU 0: %s\n", strerror(errno));
		return 1;
	}
	libbpf_set_print(quiet);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "rings_reader: %s: cannot load: %s\n", argv[1], strerror(errno));
		return errno == EPERM ? 77 : 1;
	}
	pb = perf_buffer__new(bpf_object__find_map_fd_by_name(obj, "events"), 4, on_sample, on_lost,
			      &seen, NULL);
	rb = ring_buffer__new(bpf_object__find_map_fd_by_name(obj, "rb"), on_ring, &seen, NULL);
	if (!pb || !rb) {
		fprintf(stderr, "rings_reader: perf_buffer__new / ring_buffer__new: %s\n",
			strerror(errno));
		return 1;
	}
	prog = bpf_program__fd(bpf_object__find_program_by_name(obj, "emit"));
	for (int i = 0; i < runs; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt));

		if (bpf_prog_test_run_opts(prog, &opts)) {
			fprintf(stderr, "rings_reader: test run: %s\n", strerror(errno));
			return 1;
		}
	}
	while (seen.perf + (int)seen.lost < runs * PER_RUN) {
		ret = perf_buffer__poll(pb, WAIT_MS);
		if (ret <= 0) {
			fprintf(stderr, "rings_reader: perf_buffer__poll: %d after %d records\n",
				ret, seen.perf);
			return 1;
		}
	}
	while (seen.ring < runs * PER_RUN) {
		ret = ring_buffer__poll(rb, WAIT_MS);
		if (ret <= 0) {
			fprintf(stderr, "rings_reader: ring_buffer__poll: %d after %d records\n",
				ret, seen.ring);
			return 1;
		}
	}
	if (print_codes(obj)) {
		fprintf(stderr, "rings_reader: cannot read .bss\n");
		return 1;
	}
	perf_buffer__free(pb);
	ring_buffer__free(rb);
	bpf_object__close(obj);
	return 0;
}
