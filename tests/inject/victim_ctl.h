/* SPDX-License-Identifier: MIT */
/* Starting and stopping the victim program, and watching its counters. */
#ifndef UEBPF_TESTS_INJECT_VICTIM_CTL_H
#define UEBPF_TESTS_INJECT_VICTIM_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "victim.h"

struct victim {
	pid_t pid;
	int stdin_fd; /* write end of the victim's stdin */
	struct victim_stats *stats;
};

/* Start exe (argv: exe, the stats file, extra...) and wait until it is ready; 0 or -errno. */
int victim_start(struct victim *v, const char *exe, const char *const *extra);
/* Ask it to quit, wait for it: its wait status, or -1 if it did not end in 10 s. */
int victim_stop(struct victim *v);
/* Wait until *field > above (a counter of stats); false after timeout_ms. */
bool victim_wait_above(const uint64_t *field, uint64_t above, int timeout_ms);
uint64_t victim_read(const uint64_t *field);

#endif
