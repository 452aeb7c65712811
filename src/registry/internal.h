/* SPDX-License-Identifier: MIT */
/* registry internals: the open directory and what its files share. */
#ifndef UEBPF_REGISTRY_INTERNAL_H
#define UEBPF_REGISTRY_INTERNAL_H

#include <dirent.h>

#include "registry/registry.h"

struct reg {
	char path[REG_PATH_MAX];
	int dirfd;
};

/* An unnamed file in the registry (O_TMPFILE), to write and then name. */
int reg_tmpfile(struct reg *r, int *fd, char *err, size_t err_len);
/* Give the file fd the name name in the registry; -EEXIST when taken. */
int reg_link_fd(struct reg *r, int fd, const char *name, char *err, size_t err_len);
/* A directory stream of the registry of its own; NULL with -errno in *ret and a message. */
DIR *reg_opendir(struct reg *r, int *ret, char *err, size_t err_len);
/* A registry file name: [A-Za-z0-9_.-], not "." or "..". */
bool reg_name_ok(const char *name);

#endif
