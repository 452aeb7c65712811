// SPDX-License-Identifier: MIT
/*
 * What the figures depend on besides the code: the CPU, the kernel, the
 * compiler of the native twins and whether the kernel JITs BPF.
 */
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench.h"

/* The value of "key : value" lines of a /proc file, or "?" */
static void proc_value(const char *path, const char *key, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	char line[512];

	snprintf(buf, len, "?");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, key, strlen(key)) || !colon)
			continue;
		colon += strspn(colon + 1, " \t") + 1;
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(buf, len, "%s", colon);
		break;
	}
	fclose(f);
}

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

	proc_value("/proc/cpuinfo", "model name", cpu, sizeof(cpu));
	jit_setting(jit, sizeof(jit));
	if (uname(&u))
		snprintf(u.release, sizeof(u.release), "?");
	fprintf(f, "machine   %s, %ld CPUs online\n", cpu, sysconf(_SC_NPROCESSORS_ONLN));
	fprintf(f, "kernel    %s, bpf_jit_enable=%s\n", u.release, jit);
	fprintf(f, "compiler  %s (native twins, -O2)\n", bench_native_compiler());
}
