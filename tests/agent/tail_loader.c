// SPDX-License-Identifier: MIT
/*
 * The tail-call test's loader (plain libbpf, no uebpf code): usage
 * tail_loader OBJ. Loads OBJ (libbpf fills the PROG_ARRAY slots its
 * .values name), puts tail_c into slot 2 of jmp itself, attaches on_work
 * only, prints "ready", waits for its standard input to close and prints
 * every map that holds counts.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "map_dump.h"

static int print_warnings(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

int main(int argc, char **argv)
{
	struct bpf_program *on_work, *tail_c;
	struct bpf_link *link = NULL;
	struct bpf_object *obj;
	struct bpf_map *m, *jmp;
	int ret = 1, fd;
	__u32 slot = 2;
	char buf[256];

	if (argc != 2) {
		fprintf(stderr, "usage: tail_loader OBJ\n");
		return 2;
	}
	libbpf_set_print(print_warnings);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "tail_loader: %s: cannot load: %s\n", argv[1], strerror(errno));
		bpf_object__close(obj);
		return 1;
	}
	on_work = bpf_object__find_program_by_name(obj, "on_work");
	tail_c = bpf_object__find_program_by_name(obj, "tail_c");
	jmp = bpf_object__find_map_by_name(obj, "jmp");
	if (!on_work || !tail_c || !jmp) {
		fprintf(stderr, "tail_loader: %s lacks on_work, tail_c or jmp\n", argv[1]);
		goto out;
	}
	fd = bpf_program__fd(tail_c);
	if (bpf_map_update_elem(bpf_map__fd(jmp), &slot, &fd, BPF_ANY)) {
		fprintf(stderr, "tail_loader: jmp[2] = tail_c: %s\n", strerror(errno));
		goto out;
	}
	link = bpf_program__attach(on_work);
	if (!link) {
		fprintf(stderr, "tail_loader: cannot attach on_work: %s\n", strerror(errno));
		goto out;
	}
	printf("ready\n");
	fflush(stdout);
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	bpf_object__for_each_map(m, obj) if (bpf_map__type(m) == BPF_MAP_TYPE_HASH)
		map_dump(stdout, m);
	ret = 0;
out:
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return ret;
}
