// SPDX-License-Identifier: MIT
/*
 * The loader of loader.c written the bpftool skeleton way: counter.skel.h's
 * open_and_load and attach (auto-attach of every program by its section
 * name), "ready", then every map once standard input closes.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "counter.skel.h"
#include "map_dump.h"

int main(void)
{
	struct counter_bpf *skel = counter_bpf__open_and_load();
	struct bpf_map *m;
	char buf[256];
	int ret;

	if (!skel) {
		fprintf(stderr, "skel_loader: open_and_load: %s\n", strerror(errno));
		return 1;
	}
	ret = counter_bpf__attach(skel);
	if (ret) {
		fprintf(stderr, "skel_loader: attach: %s\n", strerror(-ret));
		counter_bpf__destroy(skel);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	bpf_object__for_each_map(m, skel->obj) if (bpf_map__type(m) != BPF_MAP_TYPE_RINGBUF)
		map_dump(stdout, m);
	counter_bpf__destroy(skel);
	return 0;
}
