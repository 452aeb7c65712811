// SPDX-License-Identifier: MIT
/*
 * A libbpf loader as users write them, for the end-to-end tests: usage
 * loader OBJ. Opens and loads OBJ, attaches every program by its section
 * name (bpf_program__attach), prints "ready", then waits for its standard
 * input to close and prints every map (tools/common/map_dump.h). Built once
 * and run both plain (kernel uprobes) and under `uebpf load` (the shim).
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "map_dump.h"

#define MAX_LINKS 64

static int print_warnings(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

int main(int argc, char **argv)
{
	struct bpf_link *links[MAX_LINKS];
	struct bpf_object *obj;
	struct bpf_program *p;
	struct bpf_map *m;
	int n = 0, ret = 0;
	char buf[256];

	if (argc != 2) {
		fprintf(stderr, "usage: loader OBJ\n");
		return 2;
	}
	libbpf_set_print(print_warnings);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "loader: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "loader: %s: cannot load: %s\n", argv[1], strerror(errno));
		bpf_object__close(obj);
		return 1;
	}
	bpf_object__for_each_program(p, obj)
	{
		if (n == MAX_LINKS || !(links[n] = bpf_program__attach(p))) {
			fprintf(stderr, "loader: cannot attach %s: %s\n", bpf_program__name(p),
				strerror(errno));
			ret = 1;
			goto out;
		}
		n++;
	}
	printf("ready\n");
	fflush(stdout);
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	bpf_object__for_each_map(m, obj) if (bpf_map__type(m) != BPF_MAP_TYPE_RINGBUF)
		map_dump(stdout, m);
out:
	while (n--)
		bpf_link__destroy(links[n]);
	bpf_object__close(obj);
	return ret;
}
