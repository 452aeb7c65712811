/* SPDX-License-Identifier: MIT */
/*
 * The contexts BPF_PROG_TEST_RUN gives network programs, for the helpers
 * that move packet bounds (bpf_xdp_adjust_head/tail).
 *
 * The kernel's verifier rewrites the 32-bit data and data_end fields of
 * struct xdp_md and struct __sk_buff into pointers; uebpf does not rewrite,
 * so a test run places context and packet in one buffer below 4 GiB and the
 * 32-bit fields hold real addresses. The program runs with that buffer as
 * its memory (r1 = the context at its start).
 *
 * XDP: struct sys_xdp_ctx, then XDP_PACKET_HEADROOM bytes, the packet, and
 * SYS_TEST_TAILROOM bytes. data may move down to frame_start and data_end
 * up to frame_end; data_meta equals data (no metadata).
 */
#ifndef UEBPF_SYSCALL_CTX_H
#define UEBPF_SYSCALL_CTX_H

#include <linux/bpf.h>
#include <stdint.h>

#define SYS_TEST_HEADROOM 256 /* XDP_PACKET_HEADROOM */
#define SYS_TEST_TAILROOM 256

struct sys_xdp_ctx {
	struct xdp_md md;
	uint32_t frame_start; /* lowest address data may take */
	uint32_t frame_end;   /* highest address data_end may take */
};

#endif
