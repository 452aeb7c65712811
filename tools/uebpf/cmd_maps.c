// SPDX-License-Identifier: MIT
/*
 * uebpf maps: the maps of an ELF object as libbpf sees them (name, type,
 * key and value sizes, max_entries, flags, pinning), and their contents:
 * with --contents the object is loaded into the bpf() emulation first (so
 * global data holds its initial values and maps pinned by name are those
 * already pinned, with what earlier runs left in them); with --pinned PATH
 * one pinned map is read by its pin path, no object needed.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "map_dump.h"
#include "syscall/syscall.h"

static const char maps_usage[] =
	"Usage: uebpf maps OBJ [--contents]\n"
	"       uebpf maps --pinned PATH\n"
	"\n"
	"List the maps of a clang-built object as libbpf sees them: name, type, key and\n"
	"value sizes, max_entries, flags and pinning (by name: where the pin is).\n"
	"\n"
	"  --contents     load the object into uebpf and print every map's entries\n"
	"                 (global data's initial values; maps pinned by name are\n"
	"                 the pinned ones, with what earlier runs left in them)\n"
	"  --pinned PATH  print the map pinned at PATH (e.g. /sys/fs/bpf/NAME; pins\n"
	"                 live under $UEBPF_PIN_DIR or uebpf's state directory)\n";

static int print_warnings(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static const char *type_name(enum bpf_map_type t)
{
	const char *s = libbpf_bpf_map_type_str(t);

	return s ? s : "unknown";
}

static void print_flags(uint32_t flags)
{
	static const struct {
		uint32_t flag;
		const char *name;
	} names[] = {
		{BPF_F_NO_PREALLOC, "no_prealloc"}, {BPF_F_NO_COMMON_LRU, "no_common_lru"},
		{BPF_F_NUMA_NODE, "numa_node"},	    {BPF_F_RDONLY, "rdonly"},
		{BPF_F_WRONLY, "wronly"},	    {BPF_F_RDONLY_PROG, "rdonly_prog"},
		{BPF_F_WRONLY_PROG, "wronly_prog"}, {BPF_F_MMAPABLE, "mmapable"},
		{BPF_F_INNER_MAP, "inner_map"},
	};
	bool any = false;

	printf("0x%x", flags);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(flags & names[i].flag))
			continue;
		printf("%s%s", any ? "," : " (", names[i].name);
		any = true;
		flags &= ~names[i].flag;
	}
	if (any)
		printf("%s)", flags ? ",?" : "");
}

static void list_map(const struct bpf_map *m)
{
	const char *pin = bpf_map__pin_path(m);

	printf("%s: %s key %u value %u max_entries %u flags ", bpf_map__name(m),
	       type_name(bpf_map__type(m)), bpf_map__key_size(m), bpf_map__value_size(m),
	       bpf_map__max_entries(m));
	print_flags(bpf_map__map_flags(m));
	printf(" pinning %s\n", pin ? pin : "none");
}

static int list_object(const char *path, bool contents)
{
	struct bpf_object *obj;
	struct bpf_map *m;
	int ret = CLI_OK;

	libbpf_set_print(print_warnings);
	obj = bpf_object__open_file(path, NULL);
	if (!obj)
		return cli_error("maps", "%s: cannot open the object: %s", path, strerror(errno));
	if (!bpf_object__next_map(obj, NULL))
		printf("%s: no maps\n", path);
	for (m = bpf_object__next_map(obj, NULL); m; m = bpf_object__next_map(obj, m))
		list_map(m);
	if (contents) {
		int err = bpf_object__load(obj);

		if (err) {
			ret = cli_error("maps", "%s: load failed: %s%s%s", path, strerror(-err),
					*syscall_last_error() ? ": " : "", syscall_last_error());
		} else {
			for (m = bpf_object__next_map(obj, NULL); m;
			     m = bpf_object__next_map(obj, m))
				if (map_dump(stdout, m))
					ret = CLI_FAIL;
		}
	}
	bpf_object__close(obj);
	return ret;
}

static void print_hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

/* A pinned map's header and entries: keys and values in hex, per-CPU values every CPU's copy. */
static int show_pinned(const char *pin)
{
	struct bpf_map_info info = {0};
	uint32_t len = sizeof(info);
	uint8_t *key = NULL, *next = NULL, *val = NULL;
	size_t vs;
	int fd, cpus, ret = CLI_OK;
	bool started = false;

	fd = bpf_obj_get(pin);
	if (fd < 0)
		return cli_error("maps", "%s: %s%s%s", pin, strerror(errno),
				 *syscall_last_error() ? ": " : "", syscall_last_error());
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		close(fd);
		return cli_error("maps", "%s: not a map: %s", pin, strerror(errno));
	}
	printf("%s: %s key %u value %u max_entries %u flags ", info.name,
	       type_name((enum bpf_map_type)info.type), info.key_size, info.value_size,
	       info.max_entries);
	print_flags(info.map_flags);
	printf(" pinned %s\n", pin);
	vs = info.value_size;
	cpus = libbpf_num_possible_cpus();
	if ((info.type == BPF_MAP_TYPE_PERCPU_ARRAY || info.type == BPF_MAP_TYPE_PERCPU_HASH ||
	     info.type == BPF_MAP_TYPE_LRU_PERCPU_HASH) &&
	    cpus > 0)
		vs = (size_t)cpus * ((vs + 7) & ~(size_t)7);
	key = calloc(1, info.key_size + 1);
	next = calloc(1, info.key_size + 1);
	val = calloc(1, vs + 1);
	if (!key || !next || !val)
		ret = cli_error("maps", "out of memory");
	/* maps without keys (queue, stack, ring buffer) have no entries to walk */
	while (!ret && info.key_size && !bpf_map_get_next_key(fd, started ? key : NULL, next)) {
		started = true;
		memcpy(key, next, info.key_size);
		if (bpf_map_lookup_elem(fd, key, val))
			continue;
		printf("  ");
		print_hex(key, info.key_size);
		printf(" => ");
		print_hex(val, vs);
		putchar('\n');
	}
	free(key);
	free(next);
	free(val);
	close(fd);
	return ret;
}

int cmd_maps(int argc, char **argv)
{
	static const struct option opts[] = {
		{"help", no_argument, NULL, 'h'},
		{"contents", no_argument, NULL, 'c'},
		{"pinned", required_argument, NULL, 'p'},
		{0},
	};
	const char *pinned = NULL;
	bool contents = false;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			contents = true;
			break;
		case 'p':
			pinned = optarg;
			break;
		case 'h':
			fputs(maps_usage, stdout);
			return CLI_OK;
		default:
			return cli_bad_option("maps", opt, argv);
		}
	}
	if (pinned) {
		if (argc != optind || contents)
			return cli_usage_error("maps", "--pinned PATH takes no object and no "
						       "--contents");
		return show_pinned(pinned);
	}
	if (argc - optind != 1)
		return cli_usage_error("maps", "expected one OBJ, got %d arguments", argc - optind);
	if (!cli_is_elf(argv[optind]))
		return cli_error("maps", "%s: not an ELF object", argv[optind]);
	return list_object(argv[optind], contents);
}
