// SPDX-License-Identifier: MIT
/*
 * uebpf-suite-kernel: the kernel column of `uebpf bench`. Built without
 * uebpf's syscall() interposition, so libbpf's bpf() calls reach the
 * kernel. Loads one test's object for one data size and serves slices
 * (protocol in kernel_client.c).
 *
 *   uebpf-suite-kernel SUITE.yaml TEST_INDEX SIZE OBJECT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"

static int serve(struct suite_obj *o)
{
	struct suite_slice res;
	char line[128], err[512];
	unsigned long long n;
	int ref;

	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "run %llu %d", &n, &ref) != 2) {
			printf("error bad request '%.60s'\n", line);
			return 1;
		}
		if (suite_obj_slice(o, n, ref, &res, err, sizeof(err))) {
			printf("error %s\n", err);
		} else {
			printf("ok %zu", res.nthreads);
			for (size_t i = 0; i < res.nthreads; i++)
				printf(" %d %.0f %u %.0f %.0f", res.cpu[i], res.ns[i],
				       res.retval[i], res.ref_before[i], res.ref_after[i]);
			putchar('\n');
		}
		fflush(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct suite_obj *o;
	struct suite s;
	char err[512];
	unsigned long idx, size;
	int ret;

	if (argc != 5) {
		fprintf(stderr, "usage: uebpf-suite-kernel SUITE.yaml TEST_INDEX SIZE OBJECT\n");
		return 2;
	}
	if (suite_parse_file(argv[1], &s, err, sizeof(err))) {
		printf("error %s\n", err);
		return 1;
	}
	idx = strtoul(argv[2], NULL, 10);
	size = strtoul(argv[3], NULL, 10);
	if (idx >= s.ntests || size > 65535) {
		printf("error no test %lu of size %lu in %s\n", idx, size, argv[1]);
		suite_free(&s);
		return 1;
	}
	s.tests[idx].elf_path = strdup(argv[4]);
	ret = s.tests[idx].elf_path
		      ? suite_obj_open(&s.tests[idx], (uint32_t)size, true, &o, err, sizeof(err))
		      : -ENOMEM;
	if (ret == -EPERM || ret == -EACCES)
		printf("skip the kernel refuses to load BPF here (%s): root, or CAP_BPF and "
		       "CAP_PERFMON, is needed\n",
		       strerror(-ret));
	else if (ret == -ENOSYS)
		printf("skip this kernel has no bpf() system call\n");
	else if (ret)
		printf("error %s\n", err);
	else
		printf("ready\n");
	fflush(stdout);
	if (!ret) {
		ret = serve(o);
		suite_obj_close(o);
	}
	suite_free(&s);
	return ret ? 1 : 0;
}
