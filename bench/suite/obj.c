// SPDX-License-Identifier: MIT
/*
 * A test's object loaded by libbpf, as bpf_performance loads it: every
 * program gets the test's program_type (XDP when none is given, except in
 * uprobe tests, which keep their sections' types), the map state
 * preparation program runs its iterations, and a slice test-runs each
 * CPU's program n times at once, batch_size runs per call when the test
 * gives one. Where the bpf() calls go is the process's business: the uebpf
 * CLI routes them to the emulation (its engine chosen by UEBPF_ENGINE at
 * load), the kernel helper to the kernel.
 *
 * Uprobe tests attach their program to suite_victim in this process and a
 * slice calls it; syscall tests attach theirs by its section and a slice
 * calls getpid; verifier tests load the object again for every run and
 * add up what the verifier reports for the test's programs.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <limits.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "suite.h"

#define MAX_RINGS 8
#define VERIFY_LOG 4096

struct suite_obj {
	const struct suite_test *t;
	bool kernel;
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
	struct suite_ring *rings[MAX_RINGS];
	size_t nrings;
	struct bpf_link *links[SUITE_MAX_CPUS];
	size_t nlinks;
	struct bpf_map *bss; /* uprobe tests: where the probe counts its hits */
	size_t victim_off;   /* and suite_victim's offset in this executable's file */
};

/* What uebpf.user_pointer tests read with bpf_probe_read_user. */
static const volatile uint64_t user_word = SUITE_USER_WORD;

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static bool uprobed(const struct suite_test *t)
{
	return t->measure == SUITE_UPROBE || t->measure == SUITE_URETPROBE;
}

static bool hooked(const struct suite_test *t)
{
	return uprobed(t) || t->measure == SUITE_SYSCALL;
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
	if (hooked(t) && !t->program_type)
		return 0;
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

/* n runs in calls of at most batch runs each (0: one call). */
static int test_run(struct suite_obj *o, int fd, uint64_t n, uint32_t batch, uint32_t *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = o->len ? o->data : NULL,
		    .data_size_in = (uint32_t)o->len, .ctx_in = o->ctx_len ? o->ctx : NULL,
		    .ctx_size_in = (uint32_t)o->ctx_len);

	while (n) {
		uint64_t k = batch && batch < n ? batch : n;

		opts.repeat = (int)k;
		if (bpf_prog_test_run_opts(fd, &opts))
			return -errno;
		*retval = opts.retval;
		n -= k;
	}
	return 0;
}

static int prepare(struct suite_obj *o, const struct suite_test *t, char *err, size_t err_len)
{
	struct bpf_program *p = bpf_object__find_program_by_name(o->obj, t->prep_prog);
	uint32_t retval = 0;
	int ret;

	ret = p ? test_run(o, bpf_program__fd(p), t->prep_iterations, 0, &retval) : -ENOENT;
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
		/* verification happens once per run, whatever the CPUs: one thread does it */
		if (t->measure == SUITE_VERIFY)
			break;
	}
	return 0;
}

static int open_rings(struct suite_obj *o, char *err, size_t err_len)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, o->obj)
	{
		if (bpf_map__type(m) != BPF_MAP_TYPE_RINGBUF)
			continue;
		if (o->nrings == MAX_RINGS) {
			errbuf_set(err, err_len, "more than %d ring buffers", MAX_RINGS);
			return -E2BIG;
		}
		int ret = suite_ring_open(bpf_map__fd(m), o->kernel, &o->rings[o->nrings], err,
					  err_len);

		if (ret)
			return ret;
		o->nrings++;
	}
	return 0;
}

static int read_hits(struct suite_obj *o, uint64_t *hits)
{
	uint8_t value[4096];
	uint32_t key = 0;
	size_t size = bpf_map__value_size(o->bss);

	if (size < sizeof(*hits) || size > sizeof(value) ||
	    bpf_map__lookup_elem(o->bss, &key, sizeof(key), value, size, 0))
		return -EIO;
	memcpy(hits, value, sizeof(*hits));
	return 0;
}

/*
 * What a uprobe test needs besides the load: the .bss of its object, where
 * its probe counts hits, and where the victim lies in this executable's file
 * (found once, so that attaching for every slice does not read the ELF).
 */
static int hook_prepare(struct suite_obj *o, const struct suite_test *t, char *err, size_t err_len)
{
	struct bpf_map *m;
	uint64_t off;

	if (uprobed(t) && benchlib_exe_file_offset((const void *)suite_victim, &off)) {
		errbuf_set(err, err_len, "test '%s': %s is not in this executable's file", t->name,
			   SUITE_VICTIM);
		return -ENOENT;
	}
	o->victim_off = uprobed(t) ? off : 0;

	bpf_object__for_each_map(m, o->obj)
	{
		const char *name = bpf_map__name(m);
		size_t len = strlen(name);

		if (len >= 4 && !strcmp(name + len - 4, ".bss"))
			o->bss = m;
	}
	if (!o->bss) {
		errbuf_set(err, err_len,
			   "test '%s': the probe's object has no .bss to count hits in", t->name);
		return -EINVAL;
	}
	return 0;
}

static void detach(struct suite_obj *o)
{
	for (size_t i = 0; i < o->nlinks; i++)
		bpf_link__destroy(o->links[i]);
	o->nlinks = 0;
}

/*
 * Attach every program the test assigns to the victim function, in this
 * process. Only for the instance's own slices: the CLI's engines probe the
 * same function, and each must be alone on it while it is timed (and none
 * while the native twin is).
 */
static int attach(struct suite_obj *o, char *err, size_t err_len)
{
	const struct suite_test *t = o->t;
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = t->measure == SUITE_URETPROBE);

	for (size_t i = 0; i < t->nassign && o->nlinks < SUITE_MAX_CPUS; i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(o->obj, t->assign[i].prog);

		if (!p)
			o->links[o->nlinks] = NULL;
		else if (t->measure == SUITE_SYSCALL)
			o->links[o->nlinks] = bpf_program__attach(p);
		else
			o->links[o->nlinks] = bpf_program__attach_uprobe_opts(p, 0, "/proc/self/exe",
									      o->victim_off, &opts);
		if (!o->links[o->nlinks]) {
			int ret = p ? -errno : -ENOENT;

			errbuf_set(err, err_len, "test '%s': cannot attach %s: %s", t->name,
				   t->assign[i].prog, strerror(-ret));
			detach(o);
			return ret;
		}
		o->nlinks++;
	}
	return 0;
}

int suite_obj_open(const struct suite_test *t, uint32_t size, bool kernel, struct suite_obj **out,
		   char *err, size_t err_len)
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
	o->t = t;
	o->kernel = kernel;
	o->len = t->pass_data ? size : 0;
	o->data = malloc(size ? size : 1);
	o->obj = bpf_object__open_file(t->elf_path, NULL);
	if (!o->data || !o->obj) {
		ret = o->data ? -errno : -ENOMEM;
		errbuf_set(err, err_len, "%s: cannot open: %s", t->elf_path, strerror(-ret));
		goto fail;
	}
	suite_fill_data(o->data, size);
	if (t->user_pointer && size >= SUITE_USER_PTR_OFF + 8) {
		uint64_t addr = (uintptr_t)&user_word;

		memcpy(o->data + SUITE_USER_PTR_OFF, &addr, sizeof(addr));
	}
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
	if (!ret)
		ret = open_rings(o, err, err_len);
	if (!ret && hooked(t))
		ret = hook_prepare(o, t, err, err_len);
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

/* The verifier's own figure for a program: "verification time N usec" of log_level 4. */
static int verify_time(const char *log, double *ns)
{
	const char *p = strstr(log, "verification time ");
	unsigned long long us;

	if (!p || sscanf(p, "verification time %llu usec", &us) != 1)
		return -EPROTO;
	*ns = (double)us * 1e3;
	return 0;
}

static bool assigned(const struct suite_test *t, const char *name)
{
	for (size_t i = 0; i < t->nassign; i++)
		if (!strcmp(t->assign[i].prog, name))
			return true;
	return false;
}

/* Load the object once more; *ns: what the verifier took on the test's programs. */
static int verify_once(const struct suite_test *t, double *ns, char *err, size_t err_len)
{
	static char logs[SUITE_MAX_CPUS][VERIFY_LOG];
	struct bpf_object *obj = bpf_object__open_file(t->elf_path, NULL);
	struct bpf_program *p;
	size_t nlogs = 0;
	double one = 0;
	int ret;

	*ns = 0;
	if (!obj)
		return -errno;
	ret = set_types(t, obj, err, err_len);
	bpf_object__for_each_program(p, obj)
	{
		if (!assigned(t, bpf_program__name(p)) || nlogs == SUITE_MAX_CPUS) {
			bpf_program__set_autoload(p, false);
			continue;
		}
		logs[nlogs][0] = '\0';
		bpf_program__set_log_level(p, 4);
		bpf_program__set_log_buf(p, logs[nlogs++], VERIFY_LOG);
	}
	if (!ret && bpf_object__load(obj)) {
		ret = -errno;
		errbuf_set(err, err_len, "%s: load failed: %s", t->elf_path, strerror(errno));
	}
	for (size_t i = 0; !ret && i < nlogs; i++) {
		ret = verify_time(logs[i], &one);
		if (ret)
			errbuf_set(err, err_len, "%s: no verification time in the load's log",
				   t->elf_path);
		*ns += one;
	}
	bpf_object__close(obj);
	return ret;
}

static int slice_thread(void *arg, int cpu, uint32_t *retval, double *ns, char *err, size_t err_len)
{
	struct suite_obj *o = arg;
	long (*volatile victim)(long) = suite_victim;
	double one = 0;
	size_t i = 0;
	int ret = 0;

	switch (o->t->measure) {
	case SUITE_UPROBE:
	case SUITE_URETPROBE:
		for (uint64_t k = 0; k < o->n; k++)
			*retval = (uint32_t)victim((long)o->len);
		return 0;
	case SUITE_SYSCALL:
		for (uint64_t k = 0; k < o->n; k++)
			getpid();
		*retval = 0;
		return 0;
	case SUITE_VERIFY:
		*ns = 0;
		for (uint64_t k = 0; k < o->n && !ret; k++) {
			ret = verify_once(o->t, &one, err, err_len);
			*ns += one;
		}
		*retval = 0;
		return ret;
	case SUITE_TEST_RUN:
		break;
	}
	while (i < o->ncpus && o->cpus[i] != cpu)
		i++;
	ret = test_run(o, o->fd[i], o->n, o->t->batch_size, retval);
	if (ret)
		errbuf_set(err, err_len, "BPF_PROG_TEST_RUN failed: %s", strerror(-ret));
	return ret;
}

int suite_obj_slice(struct suite_obj *o, uint64_t n, bool ref, struct suite_slice *res, char *err,
		    size_t err_len)
{
	uint64_t before = 0, after = 0;
	int ret;

	if (!n || n > INT_MAX) {
		errbuf_set(err, err_len, "a slice runs 1 to %d times", INT_MAX);
		return -ERANGE;
	}
	o->n = n;
	if (o->bss) {
		ret = attach(o, err, err_len);
		if (!ret && read_hits(o, &before))
			ret = -EIO;
		if (ret) {
			detach(o);
			return ret;
		}
	}
	ret = suite_workers_run(o->workers, slice_thread, o, ref, res, err, err_len);
	for (size_t i = 0; i < o->nrings; i++)
		suite_ring_drain(o->rings[i]);
	if (!o->bss)
		return ret;
	detach(o);
	if (!ret && (read_hits(o, &after) || after == before)) {
		errbuf_set(err, err_len, "test '%s': the probe did not fire", o->t->name);
		ret = -EDOM;
	}
	return ret;
}

void suite_obj_close(struct suite_obj *o)
{
	if (!o)
		return;
	detach(o);
	for (size_t i = 0; i < o->nrings; i++)
		suite_ring_close(o->rings[i]);
	suite_workers_close(o->workers);
	bpf_object__close(o->obj);
	free(o->data);
	free(o);
}
