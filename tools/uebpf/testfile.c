// SPDX-License-Identifier: MIT
/*
 * A first pass finds where each section's text lies; each section is then
 * decoded on its own. A line is a directive when its first non-blank
 * characters are `--`, so that `--` inside a C section or an asm comment does
 * not cut the file apart.
 */
#include "testfile.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/errbuf.h"
#include "hexbytes.h"
#include "isa/asm.h"

enum tf_section {
	TF_NONE,
	TF_ASM,
	TF_RAW,
	TF_MEM,
	TF_RESULT,
	TF_ERROR,
	TF_IGNORED,
	TF_NSECTIONS,
};

static const struct {
	const char *name;
	enum tf_section section;
} tf_directives[] = {
	{"asm", TF_ASM},
	{"raw", TF_RAW},
	{"mem", TF_MEM},
	{"result", TF_RESULT},
	{"error", TF_ERROR},
	{"c", TF_IGNORED},
	{"no register offset", TF_IGNORED},
};

struct tf_span {
	const char *start, *end;
	unsigned line; /* of the directive */
	bool seen;
};

static const char *skip_space(const char *s)
{
	while (*s && isspace((unsigned char)*s))
		s++;
	return s;
}

/* A malloc'd copy of [start, end) without its leading and trailing whitespace. */
static char *trimmed(const char *start, const char *end)
{
	start = skip_space(start);
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	return strndup(start, end - start);
}

static int directive(const char *line, const char *eol, enum tf_section *section, char *err,
		     size_t err_len, unsigned lineno)
{
	char *name = trimmed(line + 2, eol);

	if (!name) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < sizeof(tf_directives) / sizeof(tf_directives[0]); i++) {
		if (!strcmp(name, tf_directives[i].name)) {
			*section = tf_directives[i].section;
			free(name);
			return 0;
		}
	}
	errbuf_set(err, err_len, "line %u: unknown directive '-- %.40s'", lineno, name);
	free(name);
	return -EINVAL;
}

static int find_sections(const char *text, struct tf_span *spans, char *err, size_t err_len)
{
	enum tf_section cur = TF_NONE;
	unsigned lineno = 0;
	const char *line, *eol;
	int ret;

	for (line = text; *line; line = *eol ? eol + 1 : eol) {
		const char *p = line;

		eol = strchr(line, '\n');
		if (!eol)
			eol = line + strlen(line);
		lineno++;
		while (p < eol && (*p == ' ' || *p == '\t'))
			p++;
		if (eol - p < 2 || strncmp(p, "--", 2))
			continue;
		spans[cur].end = line;
		ret = directive(p, eol, &cur, err, err_len, lineno);
		if (ret)
			return ret;
		if (spans[cur].seen && cur != TF_IGNORED) {
			errbuf_set(err, err_len, "line %u: second '%.40s' section", lineno, p);
			return -EINVAL;
		}
		spans[cur] = (struct tf_span){*eol ? eol + 1 : eol, NULL, lineno, true};
	}
	spans[cur].end = line;
	return 0;
}

static int parse_u64(const char *s, uint64_t *v)
{
	unsigned base = 10;
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16;
	if (!isxdigit((unsigned char)s[base == 16 ? 2 : 0]))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, base);
	if (errno || *end)
		return -ERANGE;
	return 0;
}

/* Raw 64-bit words, `0x...` one per slot: the word's low byte is the opcode. */
static int raw_words(struct cli_testfile *tf, char *text, char *err, size_t err_len)
{
	size_t cap = 0;
	char *save, *tok;

	for (tok = strtok_r(text, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save)) {
		uint64_t word;

		if (strncmp(tok, "0x", 2) || strlen(tok) > 18 || parse_u64(tok, &word)) {
			errbuf_set(err, err_len, "-- raw: invalid 64-bit word '%.24s'", tok);
			return -EINVAL;
		}
		if (tf->nraw == cap) {
			struct isa_insn *p;

			cap = cap ? cap * 2 : 16;
			p = realloc(tf->raw, cap * sizeof(*p));
			if (!p) {
				errbuf_set(err, err_len, "out of memory");
				return -ENOMEM;
			}
			tf->raw = p;
		}
		memcpy(&tf->raw[tf->nraw++], &word, sizeof(word));
	}
	return 0;
}

static int raw_bytes(struct cli_testfile *tf, const char *text, char *err, size_t err_len)
{
	uint8_t *bytes;
	size_t len;
	int ret;

	ret = cli_hex_bytes(text, &bytes, &len, err, err_len);
	if (ret)
		return ret;
	if (len % sizeof(struct isa_insn)) {
		errbuf_set(err, err_len, "-- raw: %zu bytes, not a multiple of 8", len);
		free(bytes);
		return -EINVAL;
	}
	tf->raw = (struct isa_insn *)bytes;
	tf->nraw = len / sizeof(struct isa_insn);
	return 0;
}

static int section(struct cli_testfile *tf, enum tf_section which, const struct tf_span *s,
		   char *err, size_t err_len)
{
	char *text = trimmed(s->start, s->end);
	int ret = 0;

	if (!text) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	switch (which) {
	case TF_RAW:
		tf->has_raw = true;
		if (!strncmp(text, "0x", 2))
			ret = raw_words(tf, text, err, err_len);
		else
			ret = raw_bytes(tf, text, err, err_len);
		break;
	case TF_MEM:
		ret = cli_hex_bytes(text, &tf->mem, &tf->mem_len, err, err_len);
		break;
	case TF_RESULT:
		tf->has_result = true;
		if (parse_u64(text, &tf->result)) {
			errbuf_set(err, err_len, "-- result: '%.40s' is no 64-bit number", text);
			ret = -EINVAL;
		}
		break;
	case TF_ERROR:
		tf->error = text;
		return 0;
	default:
		break;
	}
	free(text);
	return ret;
}

/* The asm text, behind one empty line per file line before it. */
static int asm_section(struct cli_testfile *tf, const struct tf_span *s, char *err, size_t err_len)
{
	size_t len = s->end - s->start;

	tf->asm_text = malloc(s->line + len + 1);
	if (!tf->asm_text) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	memset(tf->asm_text, '\n', s->line);
	memcpy(tf->asm_text + s->line, s->start, len);
	tf->asm_text[s->line + len] = '\0';
	return 0;
}

int cli_testfile_parse(const char *text, struct cli_testfile *tf, char *err, size_t err_len)
{
	struct tf_span spans[TF_NSECTIONS] = {0};
	int ret;

	*tf = (struct cli_testfile){0};
	ret = find_sections(text, spans, err, err_len);
	if (!ret && spans[TF_ASM].seen)
		ret = asm_section(tf, &spans[TF_ASM], err, err_len);
	for (int i = TF_RAW; !ret && i < TF_IGNORED; i++) {
		if (spans[i].seen)
			ret = section(tf, i, &spans[i], err, err_len);
	}
	if (ret)
		cli_testfile_free(tf);
	return ret;
}

int cli_testfile_program(const struct cli_testfile *tf, struct isa_insn **insns, size_t *n,
			 char *err, size_t err_len)
{
	struct isa_insn *code = NULL;
	size_t ncode = 0;
	int ret;

	*insns = NULL;
	*n = 0;
	if (!tf->asm_text && !tf->has_raw) {
		errbuf_set(err, err_len, "no program: neither an -- asm nor a -- raw section");
		return -ENOENT;
	}
	if (tf->asm_text) {
		ret = isa_assemble(tf->asm_text, &code, &ncode, err, err_len);
		if (ret)
			return ret;
	}
	if (tf->has_raw && tf->asm_text) {
		for (size_t i = 0; i < ncode || i < tf->nraw; i++) {
			if (i < ncode && i < tf->nraw &&
			    !memcmp(&code[i], &tf->raw[i], sizeof(*code)))
				continue;
			errbuf_set(err, err_len,
				   "-- raw (%zu slots) and -- asm (%zu slots) differ at slot %zu",
				   tf->nraw, ncode, i);
			free(code);
			return -EINVAL;
		}
	}
	if (tf->has_raw) {
		free(code);
		code = tf->nraw ? malloc(tf->nraw * sizeof(*code)) : NULL;
		if (tf->nraw && !code) {
			errbuf_set(err, err_len, "out of memory");
			return -ENOMEM;
		}
		if (code)
			memcpy(code, tf->raw, tf->nraw * sizeof(*code));
		ncode = tf->nraw;
	}
	*insns = code;
	*n = ncode;
	return 0;
}

void cli_testfile_free(struct cli_testfile *tf)
{
	free(tf->asm_text);
	free(tf->raw);
	free(tf->mem);
	free(tf->error);
	*tf = (struct cli_testfile){0};
}
