// SPDX-License-Identifier: MIT
/*
 * The C++ victim of test_cxx.c: cxx_top(x) calls cxx_outer, which catches
 * what cxx_middle (a frame with a destructor: a cleanup on the way) lets
 * through from cxx_inner, which throws for x < 0. Every function is a
 * separate frame (noipa), none a tail call.
 */
#include <stdexcept>

static long guards;

namespace {
struct guard {
	~guard()
	{
		guards++;
	}
};
} // namespace

extern "C" {

__attribute__((noipa)) long cxx_inner(long x)
{
	if (x < 0)
		throw std::runtime_error("negative");
	return x + 1;
}

__attribute__((noipa)) long cxx_middle(long x)
{
	guard g;

	return cxx_inner(x) * 2;
}

__attribute__((noipa)) long cxx_outer(long x)
{
	try {
		return cxx_middle(x) + 1;
	} catch (const std::exception &) {
		return -1;
	}
}

__attribute__((noipa)) long cxx_top(long x)
{
	return cxx_outer(x) + 1000;
}

long cxx_guards(void)
{
	return guards;
}
}
