// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "rules.h"
#include "vtest.h"

char *vt_read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long len;

	if (!f || fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		goto fail;
	buf = malloc((size_t)len + 1);
	if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len)
		goto fail;
	buf[len] = 0;
	fclose(f);
	return buf;
fail:
	fprintf(stderr, "cannot read %s\n", path);
	free(buf);
	if (f)
		fclose(f);
	return NULL;
}

uint64_t vt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static enum bpf_prog_type kernel_type(enum uebpf_prog_type type)
{
	switch (type) {
	case UEBPF_PROG_SCHED_CLS:
		return BPF_PROG_TYPE_SCHED_CLS;
	case UEBPF_PROG_XDP:
		return BPF_PROG_TYPE_XDP;
	case UEBPF_PROG_KPROBE:
		return BPF_PROG_TYPE_KPROBE;
	case UEBPF_PROG_RAW_TRACEPOINT:
		return BPF_PROG_TYPE_RAW_TRACEPOINT;
	case UEBPF_PROG_TRACEPOINT:
		return BPF_PROG_TYPE_TRACEPOINT;
	default:
		return BPF_PROG_TYPE_SOCKET_FILTER;
	}
}

int vt_kernel_verdict(enum uebpf_prog_type type, const struct isa_insn *insns, size_t n, char *log,
		      size_t log_len, uint64_t *ns)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts);
	uint64_t t0 = vt_now_ns();
	int fd;

	if (log_len)
		log[0] = 0;
	/* timed without a log, which costs the kernel time; asked for again on failure */
	fd = bpf_prog_load(kernel_type(type), NULL, "GPL", (const struct bpf_insn *)insns, n,
			   &opts);
	if (ns)
		*ns = vt_now_ns() - t0;
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (log_len) {
		opts.log_buf = log;
		opts.log_size = (uint32_t)log_len;
		opts.log_level = 1;
		if (bpf_prog_load(kernel_type(type), NULL, "GPL", (const struct bpf_insn *)insns, n,
				  &opts) >= 0)
			snprintf(log, log_len, "accepted when loaded again with a log");
	}
	return fd;
}

int vt_kernel_stats(enum uebpf_prog_type type, const struct isa_insn *insns, size_t n,
		    unsigned *verify_us, unsigned *processed)
{
	static char log[4096];
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log, .log_size = sizeof(log),
		    .log_level = 4 /* BPF_LOG_STATS */);
	const char *p;
	int fd;

	log[0] = 0;
	fd = bpf_prog_load(kernel_type(type), NULL, "GPL", (const struct bpf_insn *)insns, n,
			   &opts);
	if (fd < 0)
		return fd;
	close(fd);
	p = strstr(log, "verification time ");
	if (!p || sscanf(p, "verification time %u usec", verify_us) != 1)
		return -EPROTO;
	p = strstr(log, "processed ");
	if (!p || sscanf(p, "processed %u insns", processed) != 1)
		return -EPROTO;
	return 0;
}

bool vt_kernel_available(char *why, size_t len)
{
	static const struct isa_insn ret0[] = {
		{.opcode = ISA_ALU64 | ISA_MOV | ISA_K, .dst = 0},
		{.opcode = ISA_OP_EXIT},
	};
	int ret;

	if (geteuid()) {
		snprintf(why, len, "not root: the kernel verifier half needs CAP_BPF");
		return false;
	}
	ret = vt_kernel_verdict(UEBPF_PROG_SOCKET_FILTER, ret0, 2, NULL, 0, NULL);
	if (ret) {
		snprintf(why, len, "bpf(BPF_PROG_LOAD): %s", strerror(-ret));
		return false;
	}
	return true;
}

int vt_kernel_maps(const struct rule_map *maps, unsigned n, int *fds)
{
	for (unsigned i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = maps[i].flags);
		char value[64] = "hi";
		uint32_t key = 0;

		fds[i] = bpf_map_create((enum bpf_map_type)maps[i].type, NULL, maps[i].key_size,
					maps[i].value_size, maps[i].max_entries, &o);
		if (fds[i] < 0)
			return fds[i];
		if (maps[i].flags & BPF_F_RDONLY_PROG) {
			if (bpf_map_update_elem(fds[i], &key, value, 0) || bpf_map_freeze(fds[i]))
				return -errno;
		}
	}
	return 0;
}
