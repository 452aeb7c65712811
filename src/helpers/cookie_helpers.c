// SPDX-License-Identifier: MIT
/*
 * bpf_get_attach_cookie: the 64-bit value the program's attachment was
 * given (BPF_LINK_CREATE's perf_event.bpf_cookie; libbpf's USDT support
 * puts its spec ID there). Whatever runs a program for an attachment
 * publishes its cookie on the thread around the run (helpers.h); a run
 * outside any attachment sees 0, as the kernel gives a program without one.
 */
#include "helpers/helpers.h"
#include "helpers/internal.h"

__thread uint64_t helpers_attach_cookie;

HELPER(get_attach_cookie)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
	return helpers_attach_cookie;
}
