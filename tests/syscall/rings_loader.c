// SPDX-License-Identifier: MIT
/*
 * rings_loader OBJ BATCHES PER_BATCH: a libbpf loader reading a perf
 * buffer and a ring buffer that programs in another process fill (run
 * under `uebpf load`, the target under `uebpf start`). Attaches OBJ's
 * programs, prints "ready", then, batch by batch, waits for each batch's
 * records with perf_buffer__poll and ring_buffer__poll, perf first in odd
 * batches and the ring first in even ones, each wait long enough (20 s)
 * that only a wakeup from the other process or data already there ends
 * it. Prints "perf N ring N lost N in order" (each CPU's perf records and
 * the ring's in sequence) and exits 0, or 1 when a wait ran out.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_MS 20000
#define MAX_CPUS 64
#define MAX_LINKS 8

struct rec {
	unsigned seq, pid;
};

struct seen {
	int perf, ring;
	unsigned long long lost;
	int next_ring;
	int last_perf[MAX_CPUS];
	int bad;
};

static void on_sample(void *ctx, int cpu, void *data, __u32 size)
{
	struct seen *s = ctx;
	struct rec r;

	s->perf++;
	if (size < sizeof(r) || cpu < 0 || cpu >= MAX_CPUS) {
		s->bad++;
		return;
	}
	memcpy(&r, data, sizeof(r));
	if ((int)r.seq <= s->last_perf[cpu])
		s->bad++;
	s->last_perf[cpu] = (int)r.seq;
}

static void on_lost(void *ctx, int cpu, __u64 n)
{
	(void)cpu;
	((struct seen *)ctx)->lost += n;
}

static int on_ring(void *ctx, void *data, size_t size)
{
	struct seen *s = ctx;
	struct rec r;

	s->ring++;
	if (size != sizeof(r)) {
		s->bad++;
		return 0;
	}
	memcpy(&r, data, sizeof(r));
	if ((int)r.seq != s->next_ring++)
		s->bad++;
	return 0;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static int wait_perf(struct perf_buffer *pb, struct seen *s, int want)
{
	while (s->perf + (int)s->lost < want)
		if (perf_buffer__poll(pb, WAIT_MS) <= 0) {
			fprintf(stderr, "rings_loader: perf_buffer__poll: no wakeup at %d of %d\n",
				s->perf, want);
			return -1;
		}
	return 0;
}

static int wait_ring(struct ring_buffer *rb, struct seen *s, int want)
{
	while (s->ring < want)
		if (ring_buffer__poll(rb, WAIT_MS) <= 0) {
			fprintf(stderr, "rings_loader: ring_buffer__poll: no wakeup at %d of %d\n",
				s->ring, want);
			return -1;
		}
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_link *links[MAX_LINKS];
	struct seen s = {0};
	struct bpf_object *obj;
	struct bpf_program *p;
	struct perf_buffer *pb;
	struct ring_buffer *rb;
	int batches, per, n = 0, ret = 0;

	if (argc != 4 || (batches = atoi(argv[2])) < 1 || (per = atoi(argv[3])) < 1) {
		fprintf(stderr, "usage: rings_loader OBJ BATCHES PER_BATCH\n");
		return 2;
	}
	for (int i = 0; i < MAX_CPUS; i++)
		s.last_perf[i] = -1;
	libbpf_set_print(quiet);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "rings_loader: %s: cannot load: %s\n", argv[1], strerror(errno));
		return 1;
	}
	bpf_object__for_each_program(p, obj)
	{
		if (n == MAX_LINKS || !(links[n] = bpf_program__attach(p))) {
			fprintf(stderr, "rings_loader: cannot attach %s: %s\n",
				bpf_program__name(p), strerror(errno));
			return 1;
		}
		n++;
	}
	pb = perf_buffer__new(bpf_object__find_map_fd_by_name(obj, "events"), 8, on_sample, on_lost,
			      &s, NULL);
	rb = ring_buffer__new(bpf_object__find_map_fd_by_name(obj, "rb"), on_ring, &s, NULL);
	if (!pb || !rb) {
		fprintf(stderr, "rings_loader: perf_buffer__new / ring_buffer__new: %s\n",
			strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (int b = 1; b <= batches && !ret; b++) {
		if (b % 2)
			ret = wait_perf(pb, &s, b * per) ?: wait_ring(rb, &s, b * per);
		else
			ret = wait_ring(rb, &s, b * per) ?: wait_perf(pb, &s, b * per);
	}
	printf("perf %d ring %d lost %llu %s\n", s.perf, s.ring, s.lost,
	       s.bad ? "out of order" : "in order");
	perf_buffer__free(pb);
	ring_buffer__free(rb);
	while (n--)
		bpf_link__destroy(links[n]);
	bpf_object__close(obj);
	return ret ? 1 : 0;
}
