// SPDX-License-Identifier: MIT
/*
 * probe_attach / probe_detach: sites and their patches.
 *
 * The first probe on an address makes its site: a page within rel32 reach
 * (jit_mem_reserve) holding the stub and the relocated displaced
 * instructions (layout in probe_internal.h), sealed read-execute. The site
 * is a jmp site when at least 5 bytes of whole instructions can move, lie
 * inside the function (its ELF symbol's size, when known) and no branch of
 * the function lands inside them; otherwise a trap site: an int3 over the
 * first byte and its instruction run out of line. Sites are never freed:
 * a thread may be in a stub at any moment, so a later attach at the same
 * address reuses the site (unless the code there has changed, e.g. another
 * library was loaded at that address: then it gets a new one).
 *
 * Attach and detach take one mutex; the hit path takes none (see
 * probe_dispatch.c for how lists are published and retired).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "common/vecstate.h"
#include "jit/jit.h"
#include "probe_internal.h"

static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;

/* Bytes read when the function's size is unknown: enough to decode the patch. */
#define PROBE_UNKNOWN_AVAIL 16

static struct probe_site *site_lookup(uintptr_t addr)
{
	for (struct probe_site *s = atomic_load(&probe_sites); s; s = s->next) {
		if (s->addr != addr)
			continue;
		/* an unpatched site whose code changed belongs to an object that is gone */
		if (s->patched || !memcmp((const void *)addr, s->orig, s->patch_len))
			return s;
	}
	return NULL;
}

static bool in_reach(uintptr_t a, uintptr_t b, size_t len)
{
	int64_t d = (int64_t)(a - b);

	return d > INT32_MIN + (int64_t)len && d < INT32_MAX - (int64_t)len;
}

/* Fills the page image: the stub for a jmp site, or the out-of-line copy for a trap site. */
static int site_build(struct probe_site *s, uint8_t *img, size_t pagesz, size_t avail,
		      uintptr_t fn_start, size_t fn_size, char *err, size_t err_len)
{
	static const uint8_t head[] = {
		0x48, 0x8d, 0x64, 0x24, 0x80,		  /* lea -0x80(%rsp), %rsp */
		0xff, 0x15, 0xe5, 0xff, 0xff, 0xff,	  /* call *-27(%rip) */
		0x48, 0x8d, 0xa4, 0x24, 0x80, 0,    0, 0, /* lea 0x80(%rsp), %rsp */
	};
	uintptr_t page = (uintptr_t)s->page;
	uint64_t common = (uintptr_t)probe_entry_common, site = (uintptr_t)s;
	struct probe_reloc r = {.orig_len = 0};
	char why[160] = "";
	int ret;

	_Static_assert(PROBE_STUB_CODE + sizeof(head) == PROBE_STUB_CONT, "stub layout");
	_Static_assert(PROBE_STUB_CONT - 8 - PROBE_STUB_SITE_BACK == 8, "site slot");
	memset(img, 0xcc, pagesz);
	memcpy(img, &common, 8);
	memcpy(img + 8, &site, 8);
	memcpy(img + PROBE_STUB_CODE, head, sizeof(head));
	s->stub = page + PROBE_STUB_CODE;

	if (avail < PROBE_JMP_LEN) {
		ret = -EOPNOTSUPP;
		snprintf(why, sizeof(why), "the function is %zu bytes long", avail);
	} else {
		ret = probe_relocate((const uint8_t *)s->addr, s->addr, avail, PROBE_JMP_LEN,
				     page + PROBE_STUB_CONT, &r, why, sizeof(why));
	}
	if (!ret && fn_size &&
	    probe_branches_into(fn_start, fn_start + fn_size, s->addr, r.orig_len)) {
		ret = -EOPNOTSUPP;
		snprintf(why, sizeof(why), "a branch of the function lands in its first %zu bytes",
			 r.orig_len);
	}
	if (!ret) {
		struct probe_reloc first;

		/*
		 * The first instruction's length: a thread can stop inside the patch only
		 * if it is shorter (it relocates, being part of what just did; if not, 1
		 * is the safe answer).
		 */
		if (probe_relocate((const uint8_t *)s->addr, s->addr, avail, 1, page, &first, why,
				   sizeof(why)))
			first.orig_len = 1;
		s->first_len = first.orig_len;
		memcpy(img + PROBE_STUB_CONT, r.code, r.len);
		s->mode = PROBE_MODE_JMP;
		s->patch_len = PROBE_JMP_LEN;
		return 0;
	}
	snprintf(s->why_trap, sizeof(s->why_trap), "%s", why);
	s->ool = page + PROBE_STUB_CONT;
	ret = probe_relocate((const uint8_t *)s->addr, s->addr, avail, 1, s->ool, &r, why,
			     sizeof(why));
	if (ret) {
		errbuf_set(err, err_len, "0x%lx: cannot probe: %s", (unsigned long)s->addr, why);
		return ret;
	}
	memcpy(img + PROBE_STUB_CONT, r.code, r.len);
	s->mode = PROBE_MODE_TRAP;
	s->patch_len = 1;
	return 0;
}

static struct probe_site *site_new(uintptr_t addr, uintptr_t map_end, char *err, size_t err_len)
{
	size_t pagesz = (size_t)sysconf(_SC_PAGESIZE), avail = PROBE_UNKNOWN_AVAIL, fn_size = 0;
	uintptr_t fn_start = 0;
	struct probe_site *s = calloc(1, sizeof(*s));
	uint8_t *img = malloc(pagesz);
	int ret = -ENOMEM;

	if (!s || !img) {
		errbuf_set(err, err_len, "out of memory");
		goto fail;
	}
	if (!probe_func_extent(addr, &fn_start, &fn_size))
		avail = fn_start + fn_size - addr;
	if (avail > map_end - addr)
		avail = map_end - addr;
	s->addr = addr;
	s->page = jit_mem_reserve(pagesz, (const void *)addr, &s->map_len);
	if (!s->page || !in_reach((uintptr_t)s->page, addr, pagesz)) {
		errbuf_set(err, err_len, "0x%lx: no memory free within 2 GiB for its trampoline",
			   (unsigned long)addr);
		goto fail;
	}
	ret = site_build(s, img, pagesz, avail, fn_start, fn_size, err, err_len);
	if (ret)
		goto fail;
	memcpy(s->orig, (const void *)addr, s->patch_len);
	s->orig_len = s->patch_len;
	ret = jit_mem_seal(s->page, img, pagesz, s->map_len);
	if (ret) {
		errbuf_set(err, err_len, "cannot seal the trampoline: %s", strerror(-ret));
		goto fail;
	}
	free(img);
	s->next = atomic_load(&probe_sites);
	while (!atomic_compare_exchange_weak(&probe_sites, &s->next, s))
		;
	return s;
fail:
	if (s && s->page)
		jit_mem_unmap(s->page, s->map_len);
	free(s);
	free(img);
	errno = -ret;
	return NULL;
}

/* A copy of old with p added (add) or removed; NULL when nothing is left. */
static struct probe_list *list_with(const struct probe_list *old, struct probe *p, bool add,
				    bool *nomem)
{
	unsigned n = old ? old->n_entry + old->n_return : 0, k = 0;
	struct probe_list *l;

	*nomem = false;
	if (!add && n == 1)
		return NULL;
	l = malloc(sizeof(*l) + (n + 1) * sizeof(l->p[0]));
	if (!l) {
		*nomem = true;
		return NULL;
	}
	l->n_entry = l->n_return = 0;
	for (int kind = PROBE_ENTRY; kind <= PROBE_RETURN; kind++) {
		for (unsigned i = 0; i < n; i++) {
			struct probe *q = old->p[i];

			if (q->kind == (enum probe_kind)kind && q != p)
				l->p[k++] = q;
		}
		if (add && p->kind == (enum probe_kind)kind)
			l->p[k++] = p;
		if (kind == PROBE_ENTRY)
			l->n_entry = k;
	}
	l->n_return = k - l->n_entry;
	return l;
}

static int site_patch(struct probe_site *s, bool on, char *err, size_t err_len)
{
	uint8_t jmp[PROBE_JMP_LEN] = {0xe9};
	int32_t rel = (int32_t)(s->stub - (s->addr + PROBE_JMP_LEN));
	int ret;

	memcpy(jmp + 1, &rel, 4);
	/* only the original code can hold a thread between two of its instructions */
	if (!on)
		ret = probe_patch_write(s->addr, s->orig, s->patch_len, false, err, err_len);
	else if (s->mode == PROBE_MODE_JMP)
		ret = probe_patch_write(s->addr, jmp, PROBE_JMP_LEN, s->first_len < PROBE_JMP_LEN,
					err, err_len);
	else
		ret = probe_patch_write(s->addr, (const uint8_t[]){0xcc}, 1, false, err, err_len);
	if (!ret)
		s->patched = on;
	return ret;
}

int probe_attach(void *addr, enum probe_kind kind, probe_fn fn, void *ctx, struct probe **out,
		 char *err, size_t err_len)
{
	struct probe_list *old, *l;
	struct probe_site *s;
	struct probe *p;
	uintptr_t map_end;
	bool nomem;
	int ret, prot;

	if (!addr || !fn || !out || (kind != PROBE_ENTRY && kind != PROBE_RETURN)) {
		errbuf_set(err, err_len, "probe_attach: bad argument");
		return -EINVAL;
	}
	ret = probe_trap_install(err, err_len);
	if (ret)
		return ret;
	vecstate_setup();
	p = malloc(sizeof(*p));
	if (!p) {
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	*p = (struct probe){.fn = fn, .ctx = ctx, .kind = kind};
	ret = probe_mapping((uintptr_t)addr, &prot, &map_end);
	if (ret || !(prot & PROT_EXEC) || !(prot & PROT_READ)) {
		errbuf_set(err, err_len, "%p is not in code mapped in this process", addr);
		free(p);
		return -EFAULT;
	}
	pthread_mutex_lock(&probe_lock);
	s = site_lookup((uintptr_t)addr);
	if (!s)
		s = site_new((uintptr_t)addr, map_end, err, err_len);
	if (!s) {
		ret = -errno;
		goto fail;
	}
	p->site = s;
	old = atomic_load(&s->list);
	l = list_with(old, p, true, &nomem);
	if (nomem) {
		errbuf_set(err, err_len, "out of memory");
		ret = -ENOMEM;
		goto fail;
	}
	atomic_store_explicit(&s->list, l, memory_order_release);
	if (!s->patched) {
		ret = site_patch(s, true, err, err_len);
		if (ret) {
			atomic_store(&s->list, old);
			old = l;
		}
	}
	probe_sync_threads();
	free(old);
	pthread_mutex_unlock(&probe_lock);
	if (ret) {
		free(p);
		return ret;
	}
	*out = p;
	if (kind == PROBE_RETURN)
		probe_unwind_setup();
	return 0;
fail:
	pthread_mutex_unlock(&probe_lock);
	free(p);
	return ret;
}

int probe_detach(struct probe *p, char *err, size_t err_len)
{
	struct probe_list *old, *l;
	struct probe_site *s;
	bool nomem;
	int ret = 0;

	if (!p) {
		errbuf_set(err, err_len, "probe_detach: no probe");
		return -EINVAL;
	}
	s = p->site;
	pthread_mutex_lock(&probe_lock);
	old = atomic_load(&s->list);
	l = list_with(old, p, false, &nomem);
	if (nomem) {
		pthread_mutex_unlock(&probe_lock);
		errbuf_set(err, err_len, "out of memory");
		return -ENOMEM;
	}
	atomic_store_explicit(&s->list, l, memory_order_release);
	if (!l && s->patched)
		ret = site_patch(s, false, err, err_len);
	probe_sync_threads();
	free(old);
	pthread_mutex_unlock(&probe_lock);
	free(p);
	return ret;
}

bool probe_is_trap(const struct probe *p, const char **why)
{
	if (why)
		*why = p->site->why_trap;
	return p->site->mode == PROBE_MODE_TRAP;
}

uint64_t probe_missed(const struct probe *p)
{
	return atomic_load_explicit(&p->site->missed, memory_order_relaxed);
}
