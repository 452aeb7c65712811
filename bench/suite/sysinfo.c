// SPDX-License-Identifier: MIT
/*
 * What a result depends on besides the code, for the CSV header and the
 * report: the CPU, the kernel, the compiler of the native twins, the
 * commit (git, when the current directory is in a work tree; else
 * $UEBPF_COMMIT, else "unknown") and the time.
 */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "suite.h"

static void commit(char *buf, size_t len)
{
	const char *env = getenv("UEBPF_COMMIT");
	FILE *p;

	snprintf(buf, len, "%s", env && *env ? env : "unknown");
	if (env && *env)
		return;
	p = popen("git rev-parse --short=12 HEAD 2>/dev/null", "r");
	if (!p)
		return;
	if (fgets(buf, (int)len, p))
		buf[strcspn(buf, "\n")] = '\0';
	if (pclose(p) || !*buf)
		snprintf(buf, len, "unknown");
}

void suite_sysinfo_get(struct suite_sysinfo *si)
{
	char cpu[200];
	struct utsname u;
	time_t now = time(NULL);
	struct tm tm;

	memset(si, 0, sizeof(*si));
	benchlib_cpu_model(cpu, sizeof(cpu));
	snprintf(si->machine, sizeof(si->machine), "%s, %ld CPUs online", cpu,
		 sysconf(_SC_NPROCESSORS_ONLN));
	if (uname(&u))
		snprintf(si->kernel, sizeof(si->kernel), "unknown");
	else
		snprintf(si->kernel, sizeof(si->kernel), "%s %s", u.sysname, u.release);
	snprintf(si->compiler, sizeof(si->compiler), "%s", benchlib_compiler());
	commit(si->commit, sizeof(si->commit));
	gmtime_r(&now, &tm);
	strftime(si->timestamp, sizeof(si->timestamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
}
