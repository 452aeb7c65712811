// SPDX-License-Identifier: MIT
/*
 * The gate: the one range of this process's code from which Syscall User
 * Dispatch lets system calls through, so every real system call syshook
 * makes on the application's behalf is a call into it.
 *
 * It is a private anonymous reservation (so a forked child has its own
 * copy): page 0 holds the routines of syshook_gate_template; each further
 * page holds one clone stub, written while the page is still unexecuted
 * and then sealed read-execute, so no page is ever written while a thread
 * may run it.
 *
 * A clone stub (one per call site and number, made on demand by the SIGSYS
 * handler) is where the clone family runs: the handler resumes the
 * application's context at the stub's syscall instruction, with the
 * application's own registers and stack, so a child that starts on a new
 * stack starts in the stub and not in the handler's frame. Both then call
 * syshook_clone_hook (exit callbacks in the parent; SUD turned on in the
 * child) and jump back after the original site:
 *
 *   0  syscall
 *   2  lea -0x80(%rsp),%rsp
 *   7  call *SH_STUB_HOOK(stub)
 *  13  lea 0x80(%rsp),%rsp
 *  21  jmp *SH_STUB_TARGET(stub)       (the site + 2)
 *  32  .quad syshook_clone_hook, target, nr, site
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "syshook_internal.h"

#define SH_STUBS_MAX 256

struct sh_gate sh_gate;
void *syshook_gate_direct;

static struct {
	_Atomic uint64_t key; /* site | nr << 48, published after stub */
	_Atomic uintptr_t stub;
} stubs[SH_STUBS_MAX];
static _Atomic unsigned n_stubs;
static _Atomic unsigned next_page = 1;

int sh_gate_init(char *err, size_t err_len)
{
	size_t pagesz = (size_t)sysconf(_SC_PAGESIZE);
	size_t tlen = (size_t)(syshook_gate_template_end - syshook_gate_template);
	uint8_t *g;

	g = mmap(NULL, SH_GATE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g == MAP_FAILED) {
		errbuf_set(err, err_len, "cannot reserve the syscall gate: %s", strerror(errno));
		return -errno;
	}
	if (mprotect(g, pagesz, PROT_READ | PROT_WRITE))
		goto fail;
	memcpy(g, syshook_gate_template, tlen);
	if (mprotect(g, pagesz, PROT_READ | PROT_EXEC))
		goto fail;
#define AT(sym) ((uintptr_t)g + (uintptr_t)(sym - syshook_gate_template))
	sh_gate.syscall6 = (void *)AT(syshook_gate_syscall6);
	sh_gate.restorer = (void *)AT(syshook_gate_restorer);
	sh_gate.sigreturn = (void *)AT(syshook_gate_sigreturn);
	syshook_gate_direct = (void *)AT(syshook_gate_direct_code);
#undef AT
	sh_gate.start = (uintptr_t)g;
	return 0;
fail:
	errbuf_set(err, err_len, "cannot fill the syscall gate: %s", strerror(errno));
	munmap(g, SH_GATE_SIZE);
	return -errno;
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* Writes a stub into a fresh page (in the SIGSYS handler: system calls go through the gate). */
static uintptr_t make_stub(uintptr_t site, long nr)
{
	static const uint8_t code[] = {
		0x0f, 0x05,					/* syscall */
		0x48, 0x8d, 0x64, 0x24, 0x80,			/* lea -0x80(%rsp),%rsp */
		0xff, 0x15, 0x13, 0x00, 0x00, 0x00,		/* call *0x13(%rip) */
		0x48, 0x8d, 0xa4, 0x24, 0x80, 0x00, 0x00, 0x00, /* lea 0x80(%rsp),%rsp */
		0xff, 0x25, 0x0d, 0x00, 0x00, 0x00,		/* jmp *0xd(%rip) */
		0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
	};
	size_t pagesz = (size_t)sysconf(_SC_PAGESIZE);
	unsigned page = atomic_fetch_add(&next_page, 1);
	uint8_t *p;
	unsigned long a[6] = {0};

	_Static_assert(sizeof(code) == SH_STUB_HOOK, "stub code layout");
	if ((size_t)page * pagesz + SH_STUB_SIZE > SH_GATE_SIZE)
		return 0;
	p = (uint8_t *)sh_gate.start + (size_t)page * pagesz;
	a[0] = (unsigned long)p, a[1] = pagesz, a[2] = PROT_READ | PROT_WRITE;
	if (sh_raw(SYS_mprotect, a))
		return 0;
	memcpy(p, code, sizeof(code));
	put64(p + SH_STUB_HOOK, (uintptr_t)syshook_clone_hook);
	put64(p + SH_STUB_TARGET, site + 2);
	put64(p + SH_STUB_NR, (uint64_t)nr);
	put64(p + SH_STUB_SITE, site);
	a[2] = PROT_READ | PROT_EXEC;
	if (sh_raw(SYS_mprotect, a))
		return 0;
	return (uintptr_t)p;
}

/*
 * Lock-free: a stub made twice by two threads at once is only a page lost.
 * An entry's stub is stored before its key, so a reader that matches the
 * key finds the stub.
 */
uintptr_t sh_gate_clone_stub(uintptr_t site, long nr)
{
	uint64_t key = (uint64_t)site | (uint64_t)nr << 48;
	unsigned n = atomic_load_explicit(&n_stubs, memory_order_acquire);
	uintptr_t stub;

	for (unsigned i = 0; i < n && i < SH_STUBS_MAX; i++) {
		if (atomic_load_explicit(&stubs[i].key, memory_order_acquire) == key)
			return atomic_load_explicit(&stubs[i].stub, memory_order_relaxed);
	}
	stub = make_stub(site, nr);
	if (!stub)
		return 0;
	n = atomic_fetch_add(&n_stubs, 1);
	if (n < SH_STUBS_MAX) {
		atomic_store_explicit(&stubs[n].stub, stub, memory_order_relaxed);
		atomic_store_explicit(&stubs[n].key, key, memory_order_release);
	}
	return stub;
}
