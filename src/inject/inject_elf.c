// SPDX-License-Identifier: MIT
/*
 * Where a function of an object mapped in the target is: the object's load
 * bias (its mapping at file offset 0 minus the page of its first PT_LOAD)
 * plus the symbol's value in the ELF file, from .dynsym or else .symtab.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "inject/internal.h"

/* The file as the target sees it (its mount namespace), else as we do. */
static int open_object(pid_t pid, const char *path)
{
	char root_path[4200];
	int fd;

	snprintf(root_path, sizeof(root_path), "/proc/%d/root%s", (int)pid, path);
	fd = open(root_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd;
}

static int load_bias(Elf *elf, uint64_t start, uint64_t *bias)
{
	size_t n;

	if (elf_getphdrnum(elf, &n))
		return -ENOEXEC;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (ph.p_offset >= (uint64_t)getpagesize())
			return -ENOEXEC;
		*bias = start - (ph.p_vaddr & ~((uint64_t)getpagesize() - 1));
		return 0;
	}
	return -ENOEXEC;
}

/* The symbol in the first table of type that has it: 1 found, 0 not, -errno. */
static int find_in_table(Elf *elf, Elf64_Word type, const char *symbol, GElf_Sym *out)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != type || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			return -ENOEXEC;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;

			if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF)
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (name && !strcmp(name, symbol)) {
				*out = sym;
				return 1;
			}
		}
	}
	return 0;
}

int inject_symbol_addr(pid_t pid, const struct inject_object *obj, const char *symbol,
		       uint64_t *addr, char *err, size_t err_len)
{
	GElf_Sym sym;
	uint64_t bias;
	Elf *elf;
	int fd, ret;

	fd = open_object(pid, obj->path);
	if (fd < 0) {
		ret = -errno;
		errbuf_set(err, err_len, "cannot open %s to find %s: %s", obj->path, symbol,
			   strerror(errno));
		return ret;
	}
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || gelf_getclass(elf) != ELFCLASS64) {
		errbuf_set(err, err_len, "%s is not a 64-bit ELF object", obj->path);
		ret = -ENOEXEC;
		goto out;
	}
	ret = load_bias(elf, obj->start, &bias);
	if (ret) {
		errbuf_set(err, err_len, "%s: no loadable segment at the start of the file",
			   obj->path);
		goto out;
	}
	ret = find_in_table(elf, SHT_DYNSYM, symbol, &sym);
	if (ret == 0)
		ret = find_in_table(elf, SHT_SYMTAB, symbol, &sym);
	if (ret < 0) {
		errbuf_set(err, err_len, "%s: cannot read its symbols: %s", obj->path,
			   elf_errmsg(-1));
		goto out;
	}
	if (ret == 0) {
		errbuf_set(err, err_len, "%s has no symbol %s", obj->path, symbol);
		ret = -ENOENT;
		goto out;
	}
	if (GELF_ST_TYPE(sym.st_info) != STT_FUNC) {
		errbuf_set(err, err_len, "%s in %s is not a plain function (ELF symbol type %d)",
			   symbol, obj->path, GELF_ST_TYPE(sym.st_info));
		ret = -ENOEXEC;
		goto out;
	}
	*addr = bias + sym.st_value;
	ret = 0;
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return ret;
}
