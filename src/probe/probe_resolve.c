// SPDX-License-Identifier: MIT
/*
 * Names to addresses in this process: the objects the dynamic loader mapped
 * (dl_iterate_phdr gives each one's path and load bias), their ELF symbols
 * (.symtab, else .dynsym, through libelf) and /proc/self/maps for file
 * offsets. Also the extent of the function around an address, which
 * probe_attach needs to know how many bytes it may displace.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/errbuf.h"
#include "probe_internal.h"

struct object {
	char path[PATH_MAX];
	uintptr_t bias;
	bool found;
};

struct find_name {
	const char *want; /* NULL: the main executable */
	char want_real[PATH_MAX];
	struct object *obj;
};

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* The main executable's entry has an empty name: its path is /proc/self/exe. */
static void object_path(const char *name, char *out)
{
	if (*name) {
		if (!realpath(name, out))
			snprintf(out, PATH_MAX, "%s", name);
		return;
	}
	if (!realpath("/proc/self/exe", out))
		snprintf(out, PATH_MAX, "/proc/self/exe");
}

static int match_name(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct find_name *f = arg;
	char path[PATH_MAX];
	bool main_exe = !*info->dlpi_name, match;

	(void)size;
	if (!main_exe && !strncmp(info->dlpi_name, "linux-vdso", 10))
		return 0;
	object_path(info->dlpi_name, path);
	if (!f->want)
		match = main_exe;
	else
		match = !strcmp(path, f->want_real) || !strcmp(base_name(path), f->want) ||
			!strcmp(info->dlpi_name, f->want) ||
			!strcmp(base_name(info->dlpi_name), f->want);
	if (!match)
		return 0;
	snprintf(f->obj->path, sizeof(f->obj->path), "%s", path);
	f->obj->bias = info->dlpi_addr;
	f->obj->found = true;
	return 1;
}

static int find_object(const char *binary, struct object *obj, char *err, size_t err_len)
{
	struct find_name f = {.obj = obj};

	obj->found = false;
	if (*binary && strcmp(binary, "self")) {
		f.want = binary;
		if (!realpath(binary, f.want_real))
			f.want_real[0] = '\0';
	}
	dl_iterate_phdr(match_name, &f);
	if (!obj->found) {
		errbuf_set(err, err_len, "%s: no object of that name is mapped in this process",
			   binary);
		return -ENOENT;
	}
	return 0;
}

struct elf_sym {
	uint64_t value, size;
	unsigned type;
};

/*
 * Walks the function symbols of path (.symtab, then .dynsym), calling fn
 * until it returns true. Returns 0, or a negative errno when the file
 * cannot be read as ELF.
 */
static int elf_each_func(const char *path,
			 bool (*fn)(const char *name, const struct elf_sym *s, void *arg),
			 void *arg)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;
	Elf_Scn *scn;
	Elf *elf;
	bool done = false;

	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		ret = -ENOEXEC;
		goto out;
	}
	for (int pass = 0; pass < 2 && !done; pass++) {
		for (scn = NULL; !done && (scn = elf_nextscn(elf, scn));) {
			GElf_Shdr sh;
			Elf_Data *data;

			if (!gelf_getshdr(scn, &sh) ||
			    sh.sh_type != (pass ? SHT_DYNSYM : SHT_SYMTAB) || !sh.sh_entsize)
				continue;
			data = elf_getdata(scn, NULL);
			for (size_t i = 0; data && !done && i < sh.sh_size / sh.sh_entsize; i++) {
				GElf_Sym sym;
				struct elf_sym s;
				const char *name;
				unsigned type;

				if (!gelf_getsym(data, (int)i, &sym) || sym.st_shndx == SHN_UNDEF)
					continue;
				type = GELF_ST_TYPE(sym.st_info);
				if (type != STT_FUNC && type != STT_GNU_IFUNC)
					continue;
				name = elf_strptr(elf, sh.sh_link, sym.st_name);
				if (!name)
					continue;
				s.value = sym.st_value;
				s.size = sym.st_size;
				s.type = type;
				done = fn(name, &s, arg);
			}
		}
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return ret;
}

struct by_name {
	const char *name;
	size_t len; /* of the name without a @version */
	struct elf_sym sym;
	bool found;
};

static bool match_sym(const char *name, const struct elf_sym *s, void *arg)
{
	struct by_name *b = arg;

	if (strncmp(name, b->name, b->len) || (name[b->len] && name[b->len] != '@'))
		return false;
	b->sym = *s;
	b->found = true;
	return true;
}

/* An IFUNC symbol is its resolver: the loader knows the implementation it chose. */
static uintptr_t ifunc_target(const char *path, const char *name)
{
	void *h = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
	void *p = NULL;

	if (h) {
		p = dlsym(h, name);
		dlclose(h);
	}
	return (uintptr_t)p;
}

static int resolve_symbol(const struct object *obj, const char *spec, void **addr, char *err,
			  size_t err_len)
{
	struct by_name b = {.name = spec};
	const char *plus = strchr(spec, '+');
	unsigned long long off = 0;
	char name[256];
	uintptr_t at;
	int ret;

	if (plus) {
		char *end;

		errno = 0;
		off = strtoull(plus + 1, &end, 0);
		if (errno || end == plus + 1 || *end) {
			errbuf_set(err, err_len, "%s: bad offset '%s'", spec, plus + 1);
			return -EINVAL;
		}
	}
	b.len = plus ? (size_t)(plus - spec) : strlen(spec);
	if (!b.len || b.len >= sizeof(name)) {
		errbuf_set(err, err_len, "'%s': bad symbol name", spec);
		return -EINVAL;
	}
	memcpy(name, spec, b.len);
	name[b.len] = '\0';
	b.name = name;
	ret = elf_each_func(obj->path, match_sym, &b);
	if (ret) {
		errbuf_set(err, err_len, "%s: cannot read its ELF symbols: %s", obj->path,
			   strerror(-ret));
		return ret;
	}
	if (!b.found) {
		errbuf_set(err, err_len, "%s: no function '%s'", obj->path, name);
		return -ENOENT;
	}
	if (b.sym.size && off >= b.sym.size) {
		errbuf_set(err, err_len, "%s: offset 0x%llx is beyond the end of %s (%llu bytes)",
			   obj->path, off, name, (unsigned long long)b.sym.size);
		return -EINVAL;
	}
	at = obj->bias + b.sym.value;
	if (b.sym.type == STT_GNU_IFUNC) {
		at = ifunc_target(obj->path, name);
		if (!at) {
			errbuf_set(err, err_len, "%s: cannot resolve the IFUNC %s", obj->path,
				   name);
			return -ENOENT;
		}
	}
	*addr = (void *)(at + off);
	return 0;
}

int probe_resolve(const char *target, void **addr, char *err, size_t err_len)
{
	const char *colon = target ? strrchr(target, ':') : NULL;
	char binary[PATH_MAX];
	struct object obj;
	size_t n;
	int ret;

	if (!colon || !colon[1]) {
		errbuf_set(
			err, err_len,
			"'%s': a target is binary:symbol, binary:symbol+offset or binary:0xoffset",
			target ? target : "(null)");
		return -EINVAL;
	}
	n = (size_t)(colon - target);
	if (n >= sizeof(binary)) {
		errbuf_set(err, err_len, "binary name too long");
		return -ENAMETOOLONG;
	}
	memcpy(binary, target, n);
	binary[n] = '\0';
	ret = find_object(binary, &obj, err, err_len);
	if (ret)
		return ret;
	if (colon[1] == '0' && (colon[2] == 'x' || colon[2] == 'X')) {
		unsigned long long off;
		char *end;

		errno = 0;
		off = strtoull(colon + 1, &end, 16);
		if (errno || *end || end == colon + 3) {
			errbuf_set(err, err_len, "'%s': bad offset", colon + 1);
			return -EINVAL;
		}
		return probe_resolve_file_off(obj.path, off, addr, err, err_len);
	}
	return resolve_symbol(&obj, colon + 1, addr, err, err_len);
}

/* Where file offset off of path is mapped here with permission perm ('x' or 'w'). */
static int resolve_off(const char *path, uint64_t off, char perm, void **addr, char *err,
		       size_t err_len)
{
	unsigned long lo, hi, moff, ino;
	unsigned maj, min;
	char line[PATH_MAX + 128], perms[8];
	bool mapped = false;
	struct stat st;
	FILE *f;
	int ret = -ENOENT;

	if (!path || stat(path, &st)) {
		errbuf_set(err, err_len, "%s: %s", path ? path : "(null)", strerror(errno));
		return -ENOENT;
	}
	f = fopen("/proc/self/maps", "re");
	if (!f) {
		ret = -errno;
		errbuf_set(err, err_len, "/proc/self/maps: %s", strerror(errno));
		return ret;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu", &lo, &hi, perms, &moff, &maj, &min,
			   &ino) != 7)
			continue;
		if (ino != st.st_ino || makedev(maj, min) != st.st_dev)
			continue;
		mapped = true;
		if (perms[perm == 'x' ? 2 : 1] != perm || off < moff || off >= moff + (hi - lo))
			continue;
		*addr = (void *)(lo + (off - moff));
		ret = 0;
		break;
	}
	fclose(f);
	if (ret)
		errbuf_set(err, err_len,
			   mapped ? "%s: file offset 0x%llx is not in its %s"
				  : "%s: not mapped in this process (file offset 0x%llx%s)",
			   path, (unsigned long long)off,
			   mapped ? (perm == 'x' ? "executable code" : "writable data") : "");
	return ret;
}

int probe_resolve_file_off(const char *path, uint64_t off, void **addr, char *err, size_t err_len)
{
	return resolve_off(path, off, 'x', addr, err, err_len);
}

int probe_resolve_data_off(const char *path, uint64_t off, void **addr, char *err, size_t err_len)
{
	return resolve_off(path, off, 'w', addr, err, err_len);
}

struct find_addr {
	uintptr_t addr;
	struct object *obj;
};

static int match_addr(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct find_addr *f = arg;

	(void)size;
	for (unsigned i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD || f->addr < lo || f->addr >= lo + ph->p_memsz)
			continue;
		object_path(info->dlpi_name, f->obj->path);
		f->obj->bias = info->dlpi_addr;
		f->obj->found = true;
		return 1;
	}
	return 0;
}

struct by_addr {
	uint64_t vaddr;
	struct elf_sym sym;
	bool found;
};

static bool contains(const char *name, const struct elf_sym *s, void *arg)
{
	struct by_addr *b = arg;

	(void)name;
	if (!s->size || b->vaddr < s->value || b->vaddr >= s->value + s->size)
		return false;
	b->sym = *s;
	b->found = true;
	return true;
}

int probe_func_extent(uintptr_t addr, uintptr_t *start, size_t *size)
{
	struct object obj = {.found = false};
	struct find_addr f = {.addr = addr, .obj = &obj};
	struct by_addr b = {.found = false};

	dl_iterate_phdr(match_addr, &f);
	if (!obj.found)
		return -ENOENT;
	b.vaddr = addr - obj.bias;
	if (elf_each_func(obj.path, contains, &b) || !b.found)
		return -ENOENT;
	*start = obj.bias + b.sym.value;
	*size = b.sym.size;
	return 0;
}
