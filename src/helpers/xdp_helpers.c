// SPDX-License-Identifier: MIT
/*
 * bpf_xdp_adjust_head and bpf_xdp_adjust_tail over the XDP context a test
 * run builds (syscall/ctx.h): struct xdp_md with real 32-bit addresses,
 * followed by the frame's bounds.
 *
 * The kernel's rules: data may move down to the end of the xdp_frame the
 * kernel keeps at the start of the headroom (frame_start) plus the
 * metadata's length, and up to ETH_HLEN bytes before data_end; data_meta
 * moves with data, the metadata copied along. data_end may move up to the
 * frame's hard end (frame_end: the frame's size less the skb_shared_info
 * the kernel reserves) and down to ETH_HLEN bytes past data; the bytes a
 * packet grows by are zeroed. Anything else is -EINVAL.
 *
 * The context lies in the program's memory, which it can write: every bound
 * is checked against the run's memory before use, and a context whose
 * fields do not make sense (frame_start <= data_meta <= data <= data_end
 * <= frame_end, all past the context and inside the memory) is refused
 * with -EINVAL, so the helpers never move or clear bytes outside it.
 */
#include <string.h>

#include "helpers/internal.h"
#include "syscall/ctx.h"

#define ETH_HLEN 14

/* The test run's XDP context at r1, or NULL when it is none or is inconsistent. */
static struct sys_xdp_ctx *xdp_ctx(uint64_t r1)
{
	const struct vm_run *run = vm_current_run;
	struct sys_xdp_ctx *x = (struct sys_xdp_ctx *)(uintptr_t)r1;
	uint64_t lo, hi;

	if (!run || r1 < run->mem || r1 - run->mem > run->mem_len ||
	    run->mem_len - (r1 - run->mem) < sizeof(*x))
		return NULL;
	lo = r1 + sizeof(*x);
	hi = run->mem + run->mem_len;
	if (x->frame_start < lo || x->frame_end > hi || x->md.data_meta < x->frame_start ||
	    x->md.data < x->md.data_meta || x->md.data_end < x->md.data ||
	    x->frame_end < x->md.data_end)
		return NULL;
	return x;
}

HELPER(xdp_adjust_head)
{
	struct sys_xdp_ctx *x = xdp_ctx(r1);
	int64_t delta = (int32_t)r2;
	uint32_t metalen;
	int64_t data;

	(void)r3, (void)r4, (void)r5;
	if (!x)
		return helper_err(EINVAL);
	metalen = x->md.data - x->md.data_meta;
	data = (int64_t)x->md.data + delta;
	if (data < (int64_t)x->frame_start + metalen || data > (int64_t)x->md.data_end - ETH_HLEN)
		return helper_err(EINVAL);
	if (metalen)
		memmove((void *)(uintptr_t)(x->md.data_meta + delta),
			(void *)(uintptr_t)x->md.data_meta, metalen);
	x->md.data_meta = (uint32_t)(x->md.data_meta + delta);
	x->md.data = (uint32_t)data;
	return 0;
}

HELPER(xdp_adjust_tail)
{
	struct sys_xdp_ctx *x = xdp_ctx(r1);
	int64_t delta = (int32_t)r2;
	int64_t end;

	(void)r3, (void)r4, (void)r5;
	if (!x)
		return helper_err(EINVAL);
	end = (int64_t)x->md.data_end + delta;
	if (end > (int64_t)x->frame_end || end < (int64_t)x->md.data + ETH_HLEN)
		return helper_err(EINVAL);
	if (delta > 0)
		memset((void *)(uintptr_t)x->md.data_end, 0, (size_t)delta);
	x->md.data_end = (uint32_t)end;
	return 0;
}
