/* SPDX-License-Identifier: MIT */
/*
 * hexbytes: base16 byte strings as the bpf_conformance suite writes them
 * ("aa bb 11" or "aabb11"), for memory and raw programs.
 */
#ifndef UEBPF_TOOLS_HEXBYTES_H
#define UEBPF_TOOLS_HEXBYTES_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode s into *out (malloc'd, NULL when empty) and *len. Each byte is two
 * hex digits; whitespace may separate bytes. Returns 0, or a negative errno
 * with a message in err.
 */
int cli_hex_bytes(const char *s, uint8_t **out, size_t *len, char *err, size_t err_len);

#endif
