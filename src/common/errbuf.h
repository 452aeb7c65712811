/* SPDX-License-Identifier: MIT */
/*
 * errbuf: the one way every module writes a message for the human into a
 * caller-supplied buffer (which may be NULL).
 */
#ifndef UEBPF_ERRBUF_H
#define UEBPF_ERRBUF_H

#include <stddef.h>

__attribute__((format(printf, 3, 4))) void errbuf_set(char *buf, size_t len, const char *fmt,
						      ...);

#endif
