// SPDX-License-Identifier: MIT
/*
 * The object the tests inject: functions that leave a trace of having run
 * in the target, and ones that go wrong in the ways a call can.
 */
#include <stdio.h>
#include <unistd.h>

int inject_test_data = 42;
static int calls;

/* Writes "ran in PID" into the file named by path; the number of calls so far. */
int inject_test_mark(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "ran in %d\n", (int)getpid());
	fclose(f);
	return ++calls;
}

/*
 * The number of calls so far; it also leaves all-ones (a NaN) in every
 * xmm register, as any function may, so that a thread whose vector state
 * were not given back would compute with it.
 */
int inject_test_calls(void)
{
	__asm__ volatile("pcmpeqd %%xmm0, %%xmm0\n\tpcmpeqd %%xmm1, %%xmm1\n\t"
			 "pcmpeqd %%xmm2, %%xmm2\n\tpcmpeqd %%xmm3, %%xmm3\n\t"
			 "pcmpeqd %%xmm4, %%xmm4\n\tpcmpeqd %%xmm5, %%xmm5\n\t"
			 "pcmpeqd %%xmm6, %%xmm6\n\tpcmpeqd %%xmm7, %%xmm7\n\t"
			 "pcmpeqd %%xmm8, %%xmm8\n\tpcmpeqd %%xmm9, %%xmm9\n\t"
			 "pcmpeqd %%xmm10, %%xmm10\n\tpcmpeqd %%xmm11, %%xmm11\n\t"
			 "pcmpeqd %%xmm12, %%xmm12\n\tpcmpeqd %%xmm13, %%xmm13\n\t"
			 "pcmpeqd %%xmm14, %%xmm14\n\tpcmpeqd %%xmm15, %%xmm15" ::
				 : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
				   "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",
				   "xmm15");
	return ++calls;
}

int inject_test_negative(void)
{
	return -22;
}

int inject_test_trap(void)
{
	__builtin_trap();
}

/* Never returns: blocks in pause() for good. */
int inject_test_block(void)
{
	for (;;)
		pause();
}

int inject_test_exit(void)
{
	_exit(3);
}
