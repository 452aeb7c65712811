// SPDX-License-Identifier: MIT
/*
 * The kernel runner, on libbpf's thin wrappers of the bpf() syscall. A
 * socket filter is the simplest program type BPF_PROG_TEST_RUN can run: it
 * needs no attach target, and its return value comes back unchanged.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "kernel_run.h"

_Static_assert(sizeof(struct bpf_insn) == sizeof(struct isa_insn),
	       "the kernel's instruction layout is the ISA's");

/* A socket filter's test run wants at least an Ethernet header of packet. */
#define KERNEL_PACKET_LEN 64

/* The verifier refuses log buffers outside these bounds. */
#define KERNEL_LOG_MIN 128
#define KERNEL_LOG_MAX (UINT32_MAX >> 2)

int kernel_prog_load(const struct isa_insn *insns, size_t n, char *log, size_t log_len)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts);

	if (log && log_len)
		log[0] = '\0';
	if (log && log_len >= KERNEL_LOG_MIN) {
		/*
		 * With log_level 0 libbpf loads without a log, which is faster,
		 * and loads again with one only when the first load fails.
		 */
		opts.log_buf = log;
		opts.log_size = log_len > KERNEL_LOG_MAX ? KERNEL_LOG_MAX : (uint32_t)log_len;
	}
	return bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, NULL, "MIT",
			     (const struct bpf_insn *)insns, n, &opts);
}

int kernel_prog_run(int fd, uint32_t *retval)
{
	uint8_t packet[KERNEL_PACKET_LEN] = {0};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = sizeof(packet),
		    .repeat = 1);
	int ret;

	ret = bpf_prog_test_run_opts(fd, &opts);
	if (ret)
		return ret;
	*retval = opts.retval;
	return 0;
}

bool kernel_bpf_available(char *why, size_t len)
{
	static const struct isa_insn ret0[] = {
		{.opcode = ISA_ALU64 | ISA_MOV | ISA_K},
		{.opcode = ISA_OP_EXIT},
	};
	uint32_t retval;
	int fd, ret;

	fd = kernel_prog_load(ret0, 2, NULL, 0);
	if (fd < 0) {
		snprintf(why, len, "bpf(BPF_PROG_LOAD): %s", strerror(-fd));
		return false;
	}
	ret = kernel_prog_run(fd, &retval);
	close(fd);
	if (ret) {
		snprintf(why, len, "bpf(BPF_PROG_TEST_RUN): %s", strerror(-ret));
		return false;
	}
	return true;
}
