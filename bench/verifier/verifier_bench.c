// SPDX-License-Identifier: MIT
/*
 * uebpf-bench-verifier: verification time and peak memory of uebpf's
 * verifier against the kernel's (its own "verification time" from the
 * log_level 4 statistics), in the same run, on generated programs: by size
 * (simple, medium, complex, near the 1M processed-instruction limit) and by
 * instruction class (ALU, memory, helper calls, map operations, branches
 * and loops). Each row also gives both verifiers' processed instructions
 * and states. Times are the median of a few runs each.
 *
 *   uebpf-bench-verifier [--csv FILE] [--runs N]
 *
 * Without root (or kernel BPF) the kernel columns are empty.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "isa/isa.h"
#include "verifier/verifier.h"

#define MAX_INSNS 20000
#define KLOG_LEN 4096

struct prog {
	struct isa_insn *insns;
	size_t n, cap;
};

static void emit(struct prog *p, struct isa_insn in)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 256;
		p->insns = realloc(p->insns, p->cap * sizeof(*p->insns));
		if (!p->insns) {
			fprintf(stderr, "out of memory\n");
			exit(1);
		}
	}
	p->insns[p->n++] = in;
}

#define INSN(op, d, s, o, i) \
	((struct isa_insn){.opcode = (op), .dst = (d), .src = (s), .off = (o), .imm = (i)})
#define MOV_K(d, i) INSN(ISA_ALU64 | ISA_MOV | ISA_K, d, 0, 0, i)
#define MOV_X(d, s) INSN(ISA_ALU64 | ISA_MOV | ISA_X, d, s, 0, 0)
#define ADD_K(d, i) INSN(ISA_ALU64 | ISA_ADD | ISA_K, d, 0, 0, i)
#define EXIT INSN(ISA_OP_EXIT, 0, 0, 0, 0)
#define CALL(id) INSN(ISA_OP_CALL, 0, 0, 0, id)

static void ret0(struct prog *p)
{
	emit(p, MOV_K(0, 0));
	emit(p, EXIT);
}

/* n ALU instructions mixing operations on r0-r3, then exit. */
static void gen_alu(struct prog *p, unsigned n)
{
	static const uint8_t ops[] = {ISA_ADD, ISA_SUB, ISA_MUL, ISA_OR, ISA_AND, ISA_XOR, ISA_LSH};

	for (unsigned r = 0; r < 4; r++)
		emit(p, MOV_K(r, (int32_t)r + 1));
	for (unsigned i = 0; i < n; i++)
		emit(p, INSN(ISA_ALU64 | ops[i % 7] | ISA_K, i % 4, 0, 0, (int32_t)(i % 13) + 1));
	emit(p, EXIT);
}

/* n stack stores and loads. */
static void gen_mem(struct prog *p, unsigned n)
{
	emit(p, MOV_K(0, 0));
	for (unsigned i = 0; i < n / 2; i++) {
		int16_t off = (int16_t)(-8 * (int)(1 + i % 64));

		emit(p, INSN(ISA_ST | ISA_MEM | ISA_DW, ISA_REG_FP, 0, off, (int32_t)i));
		emit(p, INSN(ISA_LDX | ISA_MEM | ISA_DW, 1, ISA_REG_FP, off, 0));
	}
	emit(p, EXIT);
}

/* n calls of bpf_ktime_get_ns. */
static void gen_helpers(struct prog *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		emit(p, CALL(BPF_FUNC_ktime_get_ns));
	emit(p, EXIT);
}

/* n unrolled hash lookups with a null check; map is the lddw's imm (an fd or an index). */
static void gen_maps(struct prog *p, unsigned n, int map)
{
	emit(p, INSN(ISA_ST | ISA_MEM | ISA_W, ISA_REG_FP, 0, -4, 0));
	for (unsigned i = 0; i < n; i++) {
		emit(p, MOV_X(2, ISA_REG_FP));
		emit(p, ADD_K(2, -4));
		emit(p, INSN(ISA_OP_LDDW, 1, ISA_PSEUDO_MAP_FD, 0, map));
		emit(p, INSN(0, 0, 0, 0, 0));
		emit(p, CALL(BPF_FUNC_map_lookup_elem));
		emit(p, INSN(ISA_JMP | ISA_JEQ | ISA_K, 0, 0, 1, 0));
		emit(p, INSN(ISA_LDX | ISA_MEM | ISA_DW, 3, 0, 0, 0));
	}
	ret0(p);
}

/* A loop of iters iterations of a few ALU instructions and a branch. */
static void gen_loop(struct prog *p, int iters)
{
	emit(p, MOV_K(0, 0));
	emit(p, MOV_K(1, 0));
	emit(p, ADD_K(0, 3));
	emit(p, INSN(ISA_ALU64 | ISA_XOR | ISA_K, 0, 0, 0, 5));
	emit(p, INSN(ISA_JMP | ISA_JSET | ISA_K, 0, 0, 1, 1));
	emit(p, ADD_K(0, 1));
	emit(p, ADD_K(1, 1));
	emit(p, INSN(ISA_JMP | ISA_JLT | ISA_K, 1, 0, -6, iters));
	emit(p, EXIT);
}

/* A medium program: ALU blocks separated by data-dependent branches. */
static void gen_medium(struct prog *p)
{
	emit(p, INSN(ISA_LDX | ISA_MEM | ISA_W, 2, 1, 0, 0));
	emit(p, MOV_K(0, 0));
	for (unsigned b = 0; b < 40; b++) {
		emit(p, INSN(ISA_JMP | ISA_JGT | ISA_K, 2, 0, 8, (int32_t)b * 7));
		for (unsigned i = 0; i < 8; i++)
			emit(p, INSN(ISA_ALU64 | (i & 1 ? ISA_ADD : ISA_XOR) | ISA_K, 0, 0, 0,
				     (int32_t)(b + i)));
	}
	emit(p, EXIT);
}

struct result {
	double us;
	uint64_t processed, states, peak_states, peak_mem;
	bool ok;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int map_of(void *ctx, const struct isa_insn *in, struct verifier_map *out)
{
	(void)ctx;
	(void)in;
	*out = (struct verifier_map){.type = BPF_MAP_TYPE_HASH,
				     .key_size = 4,
				     .value_size = 8,
				     .max_entries = 64,
				     .handle = map_of};
	return 0;
}

static struct result run_uebpf(const struct prog *p, enum uebpf_prog_type type, unsigned runs)
{
	struct verifier_opts o = {.type = type, .map_of = map_of};
	struct result r = {0};
	double t[16];
	char log[512];

	for (unsigned i = 0; i < runs; i++) {
		struct verifier_stats st;

		r.ok = !verifier_check(p->insns, p->n, &o, NULL, &st, log, sizeof(log));
		if (!r.ok) {
			fprintf(stderr, "uebpf rejects: %s", log);
			return r;
		}
		t[i] = st.time_ns / 1e3;
		r.processed = st.insns_processed;
		r.states = st.states_stored;
		r.peak_states = st.peak_states;
		r.peak_mem = st.peak_mem;
	}
	qsort(t, runs, sizeof(t[0]), cmp_double);
	r.us = t[runs / 2];
	return r;
}

static long long log_value(const char *log, const char *key)
{
	const char *p = strstr(log, key);

	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

static struct result run_kernel(const struct prog *p, enum bpf_prog_type type, int map_fd,
				unsigned runs)
{
	static char log[KLOG_LEN];
	struct isa_insn *copy = malloc(p->n * sizeof(*copy));
	struct result r = {0};
	double t[16];

	if (!copy)
		return r;
	memcpy(copy, p->insns, p->n * sizeof(*copy));
	for (size_t i = 0; i < p->n; i++)
		if (copy[i].opcode == ISA_OP_LDDW && copy[i].src == ISA_PSEUDO_MAP_FD)
			copy[i].imm = map_fd;
	for (unsigned i = 0; i < runs; i++) {
		LIBBPF_OPTS(bpf_prog_load_opts, o, .log_buf = log, .log_size = sizeof(log),
			    .log_level = 4);
		int fd;

		log[0] = 0;
		fd = bpf_prog_load(type, NULL, "GPL", (const struct bpf_insn *)copy, p->n, &o);
		if (fd < 0) {
			fprintf(stderr, "kernel rejects (%d): %.300s\n", fd, log);
			free(copy);
			return r;
		}
		close(fd);
		t[i] = (double)log_value(log, "verification time ");
		r.processed = (uint64_t)log_value(log, "processed ");
		r.states = (uint64_t)log_value(log, "total_states ");
		r.peak_states = (uint64_t)log_value(log, "peak_states ");
	}
	free(copy);
	qsort(t, runs, sizeof(t[0]), cmp_double);
	r.us = t[runs / 2];
	r.ok = true;
	return r;
}

int main(int argc, char **argv)
{
	const char *csv_path = NULL;
	unsigned runs = 5;
	bool kernel = geteuid() == 0;
	int map_fd = -1;
	FILE *csv = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--csv") && i + 1 < argc)
			csv_path = argv[++i];
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = (unsigned)strtoul(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: %s [--csv FILE] [--runs N]\n", argv[0]);
			return 2;
		}
	}
	if (!runs || runs > 16)
		runs = 5;
	if (kernel) {
		map_fd = bpf_map_create(BPF_MAP_TYPE_HASH, NULL, 4, 8, 64, NULL);
		kernel = map_fd >= 0;
	}
	if (!kernel)
		printf("kernel columns empty: needs root and kernel BPF\n");
	if (csv_path) {
		csv = fopen(csv_path, "w");
		if (!csv) {
			perror(csv_path);
			return 1;
		}
		fprintf(csv, "case,insns,uebpf_us,uebpf_processed,uebpf_states,uebpf_peak_states,"
			     "uebpf_peak_mem_bytes,kernel_us,kernel_processed,kernel_states,"
			     "kernel_peak_states,speedup\n");
	}
	printf("%-22s %6s | %10s %9s %7s %9s | %10s %9s %7s | %7s\n", "case", "insns", "uebpf us",
	       "processed", "states", "peak mem", "kernel us", "processed", "states", "speedup");
	for (unsigned c = 0; c < 10; c++) {
		static const char *const names[] = {
			"simple (r0=0; exit)",	 "medium (branches)", "complex (4004 ALU)",
			"near-limit (loop)",	 "class: ALU",	      "class: memory",
			"class: helper calls",	 "class: map ops",    "class: branches/loops",
			"1000 unrolled lookups",
		};
		struct prog p = {0};
		unsigned r_runs = runs;
		struct result u, k = {0};

		switch (c) {
		case 0:
			ret0(&p);
			break;
		case 1:
			gen_medium(&p);
			break;
		case 2:
			gen_alu(&p, 3999);
			break;
		case 3:
			gen_loop(&p, 160000);
			r_runs = 1;
			break;
		case 4:
			gen_alu(&p, 1000);
			break;
		case 5:
			gen_mem(&p, 1000);
			break;
		case 6:
			gen_helpers(&p, 1000);
			break;
		case 7:
			gen_maps(&p, 100, kernel ? map_fd : 0);
			break;
		case 8:
			gen_loop(&p, 1000);
			break;
		default:
			gen_maps(&p, 1000, kernel ? map_fd : 0);
			r_runs = 1;
			break;
		}
		u = run_uebpf(&p, UEBPF_PROG_SOCKET_FILTER, r_runs);
		if (kernel)
			k = run_kernel(&p, BPF_PROG_TYPE_SOCKET_FILTER, map_fd, r_runs);
		printf("%-22s %6zu | %10.1f %9llu %7llu %9llu | %10.1f %9llu %7llu | %6.2fx\n",
		       names[c], p.n, u.us, (unsigned long long)u.processed,
		       (unsigned long long)u.states, (unsigned long long)u.peak_mem,
		       k.ok ? k.us : 0.0, (unsigned long long)k.processed,
		       (unsigned long long)k.states, k.ok && u.us > 0 ? k.us / u.us : 0.0);
		if (csv)
			fprintf(csv, "%s,%zu,%.1f,%llu,%llu,%llu,%llu,%.1f,%llu,%llu,%llu,%.2f\n",
				names[c], p.n, u.us, (unsigned long long)u.processed,
				(unsigned long long)u.states, (unsigned long long)u.peak_states,
				(unsigned long long)u.peak_mem, k.ok ? k.us : 0.0,
				(unsigned long long)k.processed, (unsigned long long)k.states,
				(unsigned long long)k.peak_states,
				k.ok && u.us > 0 ? k.us / u.us : 0.0);
		free(p.insns);
	}
	if (csv)
		fclose(csv);
	if (map_fd >= 0)
		close(map_fd);
	return 0;
}
