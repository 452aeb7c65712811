/* SPDX-License-Identifier: MIT */
/*
 * The victim's counters, in a file both the victim and the test map: the
 * test watches the victim's loops go on across injections, and that none
 * of them ever saw an interrupted system call or lost FPU state.
 */
#ifndef UEBPF_TESTS_INJECT_VICTIM_H
#define UEBPF_TESTS_INJECT_VICTIM_H

#include <stdint.h>

struct victim_stats {
	uint64_t ready;	     /* every thread has started */
	uint64_t quit;	     /* set by the test: stop and exit 0 */
	uint64_t ticks;	     /* calls of victim_tick by the main loop */
	uint64_t sleeps;     /* nanosleeps that slept their whole time and returned 0 */
	uint64_t bad_sleeps; /* ones that returned early or failed (EINTR leaked) */
	uint64_t reads;	     /* bytes read from stdin one read() at a time */
	uint64_t bad_reads;  /* read() failures (EINTR leaked) */
	uint64_t fp_bad;     /* the main loop's floating-point sum went wrong */
	uint64_t spawned;    /* short-lived threads started (churn mode) */
};

#endif
