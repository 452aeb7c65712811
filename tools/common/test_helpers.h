/* SPDX-License-Identifier: MIT */
/*
 * test_helpers: the helper functions the bpf_conformance programs call, under
 * the IDs the suite's reference plugin (ubpf's) gives them. They trust the
 * program's pointers: for running test suites, never untrusted code.
 */
#ifndef UEBPF_TOOLS_TEST_HELPERS_H
#define UEBPF_TOOLS_TEST_HELPERS_H

#include "uebpf/uebpf.h"

/* Register them all in vm (before load). Returns 0 or a negative errno. */
int cli_register_test_helpers(struct uebpf_vm *vm);

#endif
