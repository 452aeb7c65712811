// SPDX-License-Identifier: MIT
/*
 * Programs on the system calls of this process: a syshook per attachment
 * whose callback builds the tracepoint's context on its own stack and runs
 * the program on it, the context being the whole of the run's memory (so a
 * program reading past the record stops with a fault instead of reading
 * the stack; the raw context's regs pointer points inside that memory, so
 * tp_btf programs may dereference it directly, as the kernel lets them).
 *
 * The pid filter and common_pid use the ids bpf_get_current_pid_tgid
 * caches per thread (a system call each would cost more than the program):
 * glibc's fork makes a child read its own, but a vfork or posix_spawn
 * child, which shares its parent's memory until exec, and the child of a
 * raw clone pass for their parent.
 */
#define _GNU_SOURCE
#include <asm/ptrace.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/errbuf.h"
#include "helpers/helpers.h"
#include "syshook/syshook.h"
#include "systp/systp.h"
#include "uebpf/uebpf.h"

struct systp_hook {
	struct syshook *sh;
	struct uebpf_vm *vm;
	uint32_t tp_id;
	int32_t pid;
	bool raw;
	uint64_t cookie;
};

/* The first 8 bytes of every tracepoint record (struct trace_entry). */
struct tp_common {
	uint16_t type;
	uint8_t flags;
	uint8_t preempt_count;
	int32_t pid;
};

/*
 * syscalls/sys_enter_NAME has an int number at 8 and raw_syscalls/sys_enter
 * a long: the same bytes for the numbers of real calls, padding zeroed.
 */
struct rec_enter {
	struct tp_common c;
	int64_t nr;
	uint64_t args[6];
};

struct rec_exit {
	struct tp_common c;
	int64_t nr;
	int64_t ret;
};

/* What a raw tracepoint (or tp_btf) program gets: its args, then what regs points at. */
struct raw_ctx {
	uint64_t args[2];
	struct pt_regs regs;
};

static void run(const struct systp_hook *h, void *mem, size_t len)
{
	uint64_t r0;

	helpers_attach_cookie = h->cookie;
	uebpf_vm_run(h->vm, mem, len, &r0, NULL, 0);
	helpers_attach_cookie = 0;
}

static __thread bool quiet;

bool systp_quiet(bool q)
{
	bool was = quiet;

	quiet = q;
	return was;
}

static bool wanted(const struct systp_hook *h, uint64_t pid_tgid)
{
	return !quiet && (h->pid == -1 || (uint64_t)h->pid == pid_tgid >> 32);
}

static void run_raw(const struct systp_hook *h, long nr, const unsigned long args[6], long ret,
		    bool exit)
{
	struct raw_ctx c = {.args = {0, exit ? (uint64_t)ret : (uint64_t)nr}};

	c.args[0] = (uint64_t)(uintptr_t)&c.regs;
	c.regs.rdi = args[0];
	c.regs.rsi = args[1];
	c.regs.rdx = args[2];
	c.regs.r10 = args[3];
	c.regs.r8 = args[4];
	c.regs.r9 = args[5];
	c.regs.orig_rax = (unsigned long)nr;
	/* the kernel's entry code sets ax to -ENOSYS before the call */
	c.regs.rax = exit ? (unsigned long)ret : (unsigned long)-ENOSYS;
	run(h, &c, sizeof(c));
}

static void hook_enter(void *ctx, long nr, const unsigned long args[6], long ret)
{
	const struct systp_hook *h = ctx;
	uint64_t id = helpers_current_pid_tgid();
	int saved = errno;

	(void)ret;
	if (!wanted(h, id))
		return;
	if (h->raw) {
		run_raw(h, nr, args, 0, false);
	} else {
		struct rec_enter r = {.c = {.type = (uint16_t)h->tp_id, .pid = (int32_t)id},
				      .nr = nr};

		memcpy(r.args, args, sizeof(r.args));
		run(h, &r, sizeof(r));
	}
	errno = saved;
}

static void hook_exit(void *ctx, long nr, const unsigned long args[6], long ret)
{
	const struct systp_hook *h = ctx;
	uint64_t id = helpers_current_pid_tgid();
	int saved = errno;

	if (!wanted(h, id))
		return;
	if (h->raw) {
		run_raw(h, nr, args, ret, true);
	} else {
		struct rec_exit r = {.c = {.type = (uint16_t)h->tp_id, .pid = (int32_t)id},
				     .nr = nr,
				     .ret = ret};

		run(h, &r, sizeof(r));
	}
	errno = saved;
}

int systp_attach(const struct systp_event *ev, const struct systp_attach_opts *opts,
		 struct uebpf_vm *vm, struct systp_hook **out, char *err, size_t err_len)
{
	struct systp_hook *h = calloc(1, sizeof(*h));
	int ret;

	if (!h) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	*h = (struct systp_hook){.vm = vm,
				 .tp_id = opts->tp_id,
				 .pid = opts->pid,
				 .raw = opts->raw,
				 .cookie = opts->cookie};
	ret = syshook_add(ev->nr == SYSTP_ANY ? SYSHOOK_ANY : ev->nr,
			  ev->exit ? SYSHOOK_EXIT : SYSHOOK_ENTER,
			  ev->exit ? hook_exit : hook_enter, h, &h->sh, err, err_len);
	if (ret) {
		free(h);
		return ret;
	}
	*out = h;
	return 0;
}

int systp_detach(struct systp_hook *h, char *err, size_t err_len)
{
	int ret = syshook_remove(h->sh, err, err_len);

	if (ret)
		return ret;
	free(h);
	return 0;
}
