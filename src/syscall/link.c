// SPDX-License-Identifier: MIT
/*
 * BPF_LINK_CREATE of a kprobe program to a uprobe perf event
 * (attach_type BPF_PERF_EVENT), and BPF_LINK_DETACH. The link holds the
 * program and the event; with a registry its fd is an fd of its own
 * attachment file holding the lock, as an event's is (perf_event.c), so the
 * attachment lives while an fd of the link is open anywhere.
 *
 * libbpf 1.1 decides between links and the ioctl by a probe: LINK_CREATE
 * with target fd -1 must fail with -EBADF, which the lookup of the target
 * gives. Other attach types are not supported: -EINVAL, as a kernel
 * without them says.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry/registry.h"
#include "syscall/internal.h"

static int check_create(const union bpf_attr *attr, struct sys_obj **prog, struct sys_obj **ev)
{
	int ret = sys_check_attr(attr, SYS_ATTR_END(link_create.perf_event.bpf_cookie),
				 "BPF_LINK_CREATE");

	if (ret)
		return ret;
	if (attr->link_create.attach_type != BPF_PERF_EVENT) {
		sys_error("BPF_LINK_CREATE: attach type %u is not supported (only BPF_PERF_EVENT)",
			  attr->link_create.attach_type);
		return -EINVAL;
	}
	if (attr->link_create.flags) {
		sys_error("BPF_LINK_CREATE: flags must be 0");
		return -EINVAL;
	}
	ret = sys_obj_get((int)attr->link_create.prog_fd, SYS_PROG, prog);
	if (ret)
		return ret;
	ret = sys_obj_get((int)attr->link_create.target_fd, SYS_PERF_EVENT, ev);
	if (ret) {
		sys_obj_put(*prog);
		return ret;
	}
	if (!sys_perf_prog_ok(&(*ev)->event, *prog, "BPF_LINK_CREATE"))
		ret = -EINVAL;
	if (ret) {
		sys_obj_put(*prog);
		sys_obj_put(*ev);
	}
	return ret;
}

int sys_link_create(union bpf_attr *attr)
{
	struct sys_obj *obj, *prog, *ev;
	int ret, user_fd, fd;

	ret = check_create(attr, &prog, &ev);
	if (ret)
		return ret;
	obj = calloc(1, sizeof(*obj));
	if (!obj) {
		ret = -ENOMEM;
		sys_error("out of memory");
		goto fail;
	}
	obj->kind = SYS_LINK;
	obj->link.prog = prog;
	obj->link.event = ev;
	obj->link.att.cookie = attr->link_create.perf_event.bpf_cookie;
	ret = sys_attach_fds(obj, "link", "BPF_LINK_CREATE", &user_fd);
	if (ret)
		goto fail;
	sys_attach_lock();
	if (ev->event.prog || ev->event.link) {
		sys_error("BPF_LINK_CREATE: the perf event has a program already");
		ret = -EEXIST;
	} else {
		ev->event.link = obj;
		ret = sys_perf_update(ev);
		if (ret)
			ev->event.link = NULL;
	}
	sys_attach_unlock();
	if (ret) {
		close(obj->fd);
		if (user_fd >= 0)
			close(user_fd);
		goto fail;
	}
	fd = user_fd >= 0 ? sys_obj_add_user_fd(obj, user_fd) : sys_obj_add(obj);
	if (fd >= 0)
		return fd;
	ret = fd;
	sys_attach_lock();
	obj->link.detached = true;
	sys_perf_update(ev);
	ev->event.link = NULL;
	sys_attach_unlock();
	close(obj->fd);
fail:
	free(obj);
	sys_obj_put(prog);
	sys_obj_put(ev);
	return ret;
}

int sys_link_detach(union bpf_attr *attr)
{
	struct sys_obj *obj;
	int ret;

	ret = sys_check_attr(attr, SYS_ATTR_END(link_detach.link_fd), "BPF_LINK_DETACH");
	if (ret)
		return ret;
	ret = sys_obj_get((int)attr->link_detach.link_fd, SYS_LINK, &obj);
	if (ret)
		return ret;
	sys_attach_lock();
	if (!obj->link.detached) {
		obj->link.detached = true;
		ret = sys_perf_update(obj->link.event);
		if (ret)
			obj->link.detached = false;
	}
	sys_attach_unlock();
	sys_obj_put(obj);
	return ret;
}

void sys_link_release(struct sys_obj *obj)
{
	struct sys_obj *ev = obj->link.event;

	sys_attach_lock();
	obj->link.detached = true;
	sys_perf_update(ev);
	ev->event.link = NULL;
	sys_attach_unlock();
	sys_obj_put(obj->link.prog);
	sys_obj_put(ev);
}
