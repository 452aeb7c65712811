// SPDX-License-Identifier: MIT
/*
 * Writing code that other threads may be running, and the SIGTRAP handler
 * behind it.
 *
 * A multi-byte patch is written so that no thread ever decodes a mix of old
 * and new bytes at the patched address: first an int3 over the first byte,
 * then the rest, then the first byte, with a core-serializing barrier on
 * every thread of the process after each step (Intel SDM, cross-modifying
 * code; the kernel's text_poke_bp does the same). A thread that arrives
 * while the int3 is there traps, and the handler sends it to the site's
 * stub, which runs the probes and the displaced instructions itself: the
 * same as the finished patch would. A one-byte patch (the int3 of the trap
 * path, or its removal) is a single store.
 *
 * The barrier is membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE).
 * Where the kernel lacks it, the page's protection is dropped and restored:
 * removing a permission makes the kernel shoot down the TLB of every CPU
 * that runs a thread of this process, by IPI, and taking and returning from
 * an interrupt serializes the instruction stream of that CPU; threads not
 * running refetch their instructions after a context switch anyway.
 *
 * A thread stopped between two instructions inside the bytes being
 * replaced (after the endbr64 of endbr64; push %rbp, say) would resume in
 * the middle of the new jmp: between the int3 and the rest, probe_fence
 * waits until no thread is there (probe_fence.c), or the patch is undone.
 *
 * The SIGTRAP handler owns the int3s at the sites' addresses: for a trap
 * site it runs the probes with the registers from the signal frame and
 * resumes at the out-of-line copy of the first instruction; for a jmp site
 * (patch in progress) it resumes at the stub. Other traps go to the handler
 * that was installed before (sigchain).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "common/sigchain.h"
#include "probe_internal.h"

_Atomic(struct probe_site *) probe_sites;

static struct sigchain trap_chain = {.sig = SIGTRAP};
static bool have_sync_core;

static struct probe_site *site_at(uintptr_t addr)
{
	for (struct probe_site *s = atomic_load(&probe_sites); s; s = s->next) {
		if (s->addr == addr)
			return s;
	}
	return NULL;
}

static void regs_from_ucontext(struct pt_regs *r, const mcontext_t *m, uintptr_t ip)
{
	const greg_t *g = m->gregs;

	r->r15 = g[REG_R15], r->r14 = g[REG_R14], r->r13 = g[REG_R13], r->r12 = g[REG_R12];
	r->rbp = g[REG_RBP], r->rbx = g[REG_RBX], r->r11 = g[REG_R11], r->r10 = g[REG_R10];
	r->r9 = g[REG_R9], r->r8 = g[REG_R8], r->rax = g[REG_RAX], r->rcx = g[REG_RCX];
	r->rdx = g[REG_RDX], r->rsi = g[REG_RSI], r->rdi = g[REG_RDI];
	r->orig_rax = (unsigned long)-1;
	r->rip = ip;
	r->cs = 0x33;
	r->eflags = g[REG_EFL];
	r->rsp = g[REG_RSP];
	r->ss = 0x2b;
}

static void trap_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	uintptr_t at = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP] - 1;
	struct probe_site *s = si->si_code == SI_KERNEL ? site_at(at) : NULL;
	struct pt_regs regs;
	int saved_errno = errno;

	if (!s) {
		sigchain_forward(&trap_chain, sig, si, ucv);
		return;
	}
	if (s->mode == PROBE_MODE_TRAP) {
		regs_from_ucontext(&regs, &uc->uc_mcontext, at);
		probe_dispatch_entry(s, &regs);
		uc->uc_mcontext.gregs[REG_RIP] = (greg_t)s->ool;
	} else {
		uc->uc_mcontext.gregs[REG_RIP] = (greg_t)s->stub;
	}
	errno = saved_errno;
}

static pthread_once_t trap_once = PTHREAD_ONCE_INIT;
static int trap_ret;

static void trap_init(void)
{
	trap_ret = sigchain_install(&trap_chain, trap_handler);
	have_sync_core = !syscall(__NR_membarrier,
				  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0);
}

int probe_trap_install(char *err, size_t err_len)
{
	pthread_once(&trap_once, trap_init);
	if (trap_ret)
		errbuf_set(err, err_len, "cannot install the SIGTRAP handler: %s",
			   strerror(-trap_ret));
	return trap_ret;
}

int probe_mapping(uintptr_t addr, int *prot, uintptr_t *end)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512], perms[8];
	unsigned long lo, hi;
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || addr < lo || addr >= hi)
			continue;
		*prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
			(perms[2] == 'x' ? PROT_EXEC : 0);
		if (end)
			*end = hi;
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

static void sync_cores(uintptr_t page, size_t len, int prot)
{
	if (have_sync_core &&
	    !syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0))
		return;
	mprotect((void *)page, len, prot & ~PROT_WRITE);
	mprotect((void *)page, len, prot | PROT_WRITE);
}

int probe_patch_write(uintptr_t addr, const uint8_t *bytes, size_t len, bool inner, char *err,
		      size_t err_len)
{
	size_t pagesz = (size_t)sysconf(_SC_PAGESIZE);
	uintptr_t page = addr & ~(pagesz - 1);
	size_t span = ((addr + len + pagesz - 1) & ~(pagesz - 1)) - page;
	volatile uint8_t *p = (volatile uint8_t *)addr;
	int prot, prot2 = 0, ret;

	ret = probe_trap_install(err, err_len);
	if (ret)
		return ret;
	ret = probe_mapping(addr, &prot, NULL);
	if (!ret && span > pagesz)
		ret = probe_mapping(page + pagesz, &prot2, NULL);
	if (ret) {
		errbuf_set(err, err_len, "0x%lx is not mapped in this process",
			   (unsigned long)addr);
		return ret;
	}
	if (span > pagesz && prot2 != prot) {
		errbuf_set(err, err_len, "0x%lx: the patch spans pages of different protections",
			   (unsigned long)addr);
		return -EOPNOTSUPP;
	}
	if (mprotect((void *)page, span, prot | PROT_WRITE)) {
		ret = -errno;
		errbuf_set(err, err_len, "cannot make the code at 0x%lx writable: %s",
			   (unsigned long)addr, strerror(errno));
		return ret;
	}
	if (len > 1) {
		uint8_t first = p[0];

		p[0] = 0xcc;
		sync_cores(page, span, prot);
		ret = inner ? probe_fence(addr, len) : 0;
		if (ret) {
			p[0] = first;
			sync_cores(page, span, prot);
			mprotect((void *)page, span, prot);
			if (ret == -EBUSY)
				errbuf_set(err, err_len,
					   "0x%lx: a thread stays inside the bytes to patch",
					   (unsigned long)addr);
			else
				errbuf_set(err, err_len, "0x%lx: cannot check the threads: %s",
					   (unsigned long)addr, strerror(-ret));
			return ret;
		}
		for (size_t i = 1; i < len; i++)
			p[i] = bytes[i];
		sync_cores(page, span, prot);
	}
	p[0] = bytes[0];
	sync_cores(page, span, prot);
	if (mprotect((void *)page, span, prot)) {
		ret = -errno;
		errbuf_set(err, err_len, "cannot restore the protection of the code at 0x%lx: %s",
			   (unsigned long)addr, strerror(errno));
		return ret;
	}
	return 0;
}
