// SPDX-License-Identifier: MIT
/*
 * A test's object loaded by libbpf, as bpf_performance loads it: every
 * program gets the test's program_type (XDP when none is given), the map
 * state preparation program runs its iterations, and a slice test-runs
 * each CPU's program n times at once. Where the bpf() calls go is the
 * process's business: the uebpf CLI routes them to the emulation (its
 * engine chosen by UEBPF_ENGINE at load), the kernel helper to the kernel.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <limits.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/errbuf.h"
#include "suite.h"

struct suite_obj {
	struct bpf_object *obj;
	int cpus[SUITE_MAX_CPUS];
	int fd[SUITE_MAX_CPUS]; /* per CPU of cpus */
	size_t ncpus;
	uint8_t *data;
	size_t len;
	uint8_t ctx[sizeof(struct __sk_buff)];
	size_t ctx_len;
	uint64_t n; /* of the slice being run */
	struct suite_workers *workers;
};

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static int set_types(const struct suite_test *t, struct bpf_object *obj, char *err, size_t err_len)
{
	enum bpf_prog_type type = BPF_PROG_TYPE_XDP;
	enum bpf_attach_type attach;
	struct bpf_program *p;

	if (t->program_type && libbpf_prog_type_by_name(t->program_type, &type, &attach)) {
		errbuf_set(err, err_len, "test '%s': unknown program_type '%s'", t->name,
			   t->program_type);
		return -EINVAL;
	}
	bpf_object__for_each_program(p, obj) bpf_program__set_type(p, type);
	return 0;
}

/* The context test runs get with pass_context: zeros, with the packet's bounds for XDP. */
static void make_ctx(struct suite_obj *o, const struct suite_test *t)
{
	struct bpf_program *p = bpf_object__next_program(o->obj, NULL);
	enum bpf_prog_type type = p ? bpf_program__type(p) : BPF_PROG_TYPE_XDP;

	memset(o->ctx, 0, sizeof(o->ctx));
	o->ctx_len = 0;
	if (!t->pass_context)
		return;
	if (type == BPF_PROG_TYPE_XDP) {
		struct xdp_md md = {.data_end = (uint32_t)o->len};

		memcpy(o->ctx, &md, sizeof(md));
		o->ctx_len = sizeof(md);
	} else {
		o->ctx_len = sizeof(struct __sk_buff);
	}
}

static int test_run(struct suite_obj *o, int fd, uint64_t n, uint32_t *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = o->len ? o->data : NULL,
		    .data_size_in = (uint32_t)o->len, .ctx_in = o->ctx_len ? o->ctx : NULL,
		    .ctx_size_in = (uint32_t)o->ctx_len, .repeat = (int)n);

	if (bpf_prog_test_run_opts(fd, &opts))
		return -errno;
	*retval = opts.retval;
	return 0;
}

static int prepare(struct suite_obj *o, const struct suite_test *t, char *err, size_t err_len)
{
	struct bpf_program *p = bpf_object__find_program_by_name(o->obj, t->prep_prog);
	uint32_t retval = 0;
	int ret;

	ret = p ? test_run(o, bpf_program__fd(p), t->prep_iterations, &retval) : -ENOENT;
	if (ret)
		errbuf_set(err, err_len, "test '%s': map state preparation %s failed: %s", t->name,
			   t->prep_prog, strerror(-ret));
	else if (retval)
		errbuf_set(err, err_len,
			   "test '%s': map state preparation %s returned %u, expected 0", t->name,
			   t->prep_prog, retval);
	return ret ? ret : retval ? -EDOM : 0;
}

static int plan(struct suite_obj *o, const struct suite_test *t, char *err, size_t err_len)
{
	int cpu_prog[SUITE_MAX_CPUS], ncpus = suite_ncpus();
	int ret = suite_cpu_plan(t, ncpus, cpu_prog, err, err_len);

	if (ret)
		return ret;
	for (int c = 0; c < ncpus; c++) {
		struct bpf_program *p;

		if (cpu_prog[c] < 0)
			continue;
		p = bpf_object__find_program_by_name(o->obj, t->assign[cpu_prog[c]].prog);
		if (!p) {
			errbuf_set(err, err_len, "test '%s': no program %s", t->name,
				   t->assign[cpu_prog[c]].prog);
			return -ENOENT;
		}
		o->cpus[o->ncpus] = c;
		o->fd[o->ncpus++] = bpf_program__fd(p);
	}
	return 0;
}

int suite_obj_open(const struct suite_test *t, uint32_t size, struct suite_obj **out, char *err,
		   size_t err_len)
{
	libbpf_print_fn_t old = libbpf_set_print(quiet);
	struct suite_obj *o = calloc(1, sizeof(*o));
	int ret;

	*out = NULL;
	if (!o) {
		libbpf_set_print(old);
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	o->len = t->pass_data ? size : 0;
	o->data = malloc(size ? size : 1);
	o->obj = bpf_object__open_file(t->elf_path, NULL);
	if (!o->data || !o->obj) {
		ret = o->data ? -errno : -ENOMEM;
		errbuf_set(err, err_len, "%s: cannot open: %s", t->elf_path, strerror(-ret));
		goto fail;
	}
	suite_fill_data(o->data, size);
	ret = set_types(t, o->obj, err, err_len);
	if (ret)
		goto fail;
	ret = bpf_object__load(o->obj);
	if (ret) {
		errbuf_set(err, err_len, "%s: load failed: %s", t->elf_path, strerror(-ret));
		goto fail;
	}
	make_ctx(o, t);
	ret = plan(o, t, err, err_len);
	if (!ret)
		ret = suite_workers_open(o->cpus, o->ncpus, &o->workers, err, err_len);
	if (!ret && t->prep_prog)
		ret = prepare(o, t, err, err_len);
	if (ret)
		goto fail;
	libbpf_set_print(old);
	*out = o;
	return 0;
fail:
	libbpf_set_print(old);
	suite_obj_close(o);
	return ret;
}

static int slice_thread(void *arg, int cpu, uint32_t *retval, char *err, size_t err_len)
{
	struct suite_obj *o = arg;
	size_t i = 0;
	int ret;

	while (i < o->ncpus && o->cpus[i] != cpu)
		i++;
	ret = test_run(o, o->fd[i], o->n, retval);
	if (ret)
		errbuf_set(err, err_len, "BPF_PROG_TEST_RUN failed: %s", strerror(-ret));
	return ret;
}

int suite_obj_slice(struct suite_obj *o, uint64_t n, bool ref, struct suite_slice *res, char *err,
		    size_t err_len)
{
	if (!n || n > INT_MAX) {
		errbuf_set(err, err_len, "a slice runs 1 to %d times", INT_MAX);
		return -ERANGE;
	}
	o->n = n;
	return suite_workers_run(o->workers, slice_thread, o, ref, res, err, err_len);
}

void suite_obj_close(struct suite_obj *o)
{
	if (!o)
		return;
	suite_workers_close(o->workers);
	bpf_object__close(o->obj);
	free(o->data);
	free(o);
}
