// SPDX-License-Identifier: MIT
/*
 * Program files: a fixed header, the map table (one REG_NAME_MAX name per
 * map), then the instructions. Written whole into an unnamed file, then
 * named; a reader checks every size against the file's before trusting it,
 * since a registry may hold a file of an older or broken writer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "registry/internal.h"

#define PROG_MAGIC "uebpfPG1"
#define PROG_MAX_MAPS 64       /* MAX_USED_MAPS of the kernel's verifier */
#define PROG_MAX_INSNS 1000000 /* BPF_COMPLEXITY_LIMIT_INSNS */

struct prog_hdr {
	char magic[8];
	uint32_t type;
	uint32_t expected_attach_type;
	char name[16];
	uint32_t nmaps;
	uint32_t ninsns;
};

static int write_all(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

int reg_add_prog(struct reg *r, const struct reg_prog *p, char name[REG_NAME_MAX], char *err,
		 size_t err_len)
{
	static unsigned next;
	struct prog_hdr h = {.type = p->type,
			     .expected_attach_type = p->expected_attach_type,
			     .nmaps = p->nmaps,
			     .ninsns = p->ninsns};
	size_t maps_len = (size_t)p->nmaps * REG_NAME_MAX;
	int fd, ret;

	if (p->nmaps > PROG_MAX_MAPS || !p->ninsns || p->ninsns > PROG_MAX_INSNS) {
		errbuf_set(err, err_len, "program %s: %u maps and %u instructions are too many",
			   p->name, p->nmaps, p->ninsns);
		return -E2BIG;
	}
	memcpy(h.magic, PROG_MAGIC, sizeof(h.magic));
	memcpy(h.name, p->name, sizeof(h.name));
	h.name[sizeof(h.name) - 1] = '\0';
	ret = reg_tmpfile(r, &fd, err, err_len);
	if (ret)
		return ret;
	ret = write_all(fd, &h, sizeof(h), 0);
	if (!ret && maps_len)
		ret = write_all(fd, p->maps, maps_len, sizeof(h));
	if (!ret)
		ret = write_all(fd, p->insns, (size_t)p->ninsns * sizeof(*p->insns),
				(off_t)(sizeof(h) + maps_len));
	if (ret) {
		errbuf_set(err, err_len, "registry %s: writing program %s: %s", r->path, p->name,
			   strerror(-ret));
		close(fd);
		return ret;
	}
	/* a name left by an earlier process of the same pid is skipped */
	do {
		snprintf(name, REG_NAME_MAX, "prog-%d-%u", (int)getpid(),
			 __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED));
		ret = reg_link_fd(r, fd, name, err, err_len);
	} while (ret == -EEXIST);
	close(fd);
	return ret;
}

static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int parse(int fd, struct reg_prog *p, const char **why)
{
	struct prog_hdr h;
	struct stat st;
	size_t maps_len, insns_len;

	*why = "truncated";
	if (fstat(fd, &st) < 0 || read_all(fd, &h, sizeof(h)))
		return -EIO;
	*why = "not a uebpf program file";
	if (memcmp(h.magic, PROG_MAGIC, sizeof(h.magic)) || h.nmaps > PROG_MAX_MAPS || !h.ninsns ||
	    h.ninsns > PROG_MAX_INSNS || h.name[sizeof(h.name) - 1])
		return -EINVAL;
	maps_len = (size_t)h.nmaps * REG_NAME_MAX;
	insns_len = (size_t)h.ninsns * sizeof(struct isa_insn);
	*why = "sizes do not match the file";
	if ((uint64_t)st.st_size != sizeof(h) + maps_len + insns_len)
		return -EINVAL;
	p->type = h.type;
	p->expected_attach_type = h.expected_attach_type;
	memcpy(p->name, h.name, sizeof(p->name));
	p->nmaps = h.nmaps;
	p->ninsns = h.ninsns;
	p->maps = calloc(h.nmaps ? h.nmaps : 1, REG_NAME_MAX);
	p->insns = malloc(insns_len);
	*why = "out of memory";
	if (!p->maps || !p->insns)
		return -ENOMEM;
	*why = "truncated";
	if (read_all(fd, p->maps, maps_len) || read_all(fd, p->insns, insns_len))
		return -EIO;
	*why = "bad map name";
	for (uint32_t i = 0; i < h.nmaps; i++)
		if (p->maps[i][REG_NAME_MAX - 1] || !reg_name_ok(p->maps[i]))
			return -EINVAL;
	return 0;
}

int reg_read_prog(struct reg *r, const char *name, struct reg_prog *p, char *err, size_t err_len)
{
	const char *why;
	int fd, ret;

	memset(p, 0, sizeof(*p));
	if (!reg_name_ok(name)) {
		errbuf_set(err, err_len, "registry %s: bad program name '%s'", r->path, name);
		return -EINVAL;
	}
	fd = openat(r->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		errbuf_set(err, err_len, "registry %s: program %s: %s", r->path, name,
			   strerror(errno));
		return ret;
	}
	ret = parse(fd, p, &why);
	close(fd);
	if (ret) {
		errbuf_set(err, err_len, "registry %s: program %s: %s", r->path, name, why);
		reg_prog_free(p);
	}
	return ret;
}

void reg_prog_free(struct reg_prog *p)
{
	free(p->maps);
	free(p->insns);
	p->maps = NULL;
	p->insns = NULL;
}
