// SPDX-License-Identifier: MIT
/* benchlib: small files of sysfs and tracefs, and where the main executable maps an address. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <unistd.h>

#include "benchlib.h"

int benchlib_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	return 0;
}

/* dl_iterate_phdr's callback: the main executable's PT_LOAD holding *arg. */
static int exe_offset(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t *a = arg;

	(void)size;
	if (*info->dlpi_name)
		return 0;
	for (unsigned i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && *a >= lo && *a < lo + ph->p_filesz) {
			*a = *a - lo + ph->p_offset;
			return 1;
		}
	}
	return 0;
}

int benchlib_exe_file_offset(const void *addr, uint64_t *off)
{
	uintptr_t a = (uintptr_t)addr;

	if (dl_iterate_phdr(exe_offset, &a) != 1)
		return -ENOENT;
	*off = a;
	return 0;
}
