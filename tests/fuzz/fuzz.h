/* SPDX-License-Identifier: MIT */
/*
 * The fuzz harnesses' entry point, libFuzzer's: each harness defines it,
 * and is linked either with libFuzzer (make fuzz: coverage-guided, clang)
 * or with driver.c (ctest: saved inputs, then seeded random ones).
 */
#ifndef UEBPF_TESTS_FUZZ_H
#define UEBPF_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A harness found a bug: print why and abort, which both libFuzzer and the
 * driver report as a crash with the input that caused it.
 */
__attribute__((noreturn, format(printf, 1, 2))) void fuzz_fail(const char *fmt, ...);

#endif
