// SPDX-License-Identifier: MIT
/*
 * The agent's state and its one operation, agent_sync: make the hooks in
 * this process match the registry's live attachments.
 *
 * Under the agent lock: walk the live attachments (reg_for_each_attach);
 * install each one that applies to this process and is not installed yet,
 * loading its program on first use; then remove the installed ones the
 * walk did not see (their loader detached or closed them). An attachment
 * whose object is not mapped here yet stays pending, tried again at the
 * next sync (after every dlopen, agent_dlopen.c, and on the watcher's
 * ticks); one that fails for another reason is reported once and not tried
 * again. Programs and maps, once loaded, are kept until uebpf_agent_stop,
 * since a later attachment may name them again; stop frees them once every
 * hook is removed (probe_detach returns when no thread runs the program).
 */
#define _GNU_SOURCE
#include <asm/ptrace.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/internal.h"
#include "helpers/helpers.h"
#include "maps/maps.h"
#include "probe/probe.h"
#include "registry/registry.h"
#include "systp/systp.h"
#include "vm/vm.h"

#define WATCH_TICK_MS 100 /* the watcher's sync period when nothing else wakes it */
#define LOCK_WAIT_S 1	  /* how long start and stop wait for a sync in progress */

struct agent_map {
	char name[REG_NAME_MAX];
	struct map *map;
};

struct agent_prog {
	char name[REG_NAME_MAX];
	struct uebpf_vm *vm; /* NULL: it failed to load (reported once) */
	uint32_t type;	     /* enum bpf_prog_type */
};

enum att_state {
	ATT_INSTALLED,
	ATT_PENDING, /* its object is not mapped here (yet) */
	ATT_FAILED,  /* reported; not tried again */
	ATT_OTHER,   /* for another process */
};

/* What an installed uprobe runs: apart from agent_att, whose array moves. */
struct agent_run {
	struct uebpf_vm *vm;
	uint64_t cookie; /* for bpf_get_attach_cookie */
};

struct agent_att {
	char name[REG_NAME_MAX];
	enum att_state state;
	struct probe *probe;
	struct agent_run *run;
	uint16_t *sema;		 /* the USDT semaphore held up while installed, or NULL */
	struct systp_hook *hook; /* a syscall tracepoint's */
	bool seen;		 /* in the current walk */
};

static pthread_mutex_t agent_lock = PTHREAD_MUTEX_INITIALIZER;
static struct reg *registry;
static struct agent_map *maps;
static size_t nmaps;
static struct agent_prog *progs;
static size_t nprogs;
static struct agent_att *atts;
static size_t natts;
static int engine = UEBPF_ENGINE_JIT;
/*
 * The watcher of the current start; one of an earlier start sees the
 * generation change and ends, closing its own inotify fd.
 */
static unsigned watch_gen;

__attribute__((format(printf, 1, 2))) void agent_report(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* one write: lines of several processes sharing stderr stay whole */
	if (write(STDERR_FILENO, "uebpf-agent: ", 13) < 0 || write(STDERR_FILENO, line, n) < 0)
		return;
}

static void *grow(void *arr, size_t n, size_t size)
{
	return realloc(arr, (n + 1) * size);
}

struct map *agent_find_map(const char *name)
{
	for (size_t i = 0; i < nmaps; i++)
		if (!strcmp(maps[i].name, name))
			return maps[i].map;
	return NULL;
}

size_t agent_nmaps(void)
{
	return nmaps;
}

static struct map *get_map(const char *name, char *err, size_t err_len)
{
	struct agent_map *m;
	struct map *map = agent_find_map(name);
	int fd, ret;

	if (map)
		return map;
	ret = reg_open_map(registry, name, &fd, err, err_len);
	if (ret)
		return NULL;
	ret = map_open_fd(fd, &map, err, err_len);
	close(fd);
	if (ret)
		return NULL;
	m = grow(maps, nmaps, sizeof(*maps));
	if (!m) {
		map_close(map);
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	maps = m;
	snprintf(maps[nmaps].name, sizeof(maps[nmaps].name), "%s", name);
	maps[nmaps++].map = map;
	return map;
}

struct resolver {
	struct map **maps;
	uint32_t nmaps;
};

static struct map *resolve(void *ctx, unsigned kind, int32_t imm)
{
	struct resolver *r = ctx;

	if ((kind != ISA_PSEUDO_MAP_IDX && kind != ISA_PSEUDO_MAP_IDX_VALUE) || imm < 0 ||
	    (uint32_t)imm >= r->nmaps)
		return NULL;
	return r->maps[imm];
}

static struct uebpf_vm *load_vm(const struct reg_prog *p, char *err, size_t err_len)
{
	struct resolver r = {.nmaps = p->nmaps};
	struct uebpf_vm *vm = NULL;
	int ret;

	r.maps = calloc(p->nmaps ? p->nmaps : 1, sizeof(*r.maps));
	if (!r.maps) {
		snprintf(err, err_len, "out of memory");
		return NULL;
	}
	for (uint32_t i = 0; i < p->nmaps; i++)
		if (!(r.maps[i] = get_map(p->maps[i], err, err_len)))
			goto out;
	vm = uebpf_vm_create();
	if (!vm) {
		snprintf(err, err_len, "out of memory");
		goto out;
	}
	ret = uebpf_vm_set_engine(vm, (enum uebpf_engine)engine);
	if (!ret)
		ret = helpers_register_all(vm) ?: agent_tail_register(vm)
								 ?: vm_set_map_resolver(vm, resolve, &r);
	if (ret)
		snprintf(err, err_len, "cannot set up the VM: %s", strerror(-ret));
	else
		ret = uebpf_vm_load(vm, p->insns, (size_t)p->ninsns * sizeof(*p->insns), err,
				    err_len);
	if (ret) {
		uebpf_vm_destroy(vm);
		vm = NULL;
	}
out:
	free(r.maps);
	return vm;
}

uint32_t agent_prog_type(const char *name)
{
	for (size_t i = 0; i < nprogs; i++)
		if (!strcmp(progs[i].name, name))
			return progs[i].type;
	return 0;
}

struct uebpf_vm *agent_get_prog(const char *name)
{
	struct agent_prog *p;
	struct reg_prog rp;
	char err[512] = "";

	for (size_t i = 0; i < nprogs; i++)
		if (!strcmp(progs[i].name, name))
			return progs[i].vm;
	p = grow(progs, nprogs, sizeof(*progs));
	if (!p) {
		agent_report("program %s: out of memory", name);
		return NULL;
	}
	progs = p;
	p = &progs[nprogs++];
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->vm = NULL;
	if (reg_read_prog(registry, name, &rp, err, sizeof(err))) {
		agent_report("%s", err);
		return NULL;
	}
	p->type = rp.type;
	p->vm = load_vm(&rp, err, sizeof(err));
	if (!p->vm)
		agent_report("program %s (%s): %s", rp.name, name, err);
	reg_prog_free(&rp);
	return p->vm;
}

static void run_prog(void *ctx, struct pt_regs *regs)
{
	const struct agent_run *run = ctx;
	uint64_t r0;

	helpers_attach_cookie = run->cookie;
	uebpf_vm_run(run->vm, regs, sizeof(*regs), &r0, NULL, 0);
	helpers_attach_cookie = 0;
}

static void install(struct agent_att *att, const struct reg_attach *a)
{
	struct uebpf_vm *vm;
	char err[512];
	void *addr;
	int ret;

	if (a->pid != -1 && a->pid != (int32_t)getpid()) {
		att->state = ATT_OTHER;
		return;
	}
	if (agent_systp_kind(a->kind)) {
		ret = agent_systp_install(att->name, a, &att->hook);
		att->state = ret ? ATT_FAILED : ATT_INSTALLED;
		return;
	}
	ret = probe_resolve_file_off(a->path, a->offset, &addr, err, sizeof(err));
	if (ret == -ENOENT) {
		att->state = ATT_PENDING;
		return;
	}
	att->state = ATT_FAILED;
	if (ret) {
		agent_report("%s: %s", att->name, err);
		return;
	}
	vm = agent_get_prog(a->prog);
	if (!vm)
		return;
	att->run = malloc(sizeof(*att->run));
	if (!att->run) {
		agent_report("%s: out of memory", att->name);
		return;
	}
	*att->run = (struct agent_run){.vm = vm, .cookie = a->cookie};
	ret = a->ref_ctr_off ? probe_semaphore_get(a->path, a->ref_ctr_off, &att->sema, err,
						   sizeof(err))
			     : 0;
	if (!ret)
		ret = probe_attach(addr, a->kind == REG_URETPROBE ? PROBE_RETURN : PROBE_ENTRY,
				   run_prog, att->run, &att->probe, err, sizeof(err));
	if (ret) {
		agent_report("%s: %s+0x%llx: %s", att->name, a->path, (unsigned long long)a->offset,
			     err);
		probe_semaphore_put(att->sema);
		att->sema = NULL;
		free(att->run);
		att->run = NULL;
		return;
	}
	att->state = ATT_INSTALLED;
}

static int visit(void *ctx, const char *name, const struct reg_attach *a)
{
	struct agent_att *att = NULL, *t;

	(void)ctx;
	for (size_t i = 0; i < natts; i++)
		if (!strcmp(atts[i].name, name))
			att = &atts[i];
	if (!att) {
		t = grow(atts, natts, sizeof(*atts));
		if (!t) {
			agent_report("%s: out of memory", name);
			return 0;
		}
		atts = t;
		att = &atts[natts++];
		memset(att, 0, sizeof(*att));
		snprintf(att->name, sizeof(att->name), "%s", name);
		att->state = ATT_PENDING;
	}
	att->seen = true;
	if (att->state == ATT_PENDING)
		install(att, a);
	return 0;
}

/* false when the hook could not be removed: its program must then stay */
static bool uninstall(struct agent_att *att)
{
	char err[512];

	if (att->state == ATT_INSTALLED && att->hook)
		return !agent_systp_uninstall(att->name, att->hook);
	if (att->state != ATT_INSTALLED)
		return true;
	if (probe_detach(att->probe, err, sizeof(err))) {
		agent_report("%s: detach: %s", att->name, err);
		return false;
	}
	probe_semaphore_put(att->sema);
	free(att->run);
	att->sema = NULL;
	att->run = NULL;
	return true;
}

/*
 * Once no hook is left (probe_detach returns when no thread runs the
 * program any more), the programs and this process's mappings of the maps.
 */
static void release_all(void)
{
	agent_tail_reset();
	for (size_t i = 0; i < nprogs; i++)
		uebpf_vm_destroy(progs[i].vm);
	for (size_t i = 0; i < nmaps; i++)
		map_close(maps[i].map);
	free(progs);
	free(maps);
	progs = NULL;
	maps = NULL;
	nprogs = nmaps = 0;
}

/* Under agent_lock. */
static void sync_locked(void)
{
	char err[512];
	size_t kept = 0;

	if (!registry)
		return;
	for (size_t i = 0; i < natts; i++)
		atts[i].seen = false;
	if (reg_for_each_attach(registry, visit, NULL, err, sizeof(err))) {
		agent_report("%s", err);
		return;
	}
	agent_tail_sync(registry);
	for (size_t i = 0; i < natts; i++) {
		if (atts[i].seen)
			atts[kept++] = atts[i];
		else
			uninstall(&atts[i]);
	}
	natts = kept;
}

void agent_sync(void)
{
	bool was = systp_quiet(true);

	pthread_mutex_lock(&agent_lock);
	sync_locked();
	pthread_mutex_unlock(&agent_lock);
	systp_quiet(was);
}

bool agent_has_pending(void)
{
	bool any = false;

	/* busy: a sync is running (perhaps the one whose AOT load called dlopen) */
	if (pthread_mutex_trylock(&agent_lock))
		return false;
	for (size_t i = 0; i < natts; i++)
		any |= atts[i].state == ATT_PENDING;
	pthread_mutex_unlock(&agent_lock);
	return any;
}

/*
 * The watcher: a sync whenever the registry directory changes (inotify), and
 * every WATCH_TICK_MS besides, since the end of an attachment by its last fd
 * closing in the loader changes no name.
 */
struct watch {
	unsigned gen;
	int fd; /* inotify */
};

static bool watch_current(const struct watch *w)
{
	return __atomic_load_n(&watch_gen, __ATOMIC_ACQUIRE) == w->gen;
}

static void *watch(void *arg)
{
	struct watch *w = arg;
	struct pollfd pfd = {.fd = w->fd, .events = POLLIN};
	char buf[4096];

	/* the agent's system calls are not the target's */
	systp_quiet(true);
	while (watch_current(w)) {
		if (poll(&pfd, 1, WATCH_TICK_MS) > 0 && read(w->fd, buf, sizeof(buf)) < 0)
			continue;
		if (pthread_mutex_trylock(&agent_lock))
			continue;
		if (watch_current(w))
			sync_locked();
		pthread_mutex_unlock(&agent_lock);
	}
	close(w->fd);
	free(w);
	return NULL;
}

/* Under agent_lock; failure to watch only costs the following of later changes. */
static void start_watcher(void)
{
	struct watch *w = malloc(sizeof(*w));
	sigset_t all, old;
	pthread_t thread;
	int ret;

	if (!w) {
		agent_report("out of memory; later changes to %s are not followed",
			     reg_dir(registry));
		return;
	}
	w->gen = __atomic_add_fetch(&watch_gen, 1, __ATOMIC_ACQ_REL);
	w->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (w->fd < 0 ||
	    inotify_add_watch(w->fd, reg_dir(registry),
			      IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM) < 0) {
		agent_report("cannot watch %s: %s; later changes to it are not followed",
			     reg_dir(registry), strerror(errno));
		if (w->fd >= 0)
			close(w->fd);
		free(w);
		return;
	}
	/* the target's signals are for its own threads */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&thread, NULL, watch, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		agent_report("cannot start the watcher thread: %s; later changes to %s are not "
			     "followed",
			     strerror(ret), reg_dir(registry));
		close(w->fd);
		free(w);
		return;
	}
	pthread_detach(thread);
}

static void set_engine(void)
{
	const char *e = getenv("UEBPF_ENGINE");

	if (!e || !*e || !strcmp(e, "jit"))
		engine = UEBPF_ENGINE_JIT;
	else if (!strcmp(e, "interp"))
		engine = UEBPF_ENGINE_INTERP;
	else if (!strcmp(e, "aot"))
		engine = UEBPF_ENGINE_AOT;
	else
		agent_report("UEBPF_ENGINE=%s: expected interp, jit or aot; using jit", e);
}

static void set_trace_file(void)
{
	char path[REG_PATH_MAX], err[512];

	if (getenv("UEBPF_TRACE_PIPE"))
		return;
	if (reg_trace_path(registry, path, sizeof(path), err, sizeof(err)))
		agent_report("%s; trace_printk goes to stderr", err);
	else
		setenv("UEBPF_TRACE_PIPE", path, 0);
}

/*
 * The agent lock for start and stop, waiting at most LOCK_WAIT_S: a sync of
 * the watcher holds it for microseconds, unless ptrace stopped the watcher
 * in the middle (`uebpf attach`/`detach` stop every thread), which must not
 * hang the caller. false when it could not be had (reported).
 */
static bool lock_for_call(void)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += LOCK_WAIT_S;
	if (!pthread_mutex_timedlock(&agent_lock, &until))
		return true;
	agent_report("busy (the watcher thread is stopped in a sync); try again");
	return false;
}

static int start(const char *registry_dir)
{
	char err[512];
	struct reg *r;
	int ret;

	if (!registry_dir || !*registry_dir) {
		agent_report("no registry given");
		return -EINVAL;
	}
	if (!lock_for_call())
		return -EBUSY;
	if (registry) {
		ret = strcmp(reg_dir(registry), registry_dir) ? -EBUSY : 0;
		if (ret)
			agent_report("already serving registry %s, not %s", reg_dir(registry),
				     registry_dir);
		else
			sync_locked();
		pthread_mutex_unlock(&agent_lock);
		return ret;
	}
	ret = reg_open(registry_dir, false, &r, err, sizeof(err));
	if (ret) {
		pthread_mutex_unlock(&agent_lock);
		agent_report("%s", err);
		return ret;
	}
	registry = r;
	set_engine();
	set_trace_file();
	sync_locked();
	start_watcher();
	pthread_mutex_unlock(&agent_lock);
	return 0;
}

int uebpf_agent_start(const char *registry_dir)
{
	/* the agent's system calls are not the target's */
	bool was = systp_quiet(true);
	int ret = start(registry_dir);

	systp_quiet(was);
	return ret;
}

int uebpf_agent_stop(void)
{
	bool all_removed = true;

	if (!lock_for_call())
		return -EBUSY;
	/* the watcher is not joined: under ptrace it may be stopped; it ends at its next tick */
	__atomic_add_fetch(&watch_gen, 1, __ATOMIC_ACQ_REL);
	for (size_t i = 0; i < natts; i++)
		all_removed &= uninstall(&atts[i]);
	free(atts);
	atts = NULL;
	natts = 0;
	if (all_removed)
		release_all();
	else
		agent_report("programs kept: a hook could not be removed");
	reg_close(registry);
	registry = NULL;
	pthread_mutex_unlock(&agent_lock);
	return 0;
}

__attribute__((constructor)) static void agent_init(void)
{
	const char *name = getenv("UEBPF_REGISTRY");
	char path[REG_PATH_MAX], err[512];

	if (!name || !*name)
		return;
	if (reg_path(name, path, sizeof(path), err, sizeof(err))) {
		agent_report("UEBPF_REGISTRY: %s", err);
		return;
	}
	uebpf_agent_start(path);
}
