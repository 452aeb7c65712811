// SPDX-License-Identifier: MIT
/*
 * The bpf() emulation through unmodified libbpf, in-process (this binary
 * links uebpf's syscall()): objects from tests/progs load and run, maps
 * hold what the programs wrote, fds behave as files (dup, close, fcntl,
 * mmap of global data at offset 0), introspection, freeze, pins, and bad
 * input gets errors, not crashes.
 *
 *   test_syscall PROGS_DIR   (the engine comes from UEBPF_ENGINE)
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"
#include "syscall/syscall.h"

static const char *progs_dir;
static char libbpf_log[8192];

static int capture_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	size_t len = strlen(libbpf_log);

	if (level == LIBBPF_DEBUG || len >= sizeof(libbpf_log) - 1)
		return 0;
	return vsnprintf(libbpf_log + len, sizeof(libbpf_log) - len, fmt, ap);
}

static struct bpf_object *open_obj(const char *name)
{
	char path[512];
	struct bpf_object *obj;

	snprintf(path, sizeof(path), "%s/%s.bpf.o", progs_dir, name);
	obj = bpf_object__open_file(path, NULL);
	EXPECT(obj, "open %s: %s", path, strerror(errno));
	return obj;
}

static struct bpf_object *load_obj(const char *name)
{
	struct bpf_object *obj = open_obj(name);
	int ret;

	if (!obj)
		return NULL;
	ret = bpf_object__load(obj);
	EXPECT(ret == 0, "load %s: %d (%s)", name, ret, syscall_last_error());
	if (ret) {
		bpf_object__close(obj);
		return NULL;
	}
	return obj;
}

static int map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	return m ? bpf_map__fd(m) : -1;
}

static int prog_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(obj, name);

	return p ? bpf_program__fd(p) : -1;
}

static uint64_t lookup_u64(int fd, uint32_t key)
{
	uint64_t v = 0xdeadbeef;

	EXPECT(bpf_map_lookup_elem(fd, &key, &v) == 0, "lookup key %u: %s", key, strerror(errno));
	return v;
}

/* An Ethernet + IPv4 header (valid checksum) + zero payload, len bytes. */
static void ipv4_packet(unsigned char *p, size_t len)
{
	static const unsigned char hdr[] = {
		0x02, 0, 0, 0,	0, 0x01, 0x02, 0, 0,  0,  0, 0x02, 0x08, 0x00, /* eth */
		0x45, 0, 0, 46, 0, 0,	 0,    0, 64, 17, 0, 0,	   10,	 0,    0, 1, 10, 0, 0, 2,
	};
	uint32_t sum = 0;

	memset(p, 0, len);
	memcpy(p, hdr, sizeof(hdr));
	for (int i = 14; i < 34; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = ~(sum + (sum >> 16)) & 0xffff;
	p[24] = (unsigned char)(sum >> 8);
	p[25] = (unsigned char)sum;
}

static bool ipv4_csum_ok(const unsigned char *p)
{
	uint32_t sum = 0;

	for (int i = 14; i < 34; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	sum = (sum & 0xffff) + (sum >> 16);
	return ((sum + (sum >> 16)) & 0xffff) == 0xffff;
}

static void test_global_data(void)
{
	struct bpf_object *obj = open_obj("global_data");
	unsigned char pkt[64] = {0};
	struct bpf_map *rodata;
	int ret, bss, data, ro, pfd;
	uint64_t five = 5, *vals, v;
	const void *init;
	uint32_t k = 0;
	size_t sz;

	if (!obj)
		return;
	rodata = bpf_object__find_map_by_name(obj, ".rodata");
	EXPECT(rodata, "a .rodata map");
	init = rodata ? bpf_map__initial_value(rodata, &sz) : NULL;
	EXPECT(init && sz == sizeof(uint64_t), ".rodata holds factor");
	if (init && sz == sizeof(uint64_t))
		bpf_map__set_initial_value(rodata, &five, sizeof(five));
	ret = bpf_object__load(obj);
	EXPECT(ret == 0, "load: %d (%s)", ret, syscall_last_error());
	if (ret) {
		bpf_object__close(obj);
		return;
	}
	pfd = prog_fd(obj, "global_data");
	for (int i = 0; i < 3; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = sizeof(pkt));
		ret = bpf_prog_test_run_opts(pfd, &t);
		EXPECT(ret == 0 && t.retval == XDP_PASS, "run %d: %d retval %u (%s)", i, ret,
		       t.retval, syscall_last_error());
	}
	EXPECT(lookup_u64(map_fd(obj, "counts"), 1) == 15, "counts[1] = 3 runs * factor 5");
	EXPECT(lookup_u64(map_fd(obj, "counts"), 0) == 0, "counts[0] untouched");
	EXPECT(lookup_u64(map_fd(obj, "seen"), 7) == 64, "seen[7] = packet length");
	bss = map_fd(obj, ".bss");
	data = map_fd(obj, ".data");
	ro = map_fd(obj, ".rodata");
	EXPECT(lookup_u64(bss, 0) == 3, ".bss calls = 3");
	EXPECT(lookup_u64(data, 0) == 25, ".data total = 10 + 3 * 5");
	EXPECT(lookup_u64(ro, 0) == 5, ".rodata factor = 5");

	/* libbpf maps global data at offset 0 of the map's fd */
	vals = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED, bss,
		    0);
	EXPECT(vals != MAP_FAILED, "mmap .bss: %s", strerror(errno));
	if (vals != MAP_FAILED) {
		EXPECT(vals[0] == 3, "mmap'd .bss holds calls: %llu", (unsigned long long)vals[0]);
		vals[0] = 100;
		EXPECT(lookup_u64(bss, 0) == 100, "a write through mmap is seen by lookup");
		munmap(vals, (size_t)sysconf(_SC_PAGESIZE));
	}

	/* .rodata is frozen: user space may not write it */
	v = 9;
	EXPECT(bpf_map_update_elem(ro, &k, &v, BPF_ANY) == -EPERM, "update of frozen .rodata");
	EXPECT(bpf_map_freeze(ro) == -EBUSY, "second freeze");
	EXPECT(bpf_map_update_elem(data, &k, &v, BPF_ANY) == 0, ".data stays writable");
	EXPECT(lookup_u64(data, 0) == 9, ".data updated");
	bpf_object__close(obj);
}

static void test_fds(void)
{
	struct bpf_object *obj = load_obj("global_data");
	unsigned char pkt[32] = {0};
	int counts, dupfd, pdup, ret;
	uint64_t v = 42;
	uint32_t k = 2;

	if (!obj)
		return;
	counts = map_fd(obj, "counts");
	EXPECT(fcntl(counts, F_GETFD) & FD_CLOEXEC, "map fds are close-on-exec");
	dupfd = dup(counts);
	EXPECT(bpf_map_update_elem(dupfd, &k, &v, BPF_ANY) == 0, "update through a dup");
	EXPECT(lookup_u64(counts, 2) == 42, "seen through the original");
	pdup = fcntl(prog_fd(obj, "global_data"), F_DUPFD, 100);
	EXPECT(pdup >= 100, "dup of a program fd");
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = sizeof(pkt));
	ret = bpf_prog_test_run_opts(pdup, &t);
	EXPECT(ret == 0 && t.retval == XDP_PASS, "test run through a dup'd fd: %d", ret);
	close(pdup);
	EXPECT(bpf_prog_test_run_opts(pdup, &t) == -EBADF, "closed fd");
	EXPECT(bpf_prog_test_run_opts(counts, &t) == -EINVAL, "a map fd is not a program");
	bpf_object__close(obj);
	/* the map lives on while an fd to it is open */
	EXPECT(lookup_u64(dupfd, 2) == 42, "map alive through the dup after close");
	close(dupfd);
}

/* Walk the whole map in batches of 16; returns how many elements came, checking each. */
static uint32_t lookup_all(int fd, bool del, uint32_t *seen)
{
	uint32_t keys[16], token = 0, count, total = 0;
	uint64_t values[16];
	int ret;

	do {
		LIBBPF_OPTS(bpf_map_batch_opts, o);
		count = 16;
		ret = del ? bpf_map_lookup_and_delete_batch(fd, total ? &token : NULL, &token, keys,
							    values, &count, &o)
			  : bpf_map_lookup_batch(fd, total ? &token : NULL, &token, keys, values,
						 &count, &o);
		EXPECT(ret == 0 || ret == -ENOENT, "batch: %d (%s)", ret, syscall_last_error());
		for (uint32_t i = 0; i < count; i++) {
			EXPECT(values[i] == keys[i] * 3ull, "value of key %u", keys[i]);
			if (keys[i] < 64)
				seen[keys[i]]++;
		}
		total += count;
	} while (ret == 0 && total < 1000);
	return total;
}

static void test_batch(void)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "batch", 4, 8, 64, NULL);
	uint32_t keys[50], count, seen[64] = {0}, n;
	uint64_t values[50];
	bool once = true;
	int ret;

	for (uint32_t i = 0; i < 50; i++) {
		keys[i] = i;
		values[i] = i * 3ull;
	}
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	count = 50;
	ret = bpf_map_update_batch(fd, keys, values, &count, &o);
	EXPECT(ret == 0 && count == 50, "update batch: %d count %u", ret, count);
	n = lookup_all(fd, false, seen);
	for (uint32_t i = 0; i < 50; i++)
		once = once && seen[i] == 1;
	EXPECT(n == 50 && once, "every element once: %u", n);
	count = 10;
	ret = bpf_map_delete_batch(fd, keys, &count, &o);
	EXPECT(ret == 0 && count == 10, "delete batch: %d count %u", ret, count);
	count = 2;
	ret = bpf_map_delete_batch(fd, keys, &count, &o);
	EXPECT(ret == -ENOENT && count == 0, "delete of a missing key stops: %d %u", ret, count);
	memset(seen, 0, sizeof(seen));
	n = lookup_all(fd, true, seen);
	EXPECT(n == 40 && !seen[0] && seen[10] == 1 && seen[49] == 1, "lookup and delete: %u", n);
	EXPECT(bpf_map_get_next_key(fd, NULL, keys) == -ENOENT, "map empty after");
	close(fd);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

/* Objects whose fds are all closed are freed; those still used are not. */
static void test_collection(void)
{
	struct bpf_object *obj = load_obj("global_data");
	unsigned char pkt[20] = {0};
	int before, keep, counts, pfd;
	uint64_t v = 5;
	uint32_t k = 0;

	if (!obj)
		return;
	keep = bpf_map_create(BPF_MAP_TYPE_HASH, "keep", 4, 8, 4, NULL);
	EXPECT(bpf_map_update_elem(keep, &k, &v, BPF_ANY) == 0, "update kept map");
	/* the program holds its maps after libbpf's fds of them are gone */
	counts = map_fd(obj, "counts");
	pfd = fcntl(prog_fd(obj, "global_data"), F_DUPFD_CLOEXEC, 0);
	before = count_fds();
	for (int i = 0; i < 400; i++) {
		int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "tmp", 4, 8, 1, NULL);

		EXPECT(fd >= 0, "create %d: %s", i, syscall_last_error());
		close(fd);
	}
	EXPECT(count_fds() < before + 200, "closed maps are freed: %d fds, %d before", count_fds(),
	       before);
	EXPECT(lookup_u64(keep, 0) == 5, "a map with an open fd stays");
	bpf_object__close(obj);
	for (int i = 0; i < 400; i++)
		close(bpf_map_create(BPF_MAP_TYPE_ARRAY, "tmp", 4, 8, 1, NULL));
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = sizeof(pkt));
	EXPECT(bpf_prog_test_run_opts(pfd, &t) == 0 && t.retval == XDP_PASS,
	       "a program whose maps' fds closed still runs");
	EXPECT(bpf_map_lookup_elem(counts, &k, &v) < 0, "the closed fd is no map");
	close(pfd);
	close(keep);
}

static void test_info(void)
{
	struct bpf_object *obj = load_obj("global_data");
	struct bpf_prog_info pinfo;
	struct bpf_map_info minfo;
	struct bpf_btf_info binfo;
	uint32_t len, ids[8], id, next;
	unsigned char blob[8192];
	struct bpf_insn insns[128];
	int fd, ret;

	if (!obj)
		return;
	memset(&minfo, 0, sizeof(minfo));
	len = sizeof(minfo);
	ret = bpf_obj_get_info_by_fd(map_fd(obj, "seen"), &minfo, &len);
	EXPECT(ret == 0 && len == sizeof(minfo), "map info: %d", ret);
	EXPECT(minfo.type == BPF_MAP_TYPE_HASH && minfo.key_size == 4 && minfo.value_size == 8 &&
		       minfo.max_entries == 16 && !strcmp(minfo.name, "seen"),
	       "map info fields");
	EXPECT(minfo.btf_id && minfo.btf_value_type_id, "map info names its BTF");

	memset(&pinfo, 0, sizeof(pinfo));
	pinfo.nr_map_ids = 8;
	pinfo.map_ids = (uintptr_t)ids;
	pinfo.xlated_prog_len = sizeof(insns);
	pinfo.xlated_prog_insns = (uintptr_t)insns;
	len = sizeof(pinfo);
	ret = bpf_obj_get_info_by_fd(prog_fd(obj, "global_data"), &pinfo, &len);
	EXPECT(ret == 0, "prog info: %d", ret);
	EXPECT(pinfo.type == BPF_PROG_TYPE_XDP && !strcmp(pinfo.name, "global_data"),
	       "prog type and name: %u %s", pinfo.type, pinfo.name);
	EXPECT(pinfo.nr_map_ids == 5, "5 maps used (2 + 3 global data): %u", pinfo.nr_map_ids);
	EXPECT(pinfo.xlated_prog_len && pinfo.xlated_prog_len % 8 == 0 && insns[0].code,
	       "instructions readable");
	EXPECT(pinfo.gpl_compatible, "GPL license");

	fd = bpf_btf_get_fd_by_id(minfo.btf_id);
	EXPECT(fd >= 0, "BTF fd by id");
	memset(&binfo, 0, sizeof(binfo));
	binfo.btf = (uintptr_t)blob;
	binfo.btf_size = sizeof(blob);
	len = sizeof(binfo);
	ret = bpf_obj_get_info_by_fd(fd, &binfo, &len);
	EXPECT(ret == 0 && binfo.id == minfo.btf_id && binfo.btf_size > 24 && blob[0] == 0x9f &&
		       blob[1] == 0xeb,
	       "BTF info and blob");
	close(fd);

	/* walking the ids reaches the map, and its id opens it */
	for (id = 0, next = 0; !bpf_map_get_next_id(id, &next); id = next)
		if (next == minfo.id)
			break;
	EXPECT(next == minfo.id, "map id found by GET_NEXT_ID");
	fd = bpf_map_get_fd_by_id(minfo.id);
	EXPECT(fd >= 0, "map fd by id");
	memset(&minfo, 0, sizeof(minfo));
	len = sizeof(minfo);
	EXPECT(bpf_obj_get_info_by_fd(fd, &minfo, &len) == 0 && !strcmp(minfo.name, "seen"),
	       "same map");
	close(fd);
	EXPECT(bpf_map_get_fd_by_id(0xfffffff) == -ENOENT, "no such id");
	bpf_object__close(obj);
}

static void test_xdp_rewrite(void)
{
	struct bpf_object *obj = load_obj("xdp_rewrite");
	unsigned char pkt[60], out[128];
	int pfd, ret;

	if (!obj)
		return;
	pfd = prog_fd(obj, "xdp_rewrite");
	ipv4_packet(pkt, sizeof(pkt));
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .data_out = out, .data_size_out = sizeof(out));
	ret = bpf_prog_test_run_opts(pfd, &t);
	EXPECT(ret == 0 && t.retval == XDP_TX, "IPv4 sent back: %d retval %u (%s)", ret, t.retval,
	       syscall_last_error());
	EXPECT(t.data_size_out == sizeof(pkt), "same length out: %u", t.data_size_out);
	EXPECT(!memcmp(out, pkt + 6, 6) && !memcmp(out + 6, pkt, 6), "MACs swapped");
	EXPECT(out[22] == 63 && ipv4_csum_ok(out), "TTL decremented, checksum fixed");
	EXPECT(!memcmp(out + 34, pkt + 34, sizeof(pkt) - 34), "payload untouched");

	pkt[12] = 0x86;
	pkt[13] = 0xdd;
	t.data_size_out = sizeof(out);
	ret = bpf_prog_test_run_opts(pfd, &t);
	EXPECT(ret == 0 && t.retval == XDP_PASS && !memcmp(out, pkt, sizeof(pkt)),
	       "IPv6 passes unchanged");
	t.data_size_in = 10;
	EXPECT(bpf_prog_test_run_opts(pfd, &t) == -EINVAL, "a packet under 14 bytes");

	/* a short output buffer gets what fits, -ENOSPC and the full size */
	t.data_size_in = sizeof(pkt);
	t.data_size_out = 20;
	EXPECT(bpf_prog_test_run_opts(pfd, &t) == -ENOSPC && t.data_size_out == sizeof(pkt),
	       "short data_out");
	EXPECT(lookup_u64(map_fd(obj, "verdicts"), 2) == 1, "one XDP_TX counted");
	EXPECT(lookup_u64(map_fd(obj, "verdicts"), 1) == 2, "two XDP_PASS counted");
	bpf_object__close(obj);
}

static void test_skb(void)
{
	struct bpf_object *obj = load_obj("skb");
	struct __sk_buff ctx_in = {.priority = 3}, ctx_out;
	unsigned char pkt[60], out[64];
	uint32_t key = ETH_P_IP, len = 0;
	int ret;

	if (!obj)
		return;
	ipv4_packet(pkt, sizeof(pkt));
	memset(&ctx_out, 0, sizeof(ctx_out));
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = sizeof(pkt),
		    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx_in,
		    .ctx_size_in = sizeof(ctx_in), .ctx_out = &ctx_out,
		    .ctx_size_out = sizeof(ctx_out));
	ret = bpf_prog_test_run_opts(prog_fd(obj, "tc_len"), &t);
	EXPECT(ret == 0 && t.retval == 1060, "tc: IPv4, len 60: %d retval %u (%s)", ret, t.retval,
	       syscall_last_error());
	EXPECT(ctx_out.mark == 0x55 && ctx_out.priority == 3, "ctx_out: mark %u priority %u",
	       ctx_out.mark, ctx_out.priority);
	EXPECT(t.data_size_out == sizeof(pkt) && !memcmp(out, pkt, sizeof(pkt)), "packet out");
	EXPECT(bpf_map_lookup_elem(map_fd(obj, "lengths"), &key, &len) == 0 && len == 60,
	       "lengths[0x800] = %u", len);
	ctx_in.len = 5;
	EXPECT(bpf_prog_test_run_opts(prog_fd(obj, "tc_len"), &t) == -EINVAL,
	       "ctx_in may not set len");
	bpf_object__close(obj);

	/* a socket filter sees the packet from the network header on */
	obj = load_obj("skb");
	if (!obj)
		return;
	LIBBPF_OPTS(bpf_test_run_opts, s, .data_in = pkt, .data_size_in = sizeof(pkt));
	ret = bpf_prog_test_run_opts(prog_fd(obj, "socket_len"), &s);
	EXPECT(ret == 0 && s.retval == sizeof(pkt) - ETH_HLEN, "socket filter len: %u", s.retval);
	bpf_object__close(obj);
}

/* A 64-bit variable of .bss, found by name through the object's BTF. */
static int64_t bss_var(struct bpf_object *obj, const char *name)
{
	struct btf *btf = bpf_object__btf(obj);
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	unsigned char bss[256];
	int64_t v = INT64_MIN;
	uint32_t k = 0;
	int id;

	id = btf ? btf__find_by_name_kind(btf, ".bss", BTF_KIND_DATASEC) : -1;
	if (id < 0 || bpf_map_lookup_elem(map_fd(obj, ".bss"), &k, bss))
		return v;
	sec = btf__type_by_id(btf, (uint32_t)id);
	vs = btf_var_secinfos(sec);
	for (uint16_t i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);

		if (!strcmp(btf__name_by_offset(btf, var->name_off), name) &&
		    vs->offset + 8 <= sizeof(bss))
			memcpy(&v, bss + vs->offset, vs->size < 8 ? vs->size : 8);
	}
	return v;
}

static void test_raw_ctx(void)
{
	struct bpf_object *obj = load_obj("isa_v4");
	uint64_t args[4] = {(uint64_t)-7, 2, 0x80, 0x8000};
	int ret;

	if (!obj)
		return;
	LIBBPF_OPTS(bpf_test_run_opts, t, .ctx_in = args, .ctx_size_in = sizeof(args));
	ret = bpf_prog_test_run_opts(prog_fd(obj, "isa_v4"), &t);
	EXPECT(ret == 0 && t.retval == (uint32_t)-4, "retval -7/2 + -7%%2 = -4: %d %u (%s)", ret,
	       t.retval, syscall_last_error());
	EXPECT(bss_var(obj, "quot") == -3 && bss_var(obj, "rem") == -1, "sdiv/smod: %lld %lld",
	       (long long)bss_var(obj, "quot"), (long long)bss_var(obj, "rem"));
	EXPECT(bss_var(obj, "sx8") == -128 && bss_var(obj, "sx16") == -32768, "movsx: %lld %lld",
	       (long long)bss_var(obj, "sx8"), (long long)bss_var(obj, "sx16"));
	EXPECT((uint64_t)bss_var(obj, "swapped") == __builtin_bswap64((uint64_t)-7), "bswap64");
	EXPECT((int32_t)bss_var(obj, "quot32") == 0, "32-bit sdiv: 0x80 / 0x8000");
	bpf_object__close(obj);
}

/* Whether programs may call helper id (registered by src/helpers). */
static bool helper_available(int id)
{
	struct bpf_insn insns[] = {
		{.code = BPF_JMP | BPF_CALL, .imm = id},
		{.code = BPF_JMP | BPF_EXIT},
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, NULL, "GPL", insns, 2, NULL);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* A PROG_ARRAY takes program fds and gives back their ids. */
static void test_prog_array(void)
{
	struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 7},
		{.code = BPF_JMP | BPF_EXIT},
	};
	int table = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "table", 4, 4, 2, NULL);
	int prog = bpf_prog_load(BPF_PROG_TYPE_XDP, "seven", "GPL", insns, 2, NULL);
	struct bpf_prog_info info;
	uint32_t len = sizeof(info), k = 1, id = 0;

	EXPECT(table >= 0 && prog >= 0, "prog array and program: %s", syscall_last_error());
	memset(&info, 0, sizeof(info));
	EXPECT(bpf_obj_get_info_by_fd(prog, &info, &len) == 0 && info.id, "program id");
	EXPECT(bpf_map_update_elem(table, &k, &prog, BPF_ANY) == 0, "put a program fd: %s",
	       syscall_last_error());
	EXPECT(bpf_map_lookup_elem(table, &k, &id) == 0 && id == info.id, "lookup gives its id");
	EXPECT(bpf_map_update_elem(table, &k, &table, BPF_ANY) == -EINVAL, "a map is no program");
	k = 2;
	EXPECT(bpf_map_update_elem(table, &k, &prog, BPF_ANY) == -E2BIG, "index past the end");
	k = 1;
	close(prog);
	/* the array holds the program: its id still opens it */
	prog = bpf_prog_get_fd_by_id(id);
	EXPECT(prog >= 0, "program alive while in the array");
	close(prog);
	EXPECT(bpf_map_delete_elem(table, &k) == 0, "delete");
	EXPECT(bpf_map_lookup_elem(table, &k, &id) == -ENOENT, "slot empty");
	close(table);
}

static void test_tail_call(void)
{
	struct bpf_object *obj;
	unsigned char pkt[20] = {0};
	int table, target, ret;
	uint32_t k = 1, id = 0;
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);

	if (!helper_available(BPF_FUNC_tail_call)) {
		printf("skipping tail calls: helper bpf_tail_call is not registered\n");
		return;
	}
	obj = load_obj("tail_call");
	if (!obj)
		return;
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = sizeof(pkt));
	ret = bpf_prog_test_run_opts(prog_fd(obj, "entry"), &t);
	EXPECT(ret == 0 && t.retval == XDP_TX, "tail call to target: %d retval %u (%s)", ret,
	       t.retval, syscall_last_error());
	EXPECT(bss_var(obj, "hits") == 111, "entry, past the empty slot, then target: %lld",
	       (long long)bss_var(obj, "hits"));
	table = map_fd(obj, "jump_table");
	target = prog_fd(obj, "target");
	memset(&info, 0, sizeof(info));
	EXPECT(bpf_obj_get_info_by_fd(target, &info, &len) == 0, "target info");
	EXPECT(bpf_map_lookup_elem(table, &k, &id) == 0 && id == info.id,
	       "the slot holds target's id %u: %u", info.id, id);
	/* the table holds target after its fd is gone */
	close(dup(target));
	EXPECT(bpf_map_delete_elem(table, &k) == 0, "empty slot 1");
	ret = bpf_prog_test_run_opts(prog_fd(obj, "entry"), &t);
	EXPECT(ret == 0 && t.retval == XDP_DROP, "no tail call: retval %u", t.retval);
	EXPECT(bss_var(obj, "hits") == 212, "entry alone: %lld", (long long)bss_var(obj, "hits"));
	EXPECT(bpf_map_update_elem(table, &k, &target, BPF_ANY) == 0, "put target back: %s",
	       syscall_last_error());
	k = 0;
	EXPECT(bpf_map_update_elem(table, &k, &table, BPF_ANY) == -EINVAL, "a map is no program");
	ret = bpf_prog_test_run_opts(prog_fd(obj, "entry"), &t);
	EXPECT(ret == 0 && t.retval == XDP_TX, "tail call again: retval %u", t.retval);
	bpf_object__close(obj);
}

static long raw_bpf(int cmd, union bpf_attr *attr, unsigned int size)
{
	return syscall(__NR_bpf, cmd, attr, size);
}

static void test_bad_input(void)
{
	struct bpf_object *obj;
	union bpf_attr attr;
	char big[sizeof(attr) + 16];
	char log[512] = "";
	struct bpf_insn call[] = {
		{.code = BPF_JMP | BPF_CALL, .imm = 9999},
		{.code = BPF_JMP | BPF_EXIT},
	};

	memset(&attr, 0, sizeof(attr));
	EXPECT(raw_bpf(1000, &attr, sizeof(attr)) == -1 && errno == EINVAL, "unknown command");
	attr.map_type = 99;
	attr.key_size = 4;
	attr.value_size = 4;
	attr.max_entries = 1;
	EXPECT(raw_bpf(BPF_MAP_CREATE, &attr, sizeof(attr)) == -1 && errno == EINVAL,
	       "unknown map type");
	EXPECT(strstr(syscall_last_error(), "unknown map type 99"), "message: %s",
	       syscall_last_error());
	attr.map_type = BPF_MAP_TYPE_ARRAY;
	attr.key_size = 3;
	EXPECT(raw_bpf(BPF_MAP_CREATE, &attr, sizeof(attr)) == -1 && errno == EINVAL,
	       "array key of 3 bytes");
	memset(big, 0, sizeof(big));
	big[sizeof(attr) + 3] = 1;
	EXPECT(raw_bpf(BPF_MAP_CREATE, (union bpf_attr *)big, sizeof(big)) == -1 && errno == E2BIG,
	       "unknown attribute bytes");
	memset(&attr, 0, sizeof(attr));
	attr.map_fd = (uint32_t)open("/dev/null", O_RDONLY | O_CLOEXEC);
	EXPECT(raw_bpf(BPF_MAP_LOOKUP_ELEM, &attr, sizeof(attr)) == -1 && errno == EINVAL,
	       "/dev/null is no map");
	close((int)attr.map_fd);
	EXPECT(raw_bpf(BPF_MAP_LOOKUP_ELEM, &attr, sizeof(attr)) == -1 && errno == EBADF,
	       "a closed fd");

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_XDP;
	attr.insns = (uintptr_t)call;
	attr.insn_cnt = 2;
	attr.license = (uintptr_t) "GPL";
	attr.log_buf = (uintptr_t)log;
	attr.log_size = sizeof(log);
	attr.log_level = 1;
	EXPECT(raw_bpf(BPF_PROG_LOAD, &attr, sizeof(attr)) == -1, "unknown helper refused");
	EXPECT(strstr(log, "9999"), "log names the helper: %s", log);
	attr.insn_cnt = 0;
	EXPECT(raw_bpf(BPF_PROG_LOAD, &attr, sizeof(attr)) == -1 && errno == EINVAL, "no insns");

	libbpf_log[0] = '\0';
	obj = open_obj("bad_map");
	if (obj) {
		EXPECT(bpf_object__load(obj) < 0, "object with a map of type 99 fails to load");
		EXPECT(strstr(syscall_last_error(), "map type"), "message: %s",
		       syscall_last_error());
		bpf_object__close(obj);
	}
	obj = open_obj("bad_helper");
	if (obj) {
		EXPECT(bpf_object__load(obj) < 0, "object calling helper 9999 fails to load");
		EXPECT(strstr(libbpf_log, "9999"), "libbpf shows the load log: %s", libbpf_log);
		bpf_object__close(obj);
	}
	/* the verifier refuses writes to data/data_end; unverified, the test run must catch them */
	obj = open_obj("ctx_corrupt");
	if (obj) {
		EXPECT(bpf_object__load(obj) == -EACCES, "the verifier refuses ctx_corrupt");
		EXPECT(strstr(syscall_last_error(), "invalid bpf_context access"), "message: %s",
		       syscall_last_error());
		bpf_object__close(obj);
	}
	setenv("UEBPF_VERIFY", "0", 1);
	obj = load_obj("ctx_corrupt");
	unsetenv("UEBPF_VERIFY");
	if (obj) {
		unsigned char pkt[60] = {0}, out[128];

		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = sizeof(pkt),
			    .data_out = out, .data_size_out = sizeof(out));
		EXPECT(bpf_prog_test_run_opts(prog_fd(obj, "xdp_bad_bounds"), &t) == -EFAULT,
		       "XDP program that broke data/data_end");
		EXPECT(strstr(syscall_last_error(), "outside the packet"), "message: %s",
		       syscall_last_error());
		EXPECT(bpf_prog_test_run_opts(prog_fd(obj, "tc_bad_data"), &t) == -EFAULT,
		       "tc program that broke data");
		bpf_object__close(obj);
	}
	errno = 0;
	obj = bpf_object__open_file("/proc/self/status", NULL);
	EXPECT(!obj && errno, "not an object");
}

static void test_pins(void)
{
	char dir[] = "/dev/shm/uebpf-pins-XXXXXX", path[512];
	struct bpf_object *obj;
	struct stat st;
	int fd, counts;
	uint64_t v = 77;
	uint32_t k = 3;

	if (!mkdtemp(dir)) {
		EXPECT(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	setenv("UEBPF_PIN_DIR", dir, 1);
	obj = load_obj("global_data");
	if (!obj)
		return;
	counts = map_fd(obj, "counts");
	EXPECT(bpf_map_update_elem(counts, &k, &v, BPF_ANY) == 0, "update");
	EXPECT(bpf_obj_pin(counts, "/sys/fs/bpf/uebpf-test/counts") == 0, "pin: %s",
	       syscall_last_error());
	snprintf(path, sizeof(path), "%s/sys/fs/bpf/uebpf-test/counts", dir);
	EXPECT(lstat(path, &st) == 0, "pin under UEBPF_PIN_DIR");
	EXPECT(bpf_obj_pin(counts, "/sys/fs/bpf/uebpf-test/counts") == -EEXIST, "pinned twice");
	EXPECT(bpf_obj_pin(prog_fd(obj, "global_data"), "/sys/fs/bpf/uebpf-test/prog") == 0,
	       "pin a program");
	fd = bpf_obj_get("/sys/fs/bpf/uebpf-test/counts");
	EXPECT(fd >= 0, "get the pinned map: %s", syscall_last_error());
	if (fd >= 0) {
		EXPECT(lookup_u64(fd, 3) == 77, "pinned map has the value");
		close(fd);
	}
	fd = bpf_obj_get("/sys/fs/bpf/uebpf-test/prog");
	EXPECT(fd >= 0, "get the pinned program");
	if (fd >= 0) {
		unsigned char pkt[20] = {0};

		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = pkt, .data_size_in = sizeof(pkt));
		EXPECT(bpf_prog_test_run_opts(fd, &t) == 0 && t.retval == XDP_PASS,
		       "run the pinned program");
		close(fd);
	}
	EXPECT(bpf_obj_get("/sys/fs/bpf/uebpf-test/none") == -ENOENT, "no such pin");
	unlink(path);
	snprintf(path, sizeof(path), "%s/sys/fs/bpf/uebpf-test/prog", dir);
	unlink(path);
	bpf_object__close(obj);
	for (int i = 0; i < 4; i++) {
		char *slash = strrchr(path, '/');

		*slash = '\0';
		rmdir(path);
	}
	rmdir(dir);
	unsetenv("UEBPF_PIN_DIR");
}

/*
 * Whether the engine lets helpers take a pointer to the program's stack
 * (a key for bpf_map_lookup_elem): an engine that does not publish its
 * stack to helpers cannot run these objects, and the test is skipped.
 */
static bool engine_helpers_take_stack(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, mopts);
	int mfd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "probe", 4, 8, 1, &mopts), pfd;
	struct bpf_insn insns[] = {
		{.code = BPF_ST | BPF_W | BPF_MEM, .dst_reg = BPF_REG_10, .off = -4, .imm = 0},
		{.code = BPF_LD | BPF_DW | BPF_IMM,
		 .dst_reg = BPF_REG_1,
		 .src_reg = BPF_PSEUDO_MAP_FD,
		 .imm = mfd},
		{0},
		{.code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_2, .src_reg = BPF_REG_10},
		{.code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_2, .imm = -4},
		{.code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_map_lookup_elem},
		{.code = BPF_JMP | BPF_JNE | BPF_K, .dst_reg = BPF_REG_0, .off = 1},
		{.code = BPF_JMP | BPF_EXIT},
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1},
		{.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_test_run_opts, t);
	bool ok;

	pfd = bpf_prog_load(BPF_PROG_TYPE_SYSCALL, "probe", "GPL", insns,
			    sizeof(insns) / sizeof(insns[0]), NULL);
	ok = pfd >= 0 && !bpf_prog_test_run_opts(pfd, &t) && t.retval == 1;
	close(pfd);
	close(mfd);
	return ok;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_syscall PROGS_DIR\n");
		return 2;
	}
	progs_dir = argv[1];
	libbpf_set_print(capture_log);
	if (!engine_helpers_take_stack()) {
		printf("SKIP: engine %s: helpers refuse pointers to the program's stack (the "
		       "engine does not publish it in struct vm_run)\n",
		       getenv("UEBPF_ENGINE") ? getenv("UEBPF_ENGINE") : "interp");
		return 77;
	}
	test_global_data();
	test_fds();
	test_info();
	test_collection();
	test_batch();
	test_xdp_rewrite();
	test_skb();
	test_raw_ctx();
	test_prog_array();
	test_tail_call();
	test_bad_input();
	test_pins();
	return check_summary();
}
