/* SPDX-License-Identifier: MIT */
/* The id tracefs gives a tracepoint (what libbpf reads too), for the tests' own perf_event_open. */
#ifndef UEBPF_TEST_TP_ID_H
#define UEBPF_TEST_TP_ID_H

/* The id of CATEGORY/NAME under /sys/kernel/tracing/events, or -1. */
int tracepoint_id(const char *category, const char *name);

#endif
