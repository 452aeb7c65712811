// SPDX-License-Identifier: MIT
/*
 * The fast path: each rewritable syscall site (syshook_scan.c) of the code
 * mapped in the process gets a trampoline within rel32 reach, and the
 * instructions before its syscall become a jmp to it:
 *
 *   site:  jmp tramp; int3...          (the displaced bytes)
 *          syscall                     (kept: a branch to it, or a restart, runs it)
 *   tramp: <displaced instructions, relocated: RIP-relative operands and
 *           conditional jumps keep their targets>
 *          lea -0x80(%rsp),%rsp        (below the red zone)
 *          call *slot                  (syshook_fast_entry)
 *   R1:    lea 0x80(%rsp),%rsp
 *          jmp site.syscall + 2
 *   R2:    lea 0x80(%rsp),%rsp         (syshook_fast_entry's second exit)
 *          jmp site.syscall
 *
 * What is mapped: every file-backed executable mapping of /proc/self/maps
 * but the dynamic loader (it runs while this code calls it: dlopen), the
 * vDSO and a shared object holding this code (the agent; the program
 * itself when uebpf is linked in statically is rewritten, which is how the
 * tests see their own inline system calls). A mapping is scanned once;
 * syshook_rescan looks for new ones.
 *
 * Patching with other threads running (as in src/probe/probe_patch.c):
 * the mapping is made writable, an int3 goes over the first byte of every
 * site, and after a core-serializing barrier on every thread
 * (membarrier SYNC_CORE) a thread that arrives there traps and the SIGTRAP
 * handler sends it to the site's trampoline, which does what the finished
 * patch will. Then the fence (syshook_threads.c) asks every other thread
 * where it stopped: a site that has one strictly inside its displaced bytes
 * (after the first instruction of several) gets its first byte back and
 * stays on the SUD path; the others get the rest of the jmp, a barrier,
 * then its first byte, a barrier. A thread asleep in a system call is at a
 * syscall instruction, never inside displaced bytes.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <linux/membarrier.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "common/sigchain.h"
#include "syshook_internal.h"

#define TRAMP_SIZE 96
#define REACH (0x7fffffffL - (1L << 24))
#define MAPS_MAX 8192

/* A scanned mapping; pushed once, never unlinked (the SIGTRAP handler walks them). */
struct sh_object {
	uintptr_t lo, hi;
	unsigned long ino, off;
	struct sh_site *sites; /* sorted by start */
	size_t n;
	struct sh_object *next;
};

static _Atomic(struct sh_object *) objects;
/* The batch being patched, which the fence checks: from patching to patching_end. */
static _Atomic(struct sh_object *) patching, patching_end;
static struct sigchain trap_chain = {.sig = SIGTRAP};
static bool have_sync_core, trap_ok;
static size_t n_syscalls, n_rewritten;

static struct sh_site *site_at(const struct sh_object *o, uintptr_t a, bool inside)
{
	size_t lo = 0, hi = o->n;

	/* the last site with start <= a */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (o->sites[mid].start <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	if (inside)
		return a > o->sites[lo - 1].start && a < o->sites[lo - 1].sys ? &o->sites[lo - 1]
									      : NULL;
	return o->sites[lo - 1].start == a ? &o->sites[lo - 1] : NULL;
}

void sh_fence_check(uintptr_t ip)
{
	struct sh_object *end = atomic_load(&patching_end);

	for (struct sh_object *o = atomic_load(&patching); o && o != end; o = o->next) {
		struct sh_site *s = ip >= o->lo && ip < o->hi ? site_at(o, ip, true) : NULL;

		if (s)
			atomic_store(&s->busy, true);
	}
}

static void trap_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	uintptr_t at = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP] - 1;

	for (struct sh_object *o = atomic_load(&objects); o && si->si_code == SI_KERNEL;
	     o = o->next) {
		struct sh_site *s;

		if (at < o->lo || at >= o->hi)
			continue;
		s = site_at(o, at, false);
		if (s && s->tramp) {
			uc->uc_mcontext.gregs[REG_RIP] = (greg_t)s->tramp;
			return;
		}
	}
	sigchain_forward(&trap_chain, sig, si, ucv);
}

static void sync_cores(uintptr_t lo, uintptr_t hi)
{
	unsigned long a[6] = {MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0};
	unsigned long p[6] = {lo, hi - lo, PROT_READ | PROT_EXEC};

	if (have_sync_core && !sh_raw(SYS_membarrier, a))
		return;
	/* dropping a permission shoots down every CPU's TLB by IPI, which serializes them */
	sh_raw(SYS_mprotect, p);
	p[2] |= PROT_WRITE;
	sh_raw(SYS_mprotect, p);
}

struct mapping {
	uintptr_t lo, hi;
	unsigned long ino, off;
	char perms[5];
	char path[512]; /* a longer one is cut, and compared cut */
};

struct cand {
	uintptr_t at, dist;
};

static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	return x->dist < y->dist ? -1 : x->dist > y->dist;
}

/*
 * Room for len bytes within rel32 reach of [lo, hi), from the gaps between
 * the mappings, nearest first (another thread may take a gap meanwhile).
 */
static void *alloc_near(const struct mapping *m, size_t n_maps, uintptr_t lo, uintptr_t hi,
			size_t len)
{
	struct cand c[64];
	size_t n = 0;
	uintptr_t prev_end = 0x10000;

	for (size_t i = 0; i <= n_maps; i++) {
		uintptr_t g0 = prev_end, g1 = i < n_maps ? m[i].lo : 0x7ffffffff000ul;
		uintptr_t at;

		if (i < n_maps)
			prev_end = m[i].hi > prev_end ? m[i].hi : prev_end;
		if (g1 <= g0 || g1 - g0 < len)
			continue;
		if (g1 <= lo) {
			at = (g1 - len) & ~(uintptr_t)4095;
			if (at >= g0 && hi - at <= (uintptr_t)REACH) {
				c[n].at = at, c[n].dist = lo - at;
				n++;
			}
		} else if (g0 >= hi && g0 + len - lo <= (uintptr_t)REACH) {
			c[n].at = g0, c[n].dist = g0 - hi;
			n++;
		}
		if (n == sizeof(c) / sizeof(c[0]))
			break;
	}
	qsort(c, n, sizeof(c[0]), cmp_cand);
	for (size_t i = 0; i < n; i++) {
		void *p = mmap((void *)c[i].at, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

		if (p != MAP_FAILED)
			return p;
	}
	return NULL;
}

static void put32(uint8_t *p, int32_t v)
{
	memcpy(p, &v, 4);
}

static bool fits32(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

/* Writes the trampoline of s at t; false when something is out of reach. */
static bool make_tramp(const struct sh_site *s, uint8_t *t, uintptr_t slot)
{
	static const uint8_t down[] = {0x48, 0x8d, 0x64, 0x24, 0x80};
	static const uint8_t up[] = {0x48, 0x8d, 0xa4, 0x24, 0x80, 0x00, 0x00, 0x00};
	uintptr_t src = s->start;
	size_t pos = 0, at = 0;

	for (unsigned m = 0; m < s->n_insn; m++) {
		size_t len = s->insn_len[m];

		if (s->jcc_target[m]) {
			/* jcc rel8 or rel32, as jcc rel32 from here */
			uint8_t cc = (s->orig[at] == 0x0f ? s->orig[at + 1] : s->orig[at]) & 0x0f;
			int64_t rel = (int64_t)s->jcc_target[m] - (int64_t)((uintptr_t)t + pos + 6);

			if (!fits32(rel))
				return false;
			t[pos] = 0x0f, t[pos + 1] = (uint8_t)(0x80 | cc);
			put32(t + pos + 2, (int32_t)rel);
			pos += 6, at += len, src += len;
			continue;
		}
		memcpy(t + pos, s->orig + at, len);
		if (s->disp_pos[m]) {
			int32_t d;
			int64_t target, nd;

			memcpy(&d, s->orig + at + s->disp_pos[m], 4);
			target = (int64_t)(src + len) + d;
			nd = target - (int64_t)((uintptr_t)t + pos + len);
			if (!fits32(nd))
				return false;
			put32(t + pos + s->disp_pos[m], (int32_t)nd);
		}
		pos += len, at += len, src += len;
	}
	memcpy(t + pos, down, sizeof(down));
	pos += sizeof(down);
	t[pos] = 0xff, t[pos + 1] = 0x15;
	put32(t + pos + 2, (int32_t)((int64_t)slot - (int64_t)((uintptr_t)t + pos + 6)));
	pos += 6;
	for (int exit = 0; exit < 2; exit++) {
		uintptr_t to = s->sys + (exit ? 0 : 2);
		int64_t rel;

		memcpy(t + pos, up, sizeof(up));
		pos += sizeof(up);
		rel = (int64_t)to - (int64_t)((uintptr_t)t + pos + 5);
		if (!fits32(rel))
			return false;
		t[pos] = 0xe9;
		put32(t + pos + 1, (int32_t)rel);
		pos += 5;
	}
	return true;
}

/* Makes the trampolines of o; sites left without one (s->tramp == 0) stay as they are. */
static int make_tramps(struct sh_object *o, const struct mapping *m, size_t n_maps)
{
	size_t len = ((o->n + 1) * TRAMP_SIZE + 4095) & ~(size_t)4095;
	uint8_t *area = alloc_near(m, n_maps, o->lo, o->hi, len);
	uintptr_t slot = (uintptr_t)area;

	if (!area)
		return -ENOMEM;
	memcpy(area, &(uintptr_t){(uintptr_t)syshook_fast_entry}, sizeof(uintptr_t));
	for (size_t i = 0; i < o->n; i++) {
		uint8_t *t = area + (i + 1) * TRAMP_SIZE;

		if (make_tramp(&o->sites[i], t, slot))
			o->sites[i].tramp = (uintptr_t)t;
	}
	if (mprotect(area, len, PROT_READ | PROT_EXEC))
		return -errno;
	return 0;
}

static void set_prot(const struct sh_object *o, int prot)
{
	unsigned long p[6] = {o->lo, o->hi - o->lo, (unsigned long)prot};

	sh_raw(SYS_mprotect, p);
}

static void sync_batch(struct sh_object *from, struct sh_object *end)
{
	for (struct sh_object *o = from; o != end; o = o->next) {
		if (o->n)
			sync_cores(o->lo, o->hi);
		/* one membarrier serializes every thread, whatever the range */
		if (have_sync_core)
			return;
	}
}

/* Patches the objects from from to end (the ones just scanned), all in one fence. */
static void patch(struct sh_object *from, struct sh_object *end)
{
	unsigned long a[6] = {0};

	for (struct sh_object *o = from; o != end; o = o->next) {
		a[0] = o->lo, a[1] = o->hi - o->lo, a[2] = PROT_READ | PROT_WRITE | PROT_EXEC;
		if (o->n && sh_raw(SYS_mprotect, a))
			o->n = 0;
		for (size_t i = 0; i < o->n; i++) {
			if (o->sites[i].tramp)
				*(volatile uint8_t *)o->sites[i].start = 0xcc;
		}
	}
	atomic_store(&patching_end, end);
	atomic_store(&patching, from);
	sync_batch(from, end);
	sh_signal_others(SH_TAG_FENCE);
	atomic_store(&patching, NULL);
	for (struct sh_object *o = from; o != end; o = o->next) {
		for (size_t i = 0; i < o->n; i++) {
			struct sh_site *s = &o->sites[i];
			volatile uint8_t *b = (volatile uint8_t *)s->start;
			int32_t rel = (int32_t)((int64_t)s->tramp - (int64_t)(s->start + 5));

			if (!s->tramp)
				continue;
			if (atomic_load(&s->busy)) {
				b[0] = s->orig[0];
				continue;
			}
			for (size_t k = 1; k < s->sys - s->start; k++)
				b[k] = k < 5 ? ((const uint8_t *)&rel)[k - 1] : 0xcc;
		}
	}
	sync_batch(from, end);
	for (struct sh_object *o = from; o != end; o = o->next) {
		for (size_t i = 0; i < o->n; i++) {
			if (o->sites[i].tramp && !atomic_load(&o->sites[i].busy)) {
				*(volatile uint8_t *)o->sites[i].start = 0xe9;
				n_rewritten++;
			}
		}
	}
	sync_batch(from, end);
	for (struct sh_object *o = from; o != end; o = o->next) {
		if (o->n)
			set_prot(o, PROT_READ | PROT_EXEC);
	}
}

static bool seen(uintptr_t lo, uintptr_t hi, unsigned long ino, unsigned long off)
{
	for (struct sh_object *o = atomic_load(&objects); o; o = o->next) {
		if (o->lo == lo && o->hi == hi && o->ino == ino && o->off == off)
			return true;
	}
	return false;
}

/* Not to be rewritten: the dynamic loader, and a shared object holding this code. */
static bool skip_path(const char *path, const char *self)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "ld-", 3) || !strncmp(base, "ld.so", 5) || !strcmp(path, self);
}

static int read_maps(struct mapping *m, size_t *n, char *self, size_t self_len)
{
	uintptr_t here = (uintptr_t)sh_rewrite_scan;
	char exe[PATH_MAX] = "";
	char line[PATH_MAX + 128];
	FILE *f = fopen("/proc/self/maps", "re");
	ssize_t el;

	if (!f)
		return -errno;
	*n = 0;
	self[0] = '\0';
	while (fgets(line, sizeof(line), f) && *n < MAPS_MAX) {
		struct mapping *x = &m[*n];
		int pos = 0;

		if (sscanf(line, "%lx-%lx %4s %lx %*x:%*x %lu %n", &x->lo, &x->hi, x->perms,
			   &x->off, &x->ino, &pos) < 5)
			continue;
		snprintf(x->path, sizeof(x->path), "%s", line + pos);
		x->path[strcspn(x->path, "\n")] = '\0';
		if (here >= x->lo && here < x->hi)
			snprintf(self, self_len, "%s", x->path);
		(*n)++;
	}
	fclose(f);
	el = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (el > 0) {
		exe[el] = '\0';
		/* linked into the program: its code is the application's too */
		if (!strcmp(self, exe))
			self[0] = '\0';
	}
	return 0;
}

static pthread_once_t trap_once = PTHREAD_ONCE_INIT;

static void trap_init(void)
{
	trap_ok = !sigchain_install(&trap_chain, trap_handler);
	have_sync_core = !syscall(__NR_membarrier,
				  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0);
}

int sh_rewrite_scan(char *err, size_t err_len)
{
	struct mapping *m = malloc(MAPS_MAX * sizeof(*m));
	char self[PATH_MAX];
	size_t n = 0;
	struct sh_object *old = atomic_load(&objects);
	char sel = sh_selector;
	int busy = sh_busy, ret;

	if (!m) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	/* this thread's own system calls here are not the application's */
	sh_busy = 1;
	sh_selector = SYSCALL_DISPATCH_FILTER_ALLOW;
	pthread_once(&trap_once, trap_init);
	ret = trap_ok ? read_maps(m, &n, self, sizeof(self)) : -EINVAL;
	if (ret) {
		errbuf_set(err, err_len, "cannot read /proc/self/maps or install SIGTRAP handler");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct sh_scan_stats st = {0};
		struct sh_object *o;
		char why[128];
		long k;

		if (m[i].perms[0] != 'r' || m[i].perms[2] != 'x' || m[i].path[0] != '/' ||
		    skip_path(m[i].path, self) || seen(m[i].lo, m[i].hi, m[i].ino, m[i].off))
			continue;
		o = calloc(1, sizeof(*o));
		if (!o) {
			ret = -ENOMEM;
			break;
		}
		o->lo = m[i].lo, o->hi = m[i].hi, o->ino = m[i].ino, o->off = m[i].off;
		k = sh_scan_code(o->lo, o->hi, &o->sites, &st, why, sizeof(why));
		n_syscalls += st.syscalls;
		/* the gate's template is copied, never run where it is */
		for (long j = 0; j < k; j++) {
			if (o->sites[j].sys < (uintptr_t)syshook_gate_template ||
			    o->sites[j].sys >= (uintptr_t)syshook_gate_template_end)
				o->sites[o->n++] = o->sites[j];
		}
		if (o->n && make_tramps(o, m, n))
			o->n = 0; /* no room within reach: SUD covers it */
		o->next = atomic_load(&objects);
		atomic_store(&objects, o);
	}
	if (atomic_load(&objects) != old)
		patch(atomic_load(&objects), old);
out:
	sh_selector = sel;
	sh_busy = busy;
	free(m);
	return ret;
}

void sh_rewrite_stats(size_t *syscalls, size_t *rewritten)
{
	*syscalls = n_syscalls;
	*rewritten = n_rewritten;
}
