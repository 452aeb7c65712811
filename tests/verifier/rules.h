/* SPDX-License-Identifier: MIT */
/*
 * The rule corpus: small programs, each testing one rule of the verifier,
 * with the verdict the kernel gives them (measured on Linux 6.x as root)
 * and, for rejections, a fragment of uebpf's reason.
 */
#ifndef UEBPF_VTEST_RULES_H
#define UEBPF_VTEST_RULES_H

#include "uebpf/uebpf.h"

struct rule_case {
	const char *name;
	enum uebpf_prog_type type;
	int accept;
	const char *why; /* rejections: part of uebpf's message */
	const char *text;
};

extern const struct rule_case rule_cases[];
extern const unsigned rule_ncases;

#endif
