// SPDX-License-Identifier: MIT
/* A shared library with a function to probe, loaded by the probe tests with dlopen. */
__attribute__((noinline)) long lib_sum(const long *v, long n)
{
	long s = 0;

	for (long i = 0; i < n; i++)
		s += v[i];
	return s;
}
