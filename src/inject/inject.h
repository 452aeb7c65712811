/* SPDX-License-Identifier: MIT */
/*
 * inject: load a shared object into a process that is already running and
 * call a function of it there, with ptrace.
 *
 * Every thread of the target is stopped (PTRACE_SEIZE + PTRACE_INTERRUPT)
 * while it is changed; one of them runs the call on its own stack and is
 * then given back its registers, its FPU/vector state and the stack bytes
 * the call used, so the target goes on as if it had never been stopped: a
 * system call it was blocked in is restarted as after a stop signal.
 *
 * inject_load dlopens so_path (made absolute) in process pid with
 * RTLD_NOW and gives the handle dlopen returned there; loading an object
 * that is already loaded gives its handle again. inject_call calls
 * symbol, an exported `int f(const char *)` (arg passed as a string copied
 * into the target) or `int f(void)` (arg NULL), of the object at so_path
 * already mapped in pid, and gives its return value.
 *
 * Both return 0 or a negative errno with a message in err: -ESRCH (no such
 * process, or it exited meanwhile), -EPERM (another user's process, or
 * ptrace refused), -EINVAL (the caller's own process, a thread id, a
 * stopped process), -ENOENT (object or symbol missing), -ENOEXEC (dlopen
 * failed in the target; its dlerror is in the message), -EFAULT (the call
 * faulted), -ETIMEDOUT (the call did not return in time: with the other
 * threads stopped, a lock one of them holds can block it). On every error
 * the target is left running with its registers and memory as they were;
 * what a call that faulted or was abandoned did before stays done.
 */
#ifndef UEBPF_INJECT_H
#define UEBPF_INJECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

int inject_load(pid_t pid, const char *so_path, uint64_t *handle, char *err, size_t err_len);
int inject_call(pid_t pid, const char *so_path, const char *symbol, const char *arg, int *ret,
		char *err, size_t err_len);

/*
 * How long a call may run (each of inject_load's and inject_call's) before it
 * is abandoned with -ETIMEDOUT, in ms; 0 restores the default, 20 s.
 */
void inject_set_call_timeout(unsigned int ms);

#endif
