// SPDX-License-Identifier: MIT
/*
 * uebpf run OBJ: libbpf opens and loads the ELF object, its bpf() calls
 * answered by uebpf's emulation (this executable's syscall() routes them,
 * src/syscall/interpose.c), then the chosen program is test-run through
 * BPF_PROG_TEST_RUN, and the result and maps are printed.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "syscall/syscall.h"

#define OUT_SLACK 4096 /* room for a packet that grew (bpf_xdp_adjust_head/tail) */

struct buf {
	uint8_t *data;
	size_t len;
};

static int print_warnings(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static int read_opt_file(const char *path, struct buf *b)
{
	char err[512];
	char *data;

	*b = (struct buf){0};
	if (!path)
		return 0;
	if (cli_read_file(path, &data, &b->len, err, sizeof(err)))
		return cli_error("run", "%s", err);
	b->data = (uint8_t *)data;
	return 0;
}

static int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	bool ok;

	if (!f)
		return cli_error("run", "%s: %s", path, strerror(errno));
	ok = fwrite(data, 1, len, f) == len;
	ok = !fclose(f) && ok;
	return ok ? CLI_OK : cli_error("run", "%s: write error", path);
}

/*
 * The program to run: the named one, else the first. Every program of the
 * object is loaded, as the kernel's loaders do: one may tail-call another.
 */
static struct bpf_program *pick_prog(struct bpf_object *obj, const char *name)
{
	struct bpf_program *p;

	for (p = bpf_object__next_program(obj, NULL); p; p = bpf_object__next_program(obj, p))
		if (!name || !strcmp(bpf_program__name(p), name))
			return p;
	if (!name) {
		cli_error("run", "%s: the object has no programs", bpf_object__name(obj));
		return NULL;
	}
	fprintf(stderr, "uebpf run: no program '%s'; the object has:", name);
	for (p = bpf_object__next_program(obj, NULL); p; p = bpf_object__next_program(obj, p))
		fprintf(stderr, " %s", bpf_program__name(p));
	fputc('\n', stderr);
	return NULL;
}

static bool map_percpu(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_PERCPU_HASH ||
	       t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static void print_hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

/* The map's entries, as JSON ([{"key": hex, "value": hex}...]) or text lines. */
static void dump_map(const struct bpf_map *m, bool json)
{
	size_t ks = bpf_map__key_size(m), vs = bpf_map__value_size(m), n = 0;
	int fd = bpf_map__fd(m), cpus = libbpf_num_possible_cpus();
	uint8_t *key, *next, *val;
	bool started = false;

	if (map_percpu(bpf_map__type(m)) && cpus > 0)
		vs = (size_t)cpus * ((vs + 7) & ~(size_t)7);
	key = calloc(1, ks + 1);
	next = calloc(1, ks + 1);
	val = calloc(1, vs + 1);
	if (json)
		printf("\"%s\":[", bpf_map__name(m));
	else
		printf("map %s (%s, key %zu, value %zu bytes, max %u):\n", bpf_map__name(m),
		       libbpf_bpf_map_type_str(bpf_map__type(m)), ks, vs, bpf_map__max_entries(m));
	/*
	 * Maps without keys (queue, stack, ring buffer) have no entries to
	 * walk; keys without a value (an empty prog_array slot) are passed.
	 */
	while (key && next && val && ks && !bpf_map_get_next_key(fd, started ? key : NULL, next)) {
		started = true;
		memcpy(key, next, ks);
		if (bpf_map_lookup_elem(fd, key, val))
			continue;
		if (json) {
			printf("%s{\"key\":\"", n ? "," : "");
			print_hex(key, ks);
			printf("\",\"value\":\"");
			print_hex(val, vs);
			printf("\"}");
		} else {
			printf("  key ");
			print_hex(key, ks);
			printf("  value ");
			print_hex(val, vs);
			putchar('\n');
		}
		n++;
	}
	if (json)
		putchar(']');
	free(key);
	free(next);
	free(val);
}

static void dump_maps(struct bpf_object *obj, bool json)
{
	struct bpf_map *m;
	bool first = true;

	for (m = bpf_object__next_map(obj, NULL); m; m = bpf_object__next_map(obj, m)) {
		if (json && !first)
			putchar(',');
		dump_map(m, json);
		first = false;
	}
}

static int test_run(struct bpf_program *prog, const struct cli_run_obj_opts *o,
		    struct bpf_test_run_opts *t, struct buf *data_out, struct buf *ctx_out)
{
	int ret;

	if (o->data_out) {
		data_out->len = t->data_size_in + OUT_SLACK;
		data_out->data = calloc(1, data_out->len);
		t->data_out = data_out->data;
		t->data_size_out = (uint32_t)data_out->len;
	}
	if (o->ctx_out) {
		ctx_out->len = t->ctx_size_in + OUT_SLACK;
		ctx_out->data = calloc(1, ctx_out->len);
		t->ctx_out = ctx_out->data;
		t->ctx_size_out = (uint32_t)ctx_out->len;
	}
	if ((o->data_out && !data_out->data) || (o->ctx_out && !ctx_out->data))
		return cli_error("run", "out of memory");
	ret = bpf_prog_test_run_opts(bpf_program__fd(prog), t);
	if (ret)
		return cli_error("run", "test run of %s failed: %s (%s)", bpf_program__name(prog),
				 strerror(errno), syscall_last_error());
	if (o->data_out && write_file(o->data_out, data_out->data, t->data_size_out))
		return CLI_FAIL;
	if (o->ctx_out && write_file(o->ctx_out, ctx_out->data, t->ctx_size_out))
		return CLI_FAIL;
	return CLI_OK;
}

static int run_loaded(struct bpf_object *obj, struct bpf_program *prog,
		      const struct cli_run_obj_opts *o)
{
	struct buf din, cin, dout = {0}, cout = {0};
	int ret;

	if (read_opt_file(o->data_in, &din) || read_opt_file(o->ctx_in, &cin)) {
		free(din.data);
		return CLI_FAIL;
	}
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = din.data, .data_size_in = (uint32_t)din.len,
		    .ctx_in = cin.data, .ctx_size_in = (uint32_t)cin.len, .repeat = (int)o->repeat);
	ret = test_run(prog, o, &t, &dout, &cout);
	if (!ret && o->json) {
		printf("{\"retval\":%u,\"duration_ns\":%u,\"maps\":{", t.retval, t.duration);
		dump_maps(obj, true);
		printf("}}\n");
	} else if (!ret) {
		printf("Return value: %u, duration: %uns\n", t.retval, t.duration);
		if (o->dump_maps)
			dump_maps(obj, false);
	}
	free(din.data);
	free(cin.data);
	free(dout.data);
	free(cout.data);
	return ret;
}

int cli_run_obj(const char *path, const struct cli_run_obj_opts *o)
{
	struct bpf_program *prog;
	struct bpf_object *obj;
	int ret;

	if (o->engine_given && setenv("UEBPF_ENGINE", cli_engine_name(o->engine), 1))
		return cli_error("run", "setenv: %s", strerror(errno));
	libbpf_set_print(print_warnings);
	obj = bpf_object__open_file(path, NULL);
	if (!obj)
		return cli_error("run", "%s: cannot open the object: %s", path, strerror(errno));
	prog = pick_prog(obj, o->prog);
	if (!prog) {
		bpf_object__close(obj);
		return CLI_FAIL;
	}
	ret = bpf_object__load(obj);
	if (ret) {
		cli_error("run", "%s: load failed: %s%s%s", path, strerror(-ret),
			  *syscall_last_error() ? ": " : "", syscall_last_error());
		bpf_object__close(obj);
		return CLI_FAIL;
	}
	ret = run_loaded(obj, prog, o);
	bpf_object__close(obj);
	return ret;
}
