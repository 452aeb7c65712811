/* SPDX-License-Identifier: MIT */
/*
 * state_dir: where uebpf keeps what outlives one process or is shared
 * between processes: the files behind maps (so that they can be pinned and
 * registered by name), pins and registries. It is $UEBPF_STATE_DIR, else
 * /dev/shm/uebpf-UID, a tmpfs directory made on first use with mode 0700.
 * A directory that another user owns, or that others may enter, is refused:
 * what is in it must be readable by its owner only.
 */
#ifndef UEBPF_STATE_DIR_H
#define UEBPF_STATE_DIR_H

#include <stddef.h>

/* The directory's path into path (len bytes), made if missing; 0 or a negative errno. */
int state_dir(char *path, size_t len, char *err, size_t err_len);

#endif
