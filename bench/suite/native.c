// SPDX-License-Identifier: MIT
/*
 * Native C twins of suite programs: what the same algorithm costs when a C
 * compiler builds it for the host (-O2, set in CMakeLists.txt). Each takes
 * the packet the BPF program gets and returns what the program returns.
 */
#include <string.h>
#include <unistd.h>

#include "suite.h"

static uint64_t native_baseline(const uint8_t *data, size_t len)
{
	(void)data;
	(void)len;
	return 0;
}

/* Fletcher-16 as suite-progs/fletcher16.bpf.c computes it: (sum2 << 8) | sum1. */
static uint64_t native_fletcher16(const uint8_t *data, size_t len)
{
	uint32_t sum1 = 0, sum2 = 0;

	for (size_t i = 0; i < len; i++) {
		sum1 = (sum1 + data[i]) % 255;
		sum2 = (sum2 + sum1) % 255;
	}
	return (sum2 << 8) | sum1;
}

/* The uprobe tests' victim, called without a probe: what a probe adds is the difference. */
static uint64_t native_victim(const uint8_t *data, size_t len)
{
	(void)data;
	return (uint64_t)suite_victim((long)len);
}

/* The syscall tests' call, untraced. */
static uint64_t native_getpid(const uint8_t *data, size_t len)
{
	(void)data;
	(void)len;
	getpid();
	return 0;
}

static const struct {
	const char *name;
	suite_native_fn fn;
} native_twins[] = {
	{"baseline", native_baseline},
	{"fletcher16", native_fletcher16},
	{"victim", native_victim},
	{"getpid", native_getpid},
};

suite_native_fn suite_native_find(const char *name)
{
	for (size_t i = 0; i < sizeof(native_twins) / sizeof(native_twins[0]); i++)
		if (!strcmp(name, native_twins[i].name))
			return native_twins[i].fn;
	return NULL;
}
