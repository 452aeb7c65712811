// SPDX-License-Identifier: MIT
/* The clock every benchmark times its slices with. */
#include <time.h>

#include "benchlib.h"

uint64_t benchlib_thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
