// SPDX-License-Identifier: MIT
/*
 * libbpf_runner: a plain libbpf program that runs a suite the way
 * bpf_performance's runner does, to check that such a program works under
 * the shim unchanged (it links libbpf and libyaml only, nothing of uebpf).
 * Not the upstream runner: our own, doing with libbpf what it does. Per
 * test of platform Linux (or none): open the object with
 * bpf_object__open_file, give every program the test's program_type (XDP
 * by default), load, test-run the map state preparation program
 * (repeat = its iteration_count, 1024 zero bytes in and out), then each
 * program of program_cpu_assignment on a thread per CPU it is assigned,
 * repeat = iteration_count (or -c), 1024 zero bytes in and out; every
 * return value must be the test's expected_result (0 when not given, as
 * `uebpf bench` expects). Prints bpf_performance's CSV (Test,CPU i...: the
 * average duration the test run reported).
 *
 *   libbpf_runner -i SUITE.yaml -d OBJ_DIR [-c ITERATIONS] [--expect-shim]
 *
 * --expect-shim: fail unless libuebpf-shim.so is loaded, so that a run
 * that reached the kernel instead cannot pass for one served by uebpf.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <link.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#define DATA 1024
#define MAX_CPUS 64

static yaml_document_t doc;
static int failed, passed;

static yaml_node_t *node(int id)
{
	return yaml_document_get_node(&doc, id);
}

static const char *str(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *get(yaml_node_t *m, const char *key)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++)
		if (str(node(p->key)) && !strcmp(str(node(p->key)), key))
			return node(p->value);
	return NULL;
}

struct run {
	pthread_t tid;
	int fd, cpu, err;
	unsigned repeat;
	struct bpf_test_run_opts opts;
	uint8_t in[DATA], out[DATA];
};

static void *run_thread(void *arg)
{
	struct run *r = arg;

	memset(&r->opts, 0, sizeof(r->opts));
	r->opts.sz = sizeof(r->opts);
	r->opts.repeat = (int)r->repeat;
	r->opts.cpu = (unsigned)r->cpu;
	r->opts.data_in = r->in;
	r->opts.data_out = r->out;
	r->opts.data_size_in = DATA;
	r->opts.data_size_out = DATA;
	r->err = bpf_prog_test_run_opts(r->fd, &r->opts);
	return NULL;
}

static void fail(const char *test, const char *what)
{
	fprintf(stderr, "FAIL %s: %s\n", test, what);
	failed++;
}

/* The CPUs of one program_cpu_assignment value; marks them in taken. */
static int cpus_of(yaml_node_t *v, int ncpus, bool *taken, int *cpus)
{
	int n = 0;

	if (str(v) && (!strcmp(str(v), "all") || !strcmp(str(v), "remaining"))) {
		bool all = !strcmp(str(v), "all");

		for (int c = 0; c < ncpus; c++)
			if (all || !taken[c])
				cpus[n++] = c;
	} else if (str(v)) {
		cpus[n++] = atoi(str(v));
	} else if (v && v->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *i = v->data.sequence.items.start;
		     i < v->data.sequence.items.top && n < MAX_CPUS; i++)
			cpus[n++] = atoi(str(node(*i)) ?: "0");
	}
	for (int i = 0; i < n; i++)
		if (cpus[i] >= 0 && cpus[i] < ncpus)
			taken[cpus[i]] = true;
	return n;
}

static void run_test(yaml_node_t *t, const char *dir, long iterations)
{
	const char *name = str(get(t, "name")), *elf = str(get(t, "elf_file"));
	const char *type_name = str(get(t, "program_type"));
	yaml_node_t *prep = get(t, "map_state_preparation"),
		    *assign = get(t, "program_cpu_assignment");
	unsigned expected = str(get(t, "expected_result"))
				    ? (unsigned)strtoul(str(get(t, "expected_result")), NULL, 0)
				    : 0;
	int ncpus = libbpf_num_possible_cpus();
	enum bpf_prog_type type = BPF_PROG_TYPE_XDP;
	enum bpf_attach_type attach;
	static struct run runs[MAX_CPUS];
	bool taken[MAX_CPUS] = {0};
	struct bpf_object *obj;
	struct bpf_program *p;
	char path[4096], msg[512];
	int nruns = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, elf ? elf : "?");
	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		fail(name, "bpf_object__open_file failed");
		return;
	}
	if (type_name && libbpf_prog_type_by_name(type_name, &type, &attach))
		fail(name, "unknown program_type");
	bpf_object__for_each_program(p, obj) bpf_program__set_type(p, type);
	if (bpf_object__load(obj)) {
		fail(name, "bpf_object__load failed");
		bpf_object__close(obj);
		return;
	}
	if (prep) {
		struct run *r = &runs[0];

		p = bpf_object__find_program_by_name(obj, str(get(prep, "program")) ?: "?");
		r->fd = p ? bpf_program__fd(p) : -1;
		r->repeat = (unsigned)atol(str(get(prep, "iteration_count")) ?: "1");
		r->cpu = 0;
		run_thread(r);
		if (r->err || r->opts.retval) {
			fail(name, "the map state preparation failed");
			bpf_object__close(obj);
			return;
		}
	}
	for (yaml_node_pair_t *a = assign ? assign->data.mapping.pairs.start : NULL;
	     a && a < assign->data.mapping.pairs.top; a++) {
		int cpus[MAX_CPUS], n = cpus_of(node(a->value), ncpus, taken, cpus);

		p = bpf_object__find_program_by_name(obj, str(node(a->key)) ?: "?");
		for (int i = 0; i < n && nruns < MAX_CPUS; i++) {
			struct run *r = &runs[nruns++];

			memset(r->in, 0, sizeof(r->in));
			r->fd = p ? bpf_program__fd(p) : -1;
			r->cpu = cpus[i];
			r->repeat = (unsigned)(iterations > 0 ? iterations
							      : atol(str(get(t, "iteration_count"))
									     ?: "1"));
			pthread_create(&r->tid, NULL, run_thread, r);
		}
	}
	for (int i = 0; i < nruns; i++)
		pthread_join(runs[i].tid, NULL);
	printf("%s", name);
	for (int i = 0; i < nruns; i++)
		printf(",%u", runs[i].opts.duration);
	printf("\n");
	for (int i = 0; i < nruns; i++) {
		if (runs[i].err || runs[i].opts.retval != expected) {
			snprintf(msg, sizeof(msg), "CPU %d: error %d, returned %u, expected %u",
				 runs[i].cpu, runs[i].err, runs[i].opts.retval, expected);
			fail(name, msg);
			bpf_object__close(obj);
			return;
		}
	}
	passed++;
	bpf_object__close(obj);
}

static int find_shim(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	if (strstr(info->dlpi_name, "libuebpf-shim"))
		*(bool *)arg = true;
	return 0;
}

int main(int argc, char **argv)
{
	const char *suite = NULL, *dir = ".";
	long iterations = 0;
	bool expect_shim = false, shim = false;
	yaml_parser_t parser;
	yaml_node_t *tests;
	FILE *f;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-i") && i + 1 < argc)
			suite = argv[++i];
		else if (!strcmp(argv[i], "-d") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "-c") && i + 1 < argc)
			iterations = atol(argv[++i]);
		else if (!strcmp(argv[i], "--expect-shim"))
			expect_shim = true;
		else
			suite = NULL, i = argc;
	}
	if (!suite) {
		fprintf(stderr, "usage: libbpf_runner -i SUITE.yaml -d OBJ_DIR [-c ITERATIONS] "
				"[--expect-shim]\n");
		return 2;
	}
	dl_iterate_phdr(find_shim, &shim);
	if (expect_shim && !shim) {
		fprintf(stderr, "libbpf_runner: libuebpf-shim.so is not loaded (LD_PRELOAD)\n");
		return 1;
	}
	f = fopen(suite, "r");
	if (!f || !yaml_parser_initialize(&parser)) {
		perror(suite);
		return 1;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc) ||
	    !(tests = get(yaml_document_get_root_node(&doc), "tests")) ||
	    tests->type != YAML_SEQUENCE_NODE) {
		fprintf(stderr, "libbpf_runner: %s: not a suite\n", suite);
		return 1;
	}
	printf("Test,Duration (ns) on each CPU assigned\n");
	for (yaml_node_item_t *i = tests->data.sequence.items.start;
	     i < tests->data.sequence.items.top; i++) {
		const char *platform = str(get(node(*i), "platform"));

		if (platform && strcmp(platform, "Linux"))
			continue;
		run_test(node(*i), dir, iterations);
	}
	printf("%d passed, %d failed\n", passed, failed);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return failed || !passed ? 1 : 0;
}
