// SPDX-License-Identifier: MIT
/*
 * objrun: load an object with libbpf, test-run one program, print what a
 * differential test compares: the return value, the packet out, and every
 * map's entries sorted by key (hash order differs between implementations).
 * Built twice: objrun-uebpf with uebpf's syscall() linked in, objrun-kernel
 * plain, so its bpf() calls reach the kernel or, under LD_PRELOAD of
 * libuebpf-shim.so, uebpf.
 *
 *   objrun OBJ PROG [--data HEX] [--ctx HEX] [--set-factor N]
 *
 * Exit status 77 when the kernel refuses to load for want of privilege.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct entry {
	unsigned char *key, *value;
	size_t ks;
};

static size_t hex_decode(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;
	unsigned int b;

	while (n < max && sscanf(s, "%2x", &b) == 1) {
		out[n++] = (unsigned char)b;
		s += 2;
	}
	return n;
}

static void print_hex(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return memcmp(x->key, y->key, x->ks);
}

/* A program id by the program's name: ids differ between implementations. */
static void print_prog(const unsigned char *value)
{
	struct bpf_prog_info info;
	uint32_t id, len = sizeof(info);
	int fd;

	memcpy(&id, value, sizeof(id));
	fd = bpf_prog_get_fd_by_id(id);
	memset(&info, 0, sizeof(info));
	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
		printf("prog:%s", info.name);
	else
		printf("no-prog");
	if (fd >= 0)
		close(fd);
}

static void dump_map(struct bpf_map *m)
{
	size_t ks = bpf_map__key_size(m), vs = bpf_map__value_size(m), n = 0, cap = 0;
	unsigned char key[256], next[256];
	struct entry *e = NULL, *grown;
	int fd = bpf_map__fd(m);

	printf("map %s:", bpf_map__name(m));
	while (ks <= sizeof(key) && !bpf_map_get_next_key(fd, n ? key : NULL, next)) {
		memcpy(key, next, ks);
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			grown = realloc(e, cap * sizeof(*e));
			if (!grown)
				break;
			e = grown;
		}
		e[n].ks = ks;
		e[n].key = malloc(ks);
		e[n].value = malloc(vs);
		memcpy(e[n].key, key, ks);
		if (bpf_map_lookup_elem(fd, key, e[n].value))
			memset(e[n].value, 0xee, vs);
		n++;
	}
	if (n)
		qsort(e, n, sizeof(*e), cmp_entry);
	for (size_t i = 0; i < n; i++) {
		putchar(' ');
		print_hex(e[i].key, ks);
		putchar('=');
		if (bpf_map__type(m) == BPF_MAP_TYPE_PROG_ARRAY)
			print_prog(e[i].value);
		else
			print_hex(e[i].value, vs);
		free(e[i].key);
		free(e[i].value);
	}
	putchar('\n');
	free(e);
}

int main(int argc, char **argv)
{
	static unsigned char data[4096], ctx[512], out[8192];
	size_t data_len = 0, ctx_len = 0;
	long long factor = -1;
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *m;
	int ret;

	if (argc < 3) {
		fprintf(stderr,
			"usage: objrun OBJ PROG [--data HEX] [--ctx HEX] [--set-factor N]\n");
		return 2;
	}
	for (int i = 3; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--data"))
			data_len = hex_decode(argv[i + 1], data, sizeof(data));
		else if (!strcmp(argv[i], "--ctx"))
			ctx_len = hex_decode(argv[i + 1], ctx, sizeof(ctx));
		else if (!strcmp(argv[i], "--set-factor"))
			factor = atoll(argv[i + 1]);
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		printf("open failed: %s\n", strerror(errno));
		return 1;
	}
	prog = bpf_object__find_program_by_name(obj, argv[2]);
	if (!prog) {
		printf("no program %s\n", argv[2]);
		return 1;
	}
	if (factor >= 0) {
		for (m = bpf_object__next_map(obj, NULL); m; m = bpf_object__next_map(obj, m)) {
			const void *init;
			unsigned char *copy;
			size_t sz;

			init = bpf_map__initial_value(m, &sz);
			if (!strstr(bpf_map__name(m), ".rodata") || !init || sz < sizeof(factor))
				continue;
			copy = malloc(sz);
			if (!copy)
				return 1;
			memcpy(copy, init, sz);
			memcpy(copy, &factor, sizeof(factor));
			bpf_map__set_initial_value(m, copy, sz);
			free(copy);
		}
	}
	ret = bpf_object__load(obj);
	if (ret) {
		printf("load failed: %s\n", strerror(-ret));
		return ret == -EPERM ? 77 : 1;
	}
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = data_len ? data : NULL,
		    .data_size_in = (unsigned)data_len, .ctx_in = ctx_len ? ctx : NULL,
		    .ctx_size_in = (unsigned)ctx_len, .data_out = data_len ? out : NULL,
		    .data_size_out = data_len ? sizeof(out) : 0);
	ret = bpf_prog_test_run_opts(bpf_program__fd(prog), &t);
	if (ret) {
		printf("test run failed: %s\n", strerror(errno));
		return 1;
	}
	printf("retval %u\n", t.retval);
	if (data_len) {
		printf("data_out ");
		print_hex(out, t.data_size_out);
		putchar('\n');
	}
	for (m = bpf_object__next_map(obj, NULL); m; m = bpf_object__next_map(obj, m))
		dump_map(m);
	bpf_object__close(obj);
	return 0;
}
