/* SPDX-License-Identifier: MIT */
/*
 * agent: libuebpf-agent.so, the part of uebpf that runs inside a target
 * process and brings a registry's programs to life there (registry/registry.h).
 *
 * uebpf_agent_start maps the registry's maps, loads the programs its live
 * attachments name (on the engine $UEBPF_ENGINE names, the JIT by default)
 * and installs a hook (probe/probe.h) for each attachment that applies to
 * this process; attachments in objects not mapped yet are installed when
 * the process dlopens them. A watcher thread then follows the registry:
 * attachments that appear are installed, those whose loader closed them or
 * detached are removed. Calling it again is harmless. uebpf_agent_stop
 * removes every hook the agent installed, stops the watcher and frees the
 * programs; the maps live on in the registry.
 *
 * trace_printk output goes to the registry's trace file unless
 * UEBPF_TRACE_PIPE says otherwise. Loaded by LD_PRELOAD with UEBPF_REGISTRY
 * set (`uebpf start`), its constructor starts it; `uebpf attach PID` loads
 * it into a running process and calls uebpf_agent_start.
 *
 * Both return 0 or a negative errno. The agent never stops the target:
 * every error is reported on stderr with the prefix "uebpf-agent:" and the
 * process goes on.
 */
#ifndef UEBPF_AGENT_H
#define UEBPF_AGENT_H

#define UEBPF_AGENT_EXPORT __attribute__((visibility("default")))

#ifdef __cplusplus
extern "C" {
#endif

UEBPF_AGENT_EXPORT int uebpf_agent_start(const char *registry_dir);
UEBPF_AGENT_EXPORT int uebpf_agent_stop(void);

#ifdef __cplusplus
}
#endif

#endif
