// SPDX-License-Identifier: MIT
/*
 * Suite files: libyaml loads the document into nodes (each knows its line),
 * then each test's keys are read into struct suite_test. Unknown keys are
 * ignored, as bpf_performance ignores uebpf's, so each runner can read the
 * other's suites. Every message names the file and the line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/errbuf.h"
#include "suite.h"

struct parse {
	yaml_document_t doc;
	const char *path;
	char *err;
	size_t err_len;
};

#define PERR(p, node, ...) perr(p, (node) ? (int)(node)->start_mark.line + 1 : 0, __VA_ARGS__)

__attribute__((format(printf, 3, 4))) static int perr(struct parse *p, int line, const char *fmt,
						      ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errbuf_set(p->err, p->err_len, "%s:%d: %s", p->path, line, msg);
	return -EINVAL;
}

static yaml_node_t *node(struct parse *p, int id)
{
	return yaml_document_get_node(&p->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The value of key in mapping m, or NULL. */
static yaml_node_t *lookup(struct parse *p, yaml_node_t *m, const char *key)
{
	for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top;
	     pr++) {
		const char *k = scalar(node(p, pr->key));

		if (k && !strcmp(k, key))
			return node(p, pr->value);
	}
	return NULL;
}

static int get_string(struct parse *p, yaml_node_t *n, const char *key, char **out)
{
	const char *s = scalar(n);

	if (!s || !*s)
		return PERR(p, n, "'%s' must be a non-empty string", key);
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

static int get_u64(struct parse *p, yaml_node_t *n, const char *key, uint64_t max, uint64_t *v)
{
	const char *s = scalar(n);
	char *end;

	if (!s || !*s || *s == '-')
		return PERR(p, n, "'%s' must be a non-negative integer", key);
	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno || *end || *v > max)
		return PERR(p, n, "'%s' must be an integer up to %llu, not '%s'", key,
			    (unsigned long long)max, s);
	return 0;
}

static int get_bool(struct parse *p, yaml_node_t *n, const char *key, bool *v)
{
	const char *s = scalar(n);

	if (s && (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "yes")))
		*v = true;
	else if (s && (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "no")))
		*v = false;
	else
		return PERR(p, n, "'%s' must be true or false", key);
	return 0;
}

static int parse_cpu(struct parse *p, yaml_node_t *n, struct suite_assign *a)
{
	uint64_t cpu;
	int ret = get_u64(p, n, "CPU", SUITE_MAX_CPUS - 1, &cpu);

	if (ret)
		return ret;
	a->cpus[a->ncpus++] = (int)cpu;
	return 0;
}

/* program: all | remaining | unassigned | CPU | [CPU, ...] */
static int parse_assign(struct parse *p, yaml_node_pair_t *pr, struct suite_assign *a)
{
	yaml_node_t *k = node(p, pr->key), *v = node(p, pr->value);
	const char *s = scalar(v);
	int ret;

	a->line = (int)k->start_mark.line + 1;
	ret = get_string(p, k, "program_cpu_assignment", &a->prog);
	if (ret)
		return ret;
	if (s && !strcmp(s, "all")) {
		a->kind = SUITE_CPUS_ALL;
		return 0;
	}
	if (s && (!strcmp(s, "remaining") || !strcmp(s, "unassigned"))) {
		a->kind = SUITE_CPUS_REMAINING;
		return 0;
	}
	a->kind = SUITE_CPUS_LIST;
	if (s)
		return parse_cpu(p, v, a);
	if (v->type != YAML_SEQUENCE_NODE ||
	    v->data.sequence.items.start == v->data.sequence.items.top)
		return PERR(p, v,
			    "program '%s': CPUs must be all, remaining, a CPU number or a "
			    "non-empty list of them",
			    a->prog);
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		if (a->ncpus == SUITE_MAX_CPUS)
			return PERR(p, v, "program '%s': too many CPUs", a->prog);
		ret = parse_cpu(p, node(p, *it), a);
		if (ret)
			return ret;
	}
	return 0;
}

static int parse_assignments(struct parse *p, yaml_node_t *m, struct suite_test *t)
{
	size_t n = (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);

	if (m->type != YAML_MAPPING_NODE || !n)
		return PERR(p, m, "test '%s': program_cpu_assignment must map programs to CPUs",
			    t->name);
	t->assign = calloc(n, sizeof(*t->assign));
	if (!t->assign)
		return -ENOMEM;
	for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top;
	     pr++) {
		int ret = parse_assign(p, pr, &t->assign[t->nassign++]);

		if (ret)
			return ret;
	}
	return 0;
}

static int parse_prep(struct parse *p, yaml_node_t *m, struct suite_test *t)
{
	yaml_node_t *prog, *iters;
	int ret;

	if (m->type != YAML_MAPPING_NODE)
		return PERR(p, m, "test '%s': map_state_preparation must be a mapping", t->name);
	prog = lookup(p, m, "program");
	iters = lookup(p, m, "iteration_count");
	if (!prog)
		return PERR(p, m, "test '%s': map_state_preparation needs 'program'", t->name);
	if (!iters)
		return PERR(p, m, "test '%s': map_state_preparation needs 'iteration_count'",
			    t->name);
	t->prep_line = (int)prog->start_mark.line + 1;
	ret = get_string(p, prog, "program", &t->prep_prog);
	return ret ?: get_u64(p, iters, "iteration_count", UINT32_MAX, &t->prep_iterations);
}

static int parse_sizes(struct parse *p, yaml_node_t *v, struct suite_test *t)
{
	size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	uint64_t size;

	if (v->type != YAML_SEQUENCE_NODE || !n)
		return PERR(p, v, "test '%s': uebpf.data_sizes must be a non-empty list", t->name);
	t->data_sizes = calloc(n, sizeof(*t->data_sizes));
	if (!t->data_sizes)
		return -ENOMEM;
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		int ret = get_u64(p, node(p, *it), "data_sizes", 65535, &size);

		if (ret)
			return ret;
		if (size < 14)
			return PERR(p, node(p, *it),
				    "test '%s': a data size must be at least 14 B (an Ethernet "
				    "header, which the kernel's test run needs)",
				    t->name);
		t->data_sizes[t->nsizes++] = (uint32_t)size;
	}
	return 0;
}

/* uebpf: {engines: [...], native: NAME, data_sizes: [...], measure: KIND, user_pointer: BOOL} */
static int parse_ext(struct parse *p, yaml_node_t *m, struct suite_test *t)
{
	yaml_node_t *v;
	int ret;

	if (m->type != YAML_MAPPING_NODE)
		return PERR(p, m, "test '%s': 'uebpf' must be a mapping", t->name);
	v = lookup(p, m, "engines");
	if (v) {
		if (v->type != YAML_SEQUENCE_NODE)
			return PERR(p, v, "test '%s': uebpf.engines must be a list", t->name);
		memset(t->engines, 0, sizeof(t->engines));
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			const char *s = scalar(node(p, *it));
			int e = s ? suite_engine_parse(s) : -EINVAL;

			if (e < 0)
				return PERR(p, node(p, *it),
					    "test '%s': unknown engine '%s' (interp, jit, aot, "
					    "kernel, native)",
					    t->name, s ? s : "?");
			t->engines[e] = true;
		}
	}
	v = lookup(p, m, "native");
	if (v) {
		ret = get_string(p, v, "native", &t->native);
		if (ret)
			return ret;
		if (!suite_native_find(t->native))
			return PERR(p, v, "test '%s': no native twin called '%s'", t->name,
				    t->native);
	}
	v = lookup(p, m, "measure");
	if (v) {
		static const char *const names[] = {"test_run", "uprobe", "uretprobe", "verifier",
						    "syscall"};
		const char *s = scalar(v);
		size_t i = 0;

		while (s && i < sizeof(names) / sizeof(names[0]) && strcmp(s, names[i]))
			i++;
		if (!s || i == sizeof(names) / sizeof(names[0]))
			return PERR(p, v,
				    "test '%s': uebpf.measure must be test_run, uprobe, uretprobe, "
				    "verifier or syscall",
				    t->name);
		t->measure = (enum suite_measure)i;
	}
	v = lookup(p, m, "user_pointer");
	if (v) {
		ret = get_bool(p, v, "user_pointer", &t->user_pointer);
		if (ret)
			return ret;
	}
	v = lookup(p, m, "data_sizes");
	return v ? parse_sizes(p, v, t) : 0;
}

/* An optional string key. */
static int opt_string(struct parse *p, yaml_node_t *m, const char *key, char **out)
{
	yaml_node_t *v = lookup(p, m, key);

	return v ? get_string(p, v, key, out) : 0;
}

static int parse_test(struct parse *p, yaml_node_t *m, struct suite_test *t)
{
	static const char *const required[] = {"name", "elf_file", "iteration_count",
					       "program_cpu_assignment"};
	yaml_node_t *v;
	uint64_t u;
	int ret;

	if (m->type != YAML_MAPPING_NODE)
		return PERR(p, m, "each test must be a mapping of keys");
	t->line = (int)m->start_mark.line + 1;
	t->pass_data = true;
	for (int e = 0; e < SUITE_NENGINES; e++)
		t->engines[e] = true;
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (!lookup(p, m, required[i])) {
			v = lookup(p, m, "name");
			return PERR(p, m, "test%s%s%s: missing required key '%s'",
				    scalar(v) ? " '" : "", scalar(v) ?: "", scalar(v) ? "'" : "",
				    required[i]);
		}
	}
	ret = get_string(p, lookup(p, m, "name"), "name", &t->name);
	if (ret)
		return ret;
	v = lookup(p, m, "elf_file");
	t->elf_line = (int)v->start_mark.line + 1;
	ret = get_string(p, v, "elf_file", &t->elf_file);
	if (!ret)
		ret = get_u64(p, lookup(p, m, "iteration_count"), "iteration_count", UINT32_MAX,
			      &t->iteration_count);
	if (!ret && !t->iteration_count)
		ret = PERR(p, lookup(p, m, "iteration_count"), "test '%s': iteration_count is 0",
			   t->name);
	if (!ret)
		ret = parse_assignments(p, lookup(p, m, "program_cpu_assignment"), t);
	if (!ret && (v = lookup(p, m, "map_state_preparation")))
		ret = parse_prep(p, v, t);
	ret = ret ?: opt_string(p, m, "description", &t->description);
	ret = ret ?: opt_string(p, m, "platform", &t->platform);
	ret = ret ?: opt_string(p, m, "program_type", &t->program_type);
	if (!ret && (v = lookup(p, m, "batch_size"))) {
		ret = get_u64(p, v, "batch_size", UINT32_MAX, &u);
		t->batch_size = (uint32_t)u;
	}
	if (!ret && (v = lookup(p, m, "pass_data")))
		ret = get_bool(p, v, "pass_data", &t->pass_data);
	if (!ret && (v = lookup(p, m, "pass_context")))
		ret = get_bool(p, v, "pass_context", &t->pass_context);
	if (!ret && (v = lookup(p, m, "expected_result"))) {
		ret = get_u64(p, v, "expected_result", UINT32_MAX, &t->expected_result);
		t->has_expected = true;
	}
	if (!ret && (v = lookup(p, m, "uebpf")))
		ret = parse_ext(p, v, t);
	return ret;
}

static int parse_doc(struct parse *p, struct suite *s)
{
	yaml_node_t *root = yaml_document_get_root_node(&p->doc), *tests;
	size_t n;

	if (!root)
		return perr(p, 1, "the file is empty; a suite is a mapping with 'tests:'");
	if (root->type != YAML_MAPPING_NODE)
		return PERR(p, root, "a suite is a mapping with 'tests:'");
	tests = lookup(p, root, "tests");
	if (!tests)
		return PERR(p, root, "missing the top-level key 'tests'");
	if (tests->type != YAML_SEQUENCE_NODE)
		return PERR(p, tests, "'tests' must be a list of tests");
	n = (size_t)(tests->data.sequence.items.top - tests->data.sequence.items.start);
	if (!n)
		return PERR(p, tests, "'tests' is empty");
	s->tests = calloc(n, sizeof(*s->tests));
	if (!s->tests)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int ret = parse_test(p, node(p, tests->data.sequence.items.start[i]), &s->tests[i]);

		s->ntests++;
		if (ret)
			return ret;
	}
	return 0;
}

int suite_parse(const char *text, size_t len, const char *path, struct suite *s, char *err,
		size_t err_len)
{
	struct parse p = {.path = path, .err = err, .err_len = err_len};
	yaml_parser_t parser;
	int ret;

	memset(s, 0, sizeof(*s));
	s->path = strdup(path);
	if (!s->path || !yaml_parser_initialize(&parser)) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &p.doc)) {
		errbuf_set(err, err_len, "%s:%zu: malformed YAML: %s%s%s", path,
			   parser.problem_mark.line + 1, parser.problem ?: "parse error",
			   parser.context ? " " : "", parser.context ?: "");
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	ret = parse_doc(&p, s);
	if (ret == -ENOMEM)
		errbuf_set(err, err_len, "out of memory");
	yaml_document_delete(&p.doc);
	yaml_parser_delete(&parser);
	return ret;
}

int suite_parse_file(const char *path, struct suite *s, char *err, size_t err_len)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0;
	int ret;

	memset(s, 0, sizeof(*s));
	if (!f) {
		errbuf_set(err, err_len, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (fseek(f, 0, SEEK_END) || (long)(len = (size_t)ftell(f)) < 0 || fseek(f, 0, SEEK_SET) ||
	    !(text = malloc(len + 1)) || fread(text, 1, len, f) != len) {
		fclose(f);
		free(text);
		errbuf_set(err, err_len, "%s: cannot read the file", path);
		return -EIO;
	}
	fclose(f);
	ret = suite_parse(text, len, path, s, err, err_len);
	free(text);
	return ret;
}

void suite_free(struct suite *s)
{
	for (size_t i = 0; i < s->ntests; i++) {
		struct suite_test *t = &s->tests[i];

		for (size_t j = 0; j < t->nassign; j++)
			free(t->assign[j].prog);
		free(t->assign);
		free(t->name);
		free(t->description);
		free(t->elf_file);
		free(t->elf_path);
		free(t->prep_prog);
		free(t->platform);
		free(t->program_type);
		free(t->native);
		free(t->data_sizes);
	}
	free(s->tests);
	free(s->path);
	memset(s, 0, sizeof(*s));
}
