// SPDX-License-Identifier: MIT
/*
 * The format language of bpf_trace_printk and bpf_snprintf: the kernel's
 * subset of printf (see helper_format in internal.h). Each conversion is
 * checked and then handed to the C library's snprintf with the same flags
 * and width, so numbers look as they do in the kernel's output. Pointer
 * arguments that %s, %pks, %pus and %pI4/%pI6 follow are read through
 * helper_read_unsafe: a bad pointer prints an empty string or zeros, as in
 * the kernel.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "helpers/internal.h"

#define FORMAT_MAX_WIDTH 4096
#define FORMAT_MAX_STR 512 /* a string argument, NUL included (the kernel's buffer) */

struct out {
	char *buf;
	size_t len;
	size_t pos; /* what the whole output needs, even past len */
};

static __attribute__((format(printf, 2, 3))) void put(struct out *o, const char *fmt, ...)
{
	size_t room = o->pos < o->len ? o->len - o->pos : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? o->buf + o->pos : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos += (size_t)n;
}

/* The part of a conversion before its letters: "%", flags, width. */
struct spec {
	char head[16];
};

static void put_ip(struct out *o, uint64_t ptr, char kind, char ver)
{
	uint8_t a[16];

	helper_read_unsafe(a, ptr, ver == '4' ? 4 : 16);
	if (ver == '4') {
		put(o, kind == 'i' ? "%03u.%03u.%03u.%03u" : "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
		return;
	}
	for (int i = 0; i < 16; i += 2)
		put(o, kind == 'i' || i == 14 ? "%02x%02x" : "%02x%02x:", a[i], a[i + 1]);
}

/* %pS, %ps, %pB: the host's symbol when there is one, else the address. */
static void put_symbol(struct out *o, uint64_t ptr, bool offset)
{
	Dl_info info;

	if (dladdr((void *)(uintptr_t)ptr, &info) && info.dli_sname) {
		if (offset)
			put(o, "%s+0x%llx", info.dli_sname,
			    (unsigned long long)(ptr - (uintptr_t)info.dli_saddr));
		else
			put(o, "%s", info.dli_sname);
		return;
	}
	put(o, "0x%llx", (unsigned long long)ptr);
}

static void put_string(struct out *o, const struct spec *sp, uint64_t ptr)
{
	char s[FORMAT_MAX_STR], f[24];

	if (helper_read_unsafe_str(s, ptr, sizeof(s)) < 0)
		s[0] = '\0';
	snprintf(f, sizeof(f), "%ss", sp->head);
	put(o, f, s);
}

/* %p and its forms, from the letters after the p; *used is how many it took. */
static int put_pointer(struct out *o, const struct spec *sp, const char *p, uint64_t arg,
		       size_t *used)
{
	char f[24];

	*used = 0;
	if ((p[0] == 'k' || p[0] == 'u') && p[1] == 's') {
		*used = 2;
		put_string(o, sp, arg);
		return 0;
	}
	if ((p[0] == 'i' || p[0] == 'I') && (p[1] == '4' || p[1] == '6')) {
		*used = 2;
		put_ip(o, arg, p[0], p[1]);
		return 0;
	}
	if (p[0] == 'S' || p[0] == 's' || p[0] == 'B') {
		*used = 1;
		put_symbol(o, arg, p[0] != 's');
		return 0;
	}
	if (p[0] == 'K' || p[0] == 'x')
		*used = 1;
	else if (p[0] && !isspace((unsigned char)p[0]) && !ispunct((unsigned char)p[0]))
		return -EINVAL;
	snprintf(f, sizeof(f), "%s016llx", sp->head);
	put(o, f, (unsigned long long)arg);
	return 0;
}

/* Flags and width after '%' into sp; returns the characters read, or -EINVAL. */
static int parse_head(const char *p, struct spec *sp)
{
	size_t i = 0, n = 1;
	unsigned width = 0;

	sp->head[0] = '%';
	while (p[i] == '-' || p[i] == '+' || p[i] == ' ' || p[i] == '0') {
		if (n < 6)
			sp->head[n++] = p[i];
		i++;
	}
	while (p[i] >= '0' && p[i] <= '9') {
		width = width * 10 + (unsigned)(p[i] - '0');
		if (width > FORMAT_MAX_WIDTH)
			return -EINVAL;
		i++;
	}
	if (width)
		n += (size_t)snprintf(sp->head + n, sizeof(sp->head) - n, "%u", width);
	sp->head[n] = '\0';
	return (int)i;
}

/* An integer conversion: optional l or ll, then d i u x X. */
static int put_integer(struct out *o, const struct spec *sp, const char *p, uint64_t arg,
		       size_t *used)
{
	size_t l = 0;
	char f[24];
	char c;

	while (l < 2 && p[l] == 'l')
		l++;
	c = p[l];
	if (!strchr("diuxX", c) || !c)
		return -EINVAL;
	*used = l + 1;
	if (c == 'i')
		c = 'd';
	snprintf(f, sizeof(f), "%sll%c", sp->head, c);
	if (!l && c == 'd')
		arg = (uint64_t)(int64_t)(int32_t)arg;
	else if (!l)
		arg = (uint32_t)arg;
	put(o, f, (long long)arg);
	return 0;
}

int helper_format(char *out, size_t out_len, const char *fmt, const uint64_t *args, unsigned nargs)
{
	struct out o = {out, out_len, 0};
	unsigned argi = 0;
	struct spec sp;
	const char *p = fmt;
	char f[24];
	size_t used;
	int n, ret;

	while (*p) {
		const char *pct = strchr(p, '%');

		if (!pct) {
			put(&o, "%s", p);
			break;
		}
		put(&o, "%.*s", (int)(pct - p), p);
		p = pct + 1;
		if (*p == '%') {
			put(&o, "%%");
			p++;
			continue;
		}
		n = parse_head(p, &sp);
		if (n < 0 || argi >= nargs)
			return -EINVAL;
		p += n;
		used = 1;
		ret = 0;
		switch (*p) {
		case 'p':
			ret = put_pointer(&o, &sp, p + 1, args[argi], &used);
			used++;
			break;
		case 's':
			put_string(&o, &sp, args[argi]);
			break;
		case 'c':
			snprintf(f, sizeof(f), "%sc", sp.head);
			put(&o, f, (int)(unsigned char)args[argi]);
			break;
		default:
			ret = put_integer(&o, &sp, p, args[argi], &used);
			break;
		}
		if (ret)
			return ret;
		p += used;
		argi++;
	}
	if (out_len)
		out[o.pos < out_len ? o.pos : out_len - 1] = '\0';
	return o.pos > INT32_MAX ? -E2BIG : (int)o.pos;
}
