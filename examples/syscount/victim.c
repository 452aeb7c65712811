// SPDX-License-Identifier: MIT
/* syscount's example target: N getpid calls (N the argument), then it prints them. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10;

	for (int i = 0; i < n; i++)
		syscall(SYS_getpid);
	printf("%d getpid calls made\n", n);
	return 0;
}
