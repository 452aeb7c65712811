// SPDX-License-Identifier: MIT
#include "common/state_dir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/errbuf.h"

int state_dir(char *path, size_t len, char *err, size_t err_len)
{
	const char *env = getenv("UEBPF_STATE_DIR");
	struct stat st;
	int n;

	if (env && *env)
		n = snprintf(path, len, "%s", env);
	else
		n = snprintf(path, len, "/dev/shm/uebpf-%u", (unsigned)geteuid());
	if (n < 0 || (size_t)n >= len) {
		errbuf_set(err, err_len, "state directory path is too long");
		return -ENAMETOOLONG;
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		errbuf_set(err, err_len, "cannot make state directory %s: %s", path,
			   strerror(errno));
		return -errno;
	}
	/* lstat: a symbolic link planted in /dev/shm must not redirect us */
	if (lstat(path, &st) < 0) {
		errbuf_set(err, err_len, "state directory %s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
		errbuf_set(err, err_len,
			   "state directory %s must be a directory of user %u with mode 0700",
			   path, (unsigned)geteuid());
		return -EPERM;
	}
	return 0;
}
