// SPDX-License-Identifier: MIT
/*
 * The VM behind a program fd, for tools that work on what the emulation
 * loaded: uebpf aot OBJ translates the programs libbpf loaded, with their
 * maps bound as any load binds them.
 */
#include "syscall/internal.h"
#include "syscall/syscall.h"

struct uebpf_vm *syscall_prog_vm(int fd)
{
	struct sys_obj *obj;
	struct uebpf_vm *vm;

	if (sys_obj_get(fd, SYS_PROG, &obj))
		return NULL;
	vm = obj->prog.vm;
	sys_obj_put(obj);
	return vm;
}
