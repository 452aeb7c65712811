// SPDX-License-Identifier: MIT
#include "test_helpers.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static uint64_t gather_bytes(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
	return (a & 0xff) << 32 | (b & 0xff) << 24 | (c & 0xff) << 16 | (d & 0xff) << 8 |
	       (e & 0xff);
}

static uint64_t frob(uint64_t p, uint64_t n, uint64_t r3, uint64_t r4, uint64_t r5)
{
	uint8_t *bytes = (uint8_t *)(uintptr_t)p;

	(void)r3, (void)r4, (void)r5;
	for (uint64_t i = 0; i < n; i++)
		bytes[i] ^= 42;
	return 0;
}

static uint64_t no_op(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
	return 0;
}

static uint64_t sqrti(uint64_t a, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
	(void)r2, (void)r3, (void)r4, (void)r5;
	return (uint64_t)sqrt((double)a);
}

static uint64_t strcmp_ext(uint64_t a, uint64_t b, uint64_t r3, uint64_t r4, uint64_t r5)
{
	(void)r3, (void)r4, (void)r5;
	return (uint64_t)(int64_t)strcmp((const char *)(uintptr_t)a, (const char *)(uintptr_t)b);
}

/* Returns its argument; registered so that returning 0 stops the program. */
static uint64_t unwind(uint64_t a, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5)
{
	(void)r2, (void)r3, (void)r4, (void)r5;
	return a;
}

int cli_register_test_helpers(struct uebpf_vm *vm)
{
	static const struct {
		const char *name;
		uebpf_helper_fn fn;
		unsigned flags;
	} helpers[] = {
		{"gather_bytes", gather_bytes, 0},
		{"memfrob", frob, 0},
		{"no_op", no_op, 0},
		{"sqrti", sqrti, 0},
		{"strcmp_ext", strcmp_ext, 0},
		{"unwind", unwind, UEBPF_HELPER_STOP_ON_ZERO},
	};
	int ret;

	for (uint32_t id = 0; id < sizeof(helpers) / sizeof(helpers[0]); id++) {
		ret = uebpf_vm_register_helper_ex(vm, id, helpers[id].name, helpers[id].fn,
						  helpers[id].flags);
		if (ret)
			return ret;
	}
	return 0;
}
