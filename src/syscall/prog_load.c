// SPDX-License-Identifier: MIT
/*
 * BPF_PROG_LOAD: the instructions, with the map references libbpf put in
 * them (map fds in lddw, or indexes into fd_array), go into a uebpf VM with
 * every helper registered and a resolver from those fds to the maps, on the
 * engine UEBPF_ENGINE names. The program keeps a reference to each map it
 * uses. A rejection is explained in the caller's log_buf, as the kernel's
 * verifier does, and in the thread's last error.
 *
 * Programs are verified first (src/verifier) as their program type, with
 * the caller's log_level (1, 2: the verifier's log; 4: its statistics) into
 * log_buf, unless UEBPF_VERIFY=0 is in the environment or the type is one
 * the verifier does not model (tests/verifier/KNOWN_DIFFERENCES.md).
 * Nothing then proves that the program ends, so an unverified program runs
 * with an instruction budget: UEBPF_INSN_BUDGET instructions per run
 * (default 2^32, a few seconds; 0 for none), after which the run fails with
 * -E2BIG instead of hanging the caller.
 *
 * BPF_PROG_BIND_MAP only checks its fds: a program here holds its maps by
 * reference already.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "helpers/helpers.h"
#include "maps/maps.h"
#include "syscall/internal.h"
#include "uebpf/uebpf.h"
#include "verifier/verifier.h"
#include "vm/vm.h"

#define MAX_INSNS 1000000u /* BPF_COMPLEXITY_LIMIT_INSNS */
#define LICENSE_MAX 128

struct resolver {
	struct sys_prog *prog;
	const int32_t *fd_array;
	int err; /* the first failure to record a map */
};

static int keep_map(struct sys_prog *prog, struct sys_obj *obj)
{
	struct sys_obj **maps;

	for (uint32_t i = 0; i < prog->nmaps; i++) {
		if (prog->maps[i] == obj) {
			sys_obj_put(obj);
			return 0;
		}
	}
	maps = realloc(prog->maps, (prog->nmaps + 1) * sizeof(*maps));
	if (!maps) {
		sys_obj_put(obj);
		return -ENOMEM;
	}
	prog->maps = maps;
	prog->maps[prog->nmaps++] = obj;
	return 0;
}

static struct map *resolve(void *ctx, unsigned kind, int32_t imm)
{
	struct resolver *r = ctx;
	struct sys_obj *obj;
	int fd = imm;

	if (kind == ISA_PSEUDO_MAP_IDX || kind == ISA_PSEUDO_MAP_IDX_VALUE) {
		if (!r->fd_array || imm < 0)
			return NULL;
		fd = r->fd_array[imm];
	}
	if (sys_obj_get(fd, SYS_MAP, &obj))
		return NULL;
	if (keep_map(r->prog, obj)) {
		r->err = -ENOMEM;
		return NULL;
	}
	return obj->map.map;
}

static int verifier_map_of(void *ctx, const struct isa_insn *insn, struct verifier_map *out)
{
	return verifier_map_describe(resolve(ctx, insn->src, insn->imm), out);
}

#define UNVERIFIED_BUDGET (1ull << 32)

/* UEBPF_INSN_BUDGET, or the default when it is unset; -EINVAL when it is not a number. */
static int unverified_budget(uint64_t *budget, char *err, size_t err_len)
{
	const char *v = getenv("UEBPF_INSN_BUDGET");
	unsigned long long b;
	char *end;

	*budget = UNVERIFIED_BUDGET;
	if (!v || !*v)
		return 0;
	errno = 0;
	b = strtoull(v, &end, 0);
	if (errno || *end || *v == '-') {
		snprintf(err, err_len, "UEBPF_INSN_BUDGET=%s: not a number of instructions", v);
		return -EINVAL;
	}
	*budget = b;
	return 0;
}

static bool verify_wanted(uint32_t prog_type)
{
	const char *v = getenv("UEBPF_VERIFY");

	return (!v || strcmp(v, "0")) && verifier_prog_type(prog_type) >= 0;
}

/* The last "insn N: reason" line of a verifier log, into err. */
static void verifier_reason(const char *log, char *err, size_t err_len)
{
	const char *p = log, *line = log, *end;

	while ((p = strstr(p, "insn ")))
		if (p == log || p[-1] == '\n')
			line = p++;
		else
			p++;
	end = strchr(line, '\n');
	snprintf(err, err_len, "%.*s", end ? (int)(end - line) : (int)strlen(line), line);
}

/*
 * The verifier's verdict, its log in the caller's log_buf when there is one
 * and log_level asks for it (with statistics for log_level & 4). Returns 0
 * or the verifier's negative errno with its reason in err; *logged tells
 * log_buf already holds the log.
 */
static int verify(const union bpf_attr *attr, struct sys_prog *p, struct resolver *r, char *err,
		  size_t err_len, bool *logged)
{
	struct verifier_opts opts = {.type = (enum uebpf_prog_type)verifier_prog_type(p->type),
				     .log_level = attr->log_level & 3,
				     .map_of = verifier_map_of,
				     .map_ctx = r};
	char *ubuf = sys_ptr(attr->log_buf);
	bool to_user = ubuf && attr->log_size && attr->log_level;
	char *log = to_user ? ubuf : err;
	size_t log_len = to_user ? attr->log_size : err_len;
	struct verifier_stats stats;
	int ret;

	ret = verifier_check(p->insns, p->ninsns, &opts, NULL, &stats, log, log_len);
	if (!ret && r->err)
		ret = r->err;
	*logged = to_user;
	if (to_user && (attr->log_level & 4))
		verifier_stats_log(&stats, log, log_len);
	if (ret && to_user)
		verifier_reason(log, err, err_len);
	else if (ret && err[0] && err[strlen(err) - 1] == '\n')
		err[strlen(err) - 1] = '\0';
	return ret;
}

static bool license_gpl(const char *l)
{
	static const char *const gpl[] = {
		"GPL",		"GPL v2",	"GPL and additional rights",
		"Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL",
	};

	for (size_t i = 0; i < sizeof(gpl) / sizeof(gpl[0]); i++)
		if (!strcmp(l, gpl[i]))
			return true;
	return false;
}

static void write_log(const union bpf_attr *attr, const char *msg)
{
	char *log = sys_ptr(attr->log_buf);

	if (!log || !attr->log_size)
		return;
	if (*msg)
		snprintf(log, attr->log_size, "%s\n", msg);
	else
		*log = '\0';
}

/* After a verifier log already in log_buf: msg on a line of its own at its end. */
static void append_log(const union bpf_attr *attr, const char *msg)
{
	char *log = sys_ptr(attr->log_buf);
	size_t used;

	if (!log || !attr->log_size)
		return;
	used = strnlen(log, attr->log_size - 1);
	snprintf(log + used, attr->log_size - used, "%s\n", msg);
}

static int check_load_attr(const union bpf_attr *attr)
{
	int ret = sys_check_attr(attr, SYS_ATTR_END(core_relo_rec_size), "BPF_PROG_LOAD");

	if (ret)
		return ret;
	if (attr->prog_type == BPF_PROG_TYPE_UNSPEC || attr->prog_type > BPF_PROG_TYPE_SYSCALL) {
		sys_error("unknown program type %u", attr->prog_type);
		return -EINVAL;
	}
	if (!attr->insn_cnt) {
		sys_error("a program needs instructions");
		return -EINVAL;
	}
	if (attr->insn_cnt > MAX_INSNS) {
		sys_error("%u instructions, more than %u", attr->insn_cnt, MAX_INSNS);
		return -E2BIG;
	}
	if (!attr->insns || !attr->license)
		return -EFAULT;
	if (attr->prog_ifindex) {
		sys_error("offload to a device (prog_ifindex) is not supported");
		return -EINVAL;
	}
	return sys_check_obj_name(attr->prog_name);
}

void sys_prog_release(struct sys_prog *p)
{
	uebpf_vm_destroy(p->vm);
	for (uint32_t i = 0; i < p->nmaps; i++)
		sys_obj_put(p->maps[i]);
	if (p->btf)
		sys_obj_put(p->btf);
	free(p->maps);
	free(p->insns);
}

/* Verify, build and load the VM; err gets the reason it failed. */
static int prog_vm(struct sys_prog *p, const union bpf_attr *attr, char *err, size_t err_len,
		   bool *logged)
{
	struct resolver r = {.prog = p, .fd_array = sys_ptr(attr->fd_array)};
	int engine, ret;

	*logged = false;

	ret = sys_engine(&engine);
	if (ret) {
		snprintf(err, err_len, "%s", syscall_last_error());
		return ret;
	}
	p->vm = uebpf_vm_create();
	if (!p->vm) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	ret = uebpf_vm_set_engine(p->vm, (enum uebpf_engine)engine);
	if (ret) {
		snprintf(err, err_len, "engine %s is not available: %s", getenv("UEBPF_ENGINE"),
			 strerror(-ret));
		return ret;
	}
	ret = helpers_register_all(p->vm) ?: vm_set_map_resolver(p->vm, resolve, &r);
	if (ret) {
		snprintf(err, err_len, "cannot set up the VM: %s", strerror(-ret));
		return ret;
	}
	/* the verifier relies on validated instructions (registers, opcodes in range) */
	if (verify_wanted(p->type)) {
		ret = vm_validate(p->vm, p->insns, p->ninsns, err, err_len) ?:
		      verify(attr, p, &r, err, err_len, logged);
		if (ret)
			return ret;
	} else {
		uint64_t budget;

		ret = unverified_budget(&budget, err, err_len);
		if (ret)
			return ret;
		ret = uebpf_vm_set_insn_budget(p->vm, budget);
		if (ret) {
			snprintf(err, err_len, "cannot set the instruction budget: %s",
				 strerror(-ret));
			return ret;
		}
	}
	ret = uebpf_vm_load(p->vm, p->insns, (size_t)p->ninsns * sizeof(*p->insns), err, err_len);
	if (!ret && r.err) {
		snprintf(err, err_len, "out of memory");
		ret = r.err;
	}
	return ret;
}

int sys_prog_load(union bpf_attr *attr)
{
	char license[LICENSE_MAX], err[512];
	struct sys_obj *obj;
	struct timespec ts;
	struct sys_prog *p;
	bool logged = false;
	int ret, fd;

	ret = check_load_attr(attr);
	if (ret) {
		write_log(attr, syscall_last_error());
		return ret;
	}
	snprintf(license, sizeof(license), "%s", (const char *)sys_ptr(attr->license));
	obj = calloc(1, sizeof(*obj));
	if (!obj) {
		sys_error("out of memory");
		return -ENOMEM;
	}
	obj->kind = SYS_PROG;
	obj->fd = -1;
	p = &obj->prog;
	p->type = attr->prog_type;
	p->expected_attach_type = attr->expected_attach_type;
	p->attach_btf_id = attr->attach_btf_id;
	memcpy(p->name, attr->prog_name, sizeof(p->name));
	p->gpl = license_gpl(license);
	p->uid = getuid();
	p->ninsns = attr->insn_cnt;
	p->insns = malloc((size_t)p->ninsns * sizeof(*p->insns));
	if (!p->insns) {
		ret = -ENOMEM;
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	memcpy(p->insns, sys_ptr(attr->insns), (size_t)p->ninsns * sizeof(*p->insns));
	if (attr->prog_btf_fd && sys_obj_get((int)attr->prog_btf_fd, SYS_BTF, &p->btf)) {
		ret = -EINVAL;
		snprintf(err, sizeof(err), "prog_btf_fd %u is not a BTF object", attr->prog_btf_fd);
		goto fail;
	}
	ret = prog_vm(p, attr, err, sizeof(err), &logged);
	if (ret)
		goto fail;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	p->load_time = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	obj->id = p->vm->id;
	obj->fd = sys_obj_memfd("prog", p->name);
	if (obj->fd < 0) {
		ret = obj->fd;
		snprintf(err, sizeof(err), "%s", syscall_last_error());
		goto fail;
	}
	fd = sys_obj_add(obj);
	if (fd >= 0) {
		if (!logged)
			write_log(attr, "");
		return fd;
	}
	ret = fd;
	snprintf(err, sizeof(err), "%s", syscall_last_error());
	close(obj->fd);
fail:
	sys_error("program %s: %s", p->name[0] ? p->name : "(unnamed)", err);
	if (logged)
		append_log(attr, syscall_last_error());
	else
		write_log(attr, syscall_last_error());
	sys_prog_release(p);
	free(obj);
	return ret;
}

int sys_prog_bind_map(union bpf_attr *attr)
{
	struct sys_obj *prog, *map;
	int ret;

	ret = sys_check_attr(attr, SYS_ATTR_END(prog_bind_map.flags), "BPF_PROG_BIND_MAP");
	if (ret)
		return ret;
	if (attr->prog_bind_map.flags) {
		sys_error("BPF_PROG_BIND_MAP: flags must be 0");
		return -EINVAL;
	}
	ret = sys_obj_get((int)attr->prog_bind_map.prog_fd, SYS_PROG, &prog);
	if (ret)
		return ret;
	ret = sys_obj_get((int)attr->prog_bind_map.map_fd, SYS_MAP, &map);
	if (!ret)
		ret = keep_map(&prog->prog, map);
	sys_obj_put(prog);
	return ret;
}
