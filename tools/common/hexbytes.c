// SPDX-License-Identifier: MIT
#include "hexbytes.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/errbuf.h"

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int cli_hex_bytes(const char *s, uint8_t **out, size_t *len, char *err, size_t err_len)
{
	/* two digits per byte: half the text bounds the output */
	uint8_t *bytes = malloc(strlen(s) / 2 + 1);
	size_t n = 0;
	const char *start = s;

	*out = NULL;
	*len = 0;
	if (!bytes) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	for (;;) {
		int hi, lo;

		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		hi = hex_digit(s[0]);
		lo = hi < 0 ? -1 : hex_digit(s[1]);
		if (lo < 0) {
			errbuf_set(
				err, err_len,
				"invalid hex byte at offset %td: '%.8s' (expected two hex digits)",
				s - start, s);
			free(bytes);
			return -EINVAL;
		}
		bytes[n++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	if (!n) {
		free(bytes);
		return 0;
	}
	*out = bytes;
	*len = n;
	return 0;
}
