// SPDX-License-Identifier: MIT
/* The engines' names, and the input every engine of a test variant gets. */
#include <errno.h>
#include <string.h>

#include "suite.h"

static const char *const suite_engines[SUITE_NENGINES] = {
	[SUITE_INTERP] = "interp", [SUITE_JIT] = "jit",	      [SUITE_AOT] = "aot",
	[SUITE_KERNEL] = "kernel", [SUITE_NATIVE] = "native",
};

const char *suite_engine_name(int engine)
{
	return engine >= 0 && engine < SUITE_NENGINES ? suite_engines[engine] : "?";
}

int suite_engine_parse(const char *name)
{
	for (int e = 0; e < SUITE_NENGINES; e++)
		if (!strcmp(name, suite_engines[e]))
			return e;
	return -EINVAL;
}

/* Not all zeros, so that a checksum over it means something; the same for every engine. */
void suite_fill_data(uint8_t *data, size_t size)
{
	for (size_t i = 0; i < size; i++)
		data[i] = (uint8_t)(i * 31 + 7);
}
