/* SPDX-License-Identifier: MIT */
/*
 * The rule corpus: small programs, each testing one rule of the verifier,
 * with the verdict the kernel gives them (measured on Linux 6.x as root)
 * and, for rejections, a fragment of uebpf's reason.
 */
#ifndef UEBPF_VTEST_RULES_H
#define UEBPF_VTEST_RULES_H

#include <stdint.h>

#include "uebpf/uebpf.h"

/*
 * accept: 1 or 0, the verdict of both verifiers; RULE_NEEDS_BTF: accepted
 * by uebpf, refused by the kernel for want of BTF func_info (a callback in
 * a program without BTF; KNOWN_DIFFERENCES.md), not for a safety reason.
 */
#define RULE_NEEDS_BTF 2

struct rule_case {
	const char *name;
	enum uebpf_prog_type type;
	int accept;
	const char *why; /* rejections: part of uebpf's message */
	const char *text;
};

extern const struct rule_case rule_cases[];
extern const unsigned rule_ncases;

/*
 * Cases with maps (rules_maps.c). An lddw of 0x4d41KKII_OOOOOOOO is a
 * placeholder: pseudo source KK (1 map, 2 map value, 3 BTF id, 4 function)
 * for corpus map II (rules_maps[], 15: none) at value offset OOOOOOOO; for
 * a function, OOOOOOOO is its imm (the target is that many slots after the
 * lddw's second slot).
 */
extern const struct rule_case rule_map_cases[];
extern const unsigned rule_map_ncases;

struct rule_map {
	uint32_t type, key_size, value_size, max_entries, flags;
};

#define RULE_NMAPS 7
#define RULE_NO_MAP 15
extern const struct rule_map rule_maps[RULE_NMAPS];

#endif
