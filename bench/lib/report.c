// SPDX-License-Identifier: MIT
/*
 * What the benchmarks' reports share: the machine's description, the
 * ratio columns of their tables, the directories of their CSV files.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "benchlib.h"

void benchlib_cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	snprintf(buf, len, "unknown CPU");
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !colon)
			continue;
		colon += strspn(colon + 1, " \t") + 1;
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(buf, len, "%s", colon);
		break;
	}
	if (f)
		fclose(f);
}

const char *benchlib_compiler(void)
{
#ifdef __clang__
	return "clang " __clang_version__;
#else
	return "gcc " __VERSION__;
#endif
}

void benchlib_print_ratio(FILE *f, double ratio)
{
	if (isnan(ratio))
		fprintf(f, " %9s", "-");
	else
		fprintf(f, " %9.2f", ratio);
}

int benchlib_make_parent(const char *path)
{
	char *dir = strdup(path);
	int ret = 0;

	if (!dir)
		return -ENOMEM;
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0777) && errno != EEXIST) {
			ret = -errno;
			break;
		}
		*p = '/';
	}
	free(dir);
	return ret;
}
