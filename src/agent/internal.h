/* SPDX-License-Identifier: MIT */
/* agent internals: what agent_dlopen.c needs of agent.c. */
#ifndef UEBPF_AGENT_INTERNAL_H
#define UEBPF_AGENT_INTERNAL_H

#include <stdbool.h>

/* Make the hooks match the registry's live attachments (nothing when not started). */
void agent_sync(void);
/* Are attachments waiting for their object to be mapped? */
bool agent_has_pending(void);
/* "uebpf-agent: message" on stderr, in one write. */
__attribute__((format(printf, 1, 2))) void agent_report(const char *fmt, ...);

#endif
