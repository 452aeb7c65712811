// SPDX-License-Identifier: MIT
/*
 * A bpftool skeleton (global_data.skel.h) used as any libbpf tool uses one:
 * set .rodata before load, load, run the program, then read and write the
 * global variables through the skeleton's mmap of the maps (offset 0 of
 * each map fd). Built without uebpf: run plain it talks to the kernel
 * (skipped without the privilege to load), under LD_PRELOAD of
 * libuebpf-shim.so to uebpf, and the checks are the same.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>

#include "check.h"
#include "global_data.skel.h"

int main(void)
{
	struct global_data_bpf *skel = global_data_bpf__open();
	unsigned char pkt[40] = {0};
	uint64_t v = 0;
	uint32_t k = 0;
	int ret;

	if (!skel) {
		printf("open: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->factor = 4;
	ret = global_data_bpf__load(skel);
	if (ret == -EPERM) {
		printf("SKIP: loading needs privilege: %s\n", strerror(-ret));
		global_data_bpf__destroy(skel);
		return 77;
	}
	EXPECT(ret == 0, "load: %d", ret);
	if (ret) {
		global_data_bpf__destroy(skel);
		return check_summary();
	}
	for (int i = 0; i < 2; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = sizeof(pkt));
		ret = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.global_data), &t);
		EXPECT(ret == 0 && t.retval == 2, "run: %d retval %u", ret, t.retval);
	}
	EXPECT(skel->bss->calls == 2, ".bss through the skeleton's mmap: %llu",
	       (unsigned long long)skel->bss->calls);
	EXPECT(skel->data->total == 18, ".data: 10 + 2 * 4 = %llu",
	       (unsigned long long)skel->data->total);
	EXPECT(skel->rodata->factor == 4, ".rodata");
	skel->bss->calls = 50;
	ret = bpf_map_lookup_elem(bpf_map__fd(skel->maps.bss), &k, &v);
	EXPECT(ret == 0 && v == 50, "a write through the mmap is seen by lookup: %llu",
	       (unsigned long long)v);
	k = 1;
	ret = bpf_map_lookup_elem(bpf_map__fd(skel->maps.counts), &k, &v);
	EXPECT(ret == 0 && v == 8, "counts[1] = 2 * 4: %llu", (unsigned long long)v);
	global_data_bpf__destroy(skel);
	return check_summary();
}
