// SPDX-License-Identifier: MIT
/*
 * Perf event arrays and ring buffers through libbpf's consumers:
 * rings_reader (see there) with uebpf's interposition linked in must get
 * every record, in order, with the kernel's sizes, on CPU 0, and emit's
 * error codes; the plain reader under libuebpf-shim.so the same; and the
 * plain reader on the kernel (BPF_PROG_TEST_RUN of the same XDP program
 * into kernel perf buffers) exactly what uebpf gave, skipped with the
 * reason where the kernel refuses.
 *
 * usage: test_rings READER_UEBPF READER_PLAIN SHIM OBJ
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "child.h"

#define RUNS 3
#define PER_RUN 6

static const unsigned sizes[PER_RUN] = {4, 5, 8, 13, 24, 64};

static char *run(const char *env, int *status, const char *reader, const char *obj)
{
	char runs[8];
	char *argv[] = {(char *)reader, (char *)obj, runs, NULL};

	snprintf(runs, sizeof(runs), "%d", RUNS);
	return child_run(argv, env, status);
}

static void append(char **s, size_t *len, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	*s = realloc(*s, *len + (size_t)n + 1);
	memcpy(*s + *len, p, (size_t)n + 1);
	*len += (size_t)n;
	free(p);
}

static void bytes(char **s, size_t *len, unsigned seq, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		append(s, len, "%02x", i < 4 ? (seq >> (8 * i)) & 0xff : (seq + i) & 0xff);
	append(s, len, "\n");
}

/* What the reader prints for RUNS runs of emit: perf records, then the ring's. */
static char *expected(void)
{
	size_t len = 0;
	char *s = NULL;

	append(&s, &len, "%s", "");
	for (unsigned seq = 0; seq < RUNS * PER_RUN; seq++) {
		unsigned n = sizes[seq % PER_RUN];

		append(&s, &len, "perf cpu 0 size %u bytes size %u:", ((n + 4 + 7) & ~7u) - 4, n);
		bytes(&s, &len, seq, n);
	}
	for (unsigned seq = 0; seq < RUNS * PER_RUN; seq++) {
		append(&s, &len, "ring size %u:", sizes[seq % PER_RUN]);
		bytes(&s, &len, seq, sizes[seq % PER_RUN]);
	}
	append(&s, &len, "rets 0 0 0 0 0 0\nerrs -7 -22 -95\n");
	return s;
}

int main(int argc, char **argv)
{
	char *want, *got, *shim, *kernel, env[4096];
	int status;

	if (argc != 5) {
		fprintf(stderr, "usage: test_rings READER_UEBPF READER_PLAIN SHIM OBJ\n");
		return 2;
	}
	want = expected();
	got = run(NULL, &status, argv[1], argv[4]);
	EXPECT(status == 0, "in-process reader: exit %d", status);
	EXPECT(!strcmp(got, want), "in-process reader:\n%s--- want ---\n%s", got, want);

	snprintf(env, sizeof(env), "LD_PRELOAD=%s", argv[3]);
	shim = run(env, &status, argv[2], argv[4]);
	EXPECT(status == 0, "reader under the shim: exit %d", status);
	EXPECT(!strcmp(shim, want), "reader under the shim:\n%s--- want ---\n%s", shim, want);

	kernel = run(NULL, &status, argv[2], argv[4]);
	if (status == 77 || (status != 0 && strstr(kernel, "cannot load"))) {
		printf("SKIP: kernel side: the kernel refuses the object here:\n%s", kernel);
	} else {
		EXPECT(status == 0, "kernel reader: exit %d:\n%s", status, kernel);
		EXPECT(!strcmp(kernel, got), "kernel:\n%s--- uebpf ---\n%s", kernel, got);
	}
	free(want);
	free(got);
	free(shim);
	free(kernel);
	return check_summary();
}
