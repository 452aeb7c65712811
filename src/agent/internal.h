/* SPDX-License-Identifier: MIT */
/* agent internals: what agent_dlopen.c needs of agent.c. */
#ifndef UEBPF_AGENT_INTERNAL_H
#define UEBPF_AGENT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

/* Make the hooks match the registry's live attachments (nothing when not started). */
void agent_sync(void);
/* Are attachments waiting for their object to be mapped? */
bool agent_has_pending(void);
/*
 * agent.c, under the agent lock: the map file called name if this process
 * has mapped it (else NULL), how many it has, and the program file called
 * name, loaded on first use (NULL when it cannot be; reported once).
 */
struct map;
struct uebpf_vm;
struct map *agent_find_map(const char *name);
size_t agent_nmaps(void);
struct uebpf_vm *agent_get_prog(const char *name);

/*
 * agent_tail.c: tail calls through PROG_ARRAYs filled by the loader.
 * agent_tail_register gives a VM, before its load, the agent's
 * bpf_tail_call; agent_tail_sync (under the agent lock) reads the
 * registry's slot records; agent_tail_reset frees the tables once no hook
 * is left.
 */
struct reg;
int agent_tail_register(struct uebpf_vm *vm);
void agent_tail_sync(struct reg *r);
void agent_tail_reset(void);

/* The type (enum bpf_prog_type) of the program called name, once agent_get_prog loaded it. */
uint32_t agent_prog_type(const char *name);

/* Syscall tracepoint attachments (agent_systp.c); failures are reported. */
struct reg_attach;
struct systp_hook;
bool agent_systp_kind(uint32_t kind);
int agent_systp_install(const char *name, const struct reg_attach *a, struct systp_hook **out);
int agent_systp_uninstall(const char *name, struct systp_hook *h);
/* After a dlopen: syshook rewrites the new code's system calls, when it hooks any. */
void agent_systp_rescan(void);

/* "uebpf-agent: message" on stderr, in one write. */
__attribute__((format(printf, 1, 2))) void agent_report(const char *fmt, ...);

#endif
