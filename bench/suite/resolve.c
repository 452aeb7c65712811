// SPDX-License-Identifier: MIT
/*
 * Before anything runs: every test's object is found and opened (libbpf
 * parses the ELF; nothing is loaded, so no bpf() call is made) and every
 * program the test names is looked up, so a typo fails in a second with
 * the suite's line rather than minutes into a run.
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "suite.h"

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static char *try_path(const char *dir, const char *file)
{
	char buf[PATH_MAX];

	if (dir)
		snprintf(buf, sizeof(buf), "%s/%s", dir, file);
	else
		snprintf(buf, sizeof(buf), "%s", file);
	return access(buf, R_OK) ? NULL : strdup(buf);
}

static char *find_object(const char *suite_path, const char *file, const char *obj_dir)
{
	char *copy, *found;

	if (file[0] == '/')
		return try_path(NULL, file);
	copy = strdup(suite_path);
	if (!copy)
		return NULL;
	found = try_path(dirname(copy), file);
	free(copy);
	if (!found)
		found = try_path(NULL, file);
	if (!found && obj_dir)
		found = try_path(obj_dir, file);
	return found;
}

static int check_prog(const struct suite *s, const struct suite_test *t, struct bpf_object *obj,
		      const char *name, int line, char *err, size_t err_len)
{
	char list[256] = "";
	struct bpf_program *p;
	size_t len = 0;

	if (bpf_object__find_program_by_name(obj, name))
		return 0;
	bpf_object__for_each_program(p, obj)
	{
		int n = snprintf(list + len, sizeof(list) - len, "%s%s", len ? ", " : "",
				 bpf_program__name(p));

		if (n < 0 || (size_t)n >= sizeof(list) - len)
			break;
		len += (size_t)n;
	}
	errbuf_set(err, err_len, "%s:%d: test '%s': %s has no program '%s' (it has: %s)", s->path,
		   line, t->name, t->elf_file, name, len ? list : "none");
	return -EINVAL;
}

static int resolve_test(const struct suite *s, struct suite_test *t, const char *obj_dir, char *err,
			size_t err_len)
{
	struct bpf_object *obj;
	int ret = 0;

	free(t->elf_path);
	t->elf_path = find_object(s->path, t->elf_file, obj_dir);
	if (!t->elf_path) {
		errbuf_set(err, err_len,
			   "%s:%d: test '%s': object %s not found (next to the suite, in the "
			   "current directory%s%s)",
			   s->path, t->elf_line, t->name, t->elf_file, obj_dir ? " or in " : "",
			   obj_dir ?: "");
		return -ENOENT;
	}
	obj = bpf_object__open_file(t->elf_path, NULL);
	if (!obj) {
		ret = -errno;
		errbuf_set(err, err_len,
			   "%s:%d: test '%s': %s is not a BPF object libbpf opens: %s", s->path,
			   t->elf_line, t->name, t->elf_path, strerror(errno));
		return ret ?: -EINVAL;
	}
	for (size_t i = 0; i < t->nassign && !ret; i++)
		ret = check_prog(s, t, obj, t->assign[i].prog, t->assign[i].line, err, err_len);
	if (!ret && t->prep_prog)
		ret = check_prog(s, t, obj, t->prep_prog, t->prep_line, err, err_len);
	bpf_object__close(obj);
	return ret;
}

int suite_resolve(struct suite *s, const char *obj_dir, char *err, size_t err_len)
{
	libbpf_print_fn_t old = libbpf_set_print(quiet);
	int ret = 0;

	for (size_t i = 0; i < s->ntests && !ret; i++)
		ret = resolve_test(s, &s->tests[i], obj_dir, err, err_len);
	libbpf_set_print(old);
	return ret;
}
