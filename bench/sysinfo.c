// SPDX-License-Identifier: MIT
/*
 * What the figures depend on besides the code: the CPU, the kernel, the
 * compiler of the native twins and whether the kernel JITs BPF.
 */
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench.h"
#include "benchlib.h"

static void jit_setting(char *buf, size_t len)
{
	FILE *f = fopen("/proc/sys/net/core/bpf_jit_enable", "r");

	snprintf(buf, len, "?");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

void bench_print_system(FILE *f)
{
	struct utsname u;
	char cpu[256], jit[16];

	benchlib_cpu_model(cpu, sizeof(cpu));
	jit_setting(jit, sizeof(jit));
	if (uname(&u))
		snprintf(u.release, sizeof(u.release), "?");
	fprintf(f, "machine   %s, %ld CPUs online\n", cpu, sysconf(_SC_NPROCESSORS_ONLN));
	fprintf(f, "kernel    %s, bpf_jit_enable=%s\n", u.release, jit);
	fprintf(f, "compiler  %s (native twins, -O2)\n", benchlib_compiler());
}
