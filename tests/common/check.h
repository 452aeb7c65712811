/* SPDX-License-Identifier: MIT */
/*
 * What the unit tests share: EXPECT counts a check and prints a failed one
 * with where it is; check_summary prints the counts and gives the exit
 * status. One binary per module includes it once.
 */
#ifndef UEBPF_TESTS_CHECK_H
#define UEBPF_TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int passed, failed;

#define EXPECT(cond, ...)                                                                          \
	do {                                                                                       \
		if (cond) {                                                                        \
			passed++;                                                                  \
		} else {                                                                           \
			failed++;                                                                  \
			printf("FAIL %s:%d: ", __func__, __LINE__);                                \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
		}                                                                                  \
	} while (0)

/* EXPECT, and a failure ends the test there: what follows cannot run without it. */
#define REQUIRE(cond, ...)                                                                         \
	do {                                                                                       \
		int ok_ = !!(cond); /* once: cond may have side effects */                        \
		EXPECT(ok_, __VA_ARGS__);                                                          \
		if (!ok_)                                                                          \
			exit(check_summary());                                                     \
	} while (0)

/* A call that returns 0 or -errno, expected to give want. */
#define EXPECT_RET(call, want)                                                                     \
	do {                                                                                       \
		int ret_ = (call);                                                                 \
		EXPECT(ret_ == (want), "%s = %d, want %d", #call, ret_, (want));                   \
	} while (0)

static inline int check_summary(void)
{
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

#endif
