// SPDX-License-Identifier: MIT
/*
 * A helper in a shared library of its own: mapped among the libraries, far
 * from the executable, so that the JIT code placed near the executable's
 * functions cannot reach it with a rel32 call.
 */
#include <stdint.h>

uint64_t jit_test_far_helper(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e);

uint64_t jit_test_far_helper(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	(void)b, (void)c, (void)d, (void)e;
	return a * 3;
}
