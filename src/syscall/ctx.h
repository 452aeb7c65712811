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
 * XDP, as the kernel's test run lays out a frame: struct sys_xdp_ctx, then
 * the frame: XDP_PACKET_HEADROOM bytes (the first SYS_XDP_FRAME_HDR of
 * them the kernel's struct xdp_frame, which data may not move into), the
 * packet, and room to grow. The kernel's frame is a page whose last
 * SYS_XDP_SHINFO bytes are reserved (skb_shared_info), so a packet may
 * grow up to SYS_XDP_FRAME_SZ - SYS_XDP_SHINFO bytes past the frame's
 * start. A longer packet, which the kernel would split into fragments,
 * stays whole here and may grow by SYS_TEST_TAILROOM. data may move down
 * to frame_start and data_end up to frame_end; data_meta equals data (no
 * metadata) until the program moves it.
 */
#ifndef UEBPF_SYSCALL_CTX_H
#define UEBPF_SYSCALL_CTX_H

#include <linux/bpf.h>
#include <stdint.h>

#define SYS_TEST_HEADROOM 256 /* XDP_PACKET_HEADROOM */
#define SYS_TEST_TAILROOM 256
#define SYS_XDP_FRAME_HDR 40  /* sizeof(struct xdp_frame) */
#define SYS_XDP_FRAME_SZ 4096 /* the frame: one page */
#define SYS_XDP_SHINFO 320    /* SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) */

struct sys_xdp_ctx {
	struct xdp_md md;
	uint32_t frame_start; /* lowest address data may take */
	uint32_t frame_end;   /* highest address data_end may take */
};

#endif
