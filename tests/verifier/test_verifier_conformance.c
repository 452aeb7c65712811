// SPDX-License-Identifier: MIT
/*
 * The bpf_conformance suite through the verifier. These programs test the
 * instruction set, not safety: many read r1 as memory without a length
 * check or read registers never written, so the verifier refuses them.
 *
 *   test_verifier_conformance TESTS_DIR
 *
 * Raw-memory mode (how uebpf_vm_run calls them): the verdict of each is
 * printed; each accepted one is then loaded with verification on, so its
 * proven accesses run unchecked, and must still give the suite's result.
 * Against the kernel: each is verified as a socket filter by uebpf and
 * loaded as one into the kernel. uebpf accepting what the kernel refuses is
 * a failure; the other way round is listed as a known difference.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testfile.h"
#include "verifier/verifier.h"
#include "vtest.h"

#define LOG_LEN 4096

static char ulog[LOG_LEN], klog[65536];

struct totals {
	unsigned files, raw_accepted, runs_ok, kernel_checked, agree, unsafe, stricter, failed;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads with verification on and runs it on the file's memory: the suite's result? */
static bool run_verified(const struct cli_testfile *tf, const struct isa_insn *insns, size_t n,
			 const char *name)
{
	struct uebpf_vm *vm = uebpf_vm_create();
	uint8_t *mem = tf->mem_len ? malloc(tf->mem_len) : NULL;
	uint64_t r0 = 0;
	char err[512] = "";
	int ret = -1;

	if (vm && !uebpf_vm_set_verify(vm, UEBPF_PROG_RAW_MEM)) {
		if (uebpf_vm_load(vm, insns, n * sizeof(*insns), err, sizeof(err))) {
			/* the suite's own helpers are not registered here */
			if (strstr(err, "unknown helper")) {
				printf("  %-34s not run: %s\n", name, err);
				uebpf_vm_destroy(vm);
				free(mem);
				return true;
			}
		} else {
			if (mem)
				memcpy(mem, tf->mem, tf->mem_len);
			ret = uebpf_vm_run(vm, mem, tf->mem_len, &r0, err, sizeof(err));
		}
	}
	uebpf_vm_destroy(vm);
	free(mem);
	if (ret || (tf->has_result && r0 != tf->result)) {
		printf("FAIL %s: verified, but the run gives %s%#llx (want %#llx) %s\n", name,
		       ret ? "an error, r0 " : "", (unsigned long long)r0,
		       (unsigned long long)tf->result, err);
		return false;
	}
	return true;
}

static void one_file(const char *dir, const char *name, bool kernel, struct totals *t)
{
	struct verifier_opts raw = {.type = UEBPF_PROG_RAW_MEM};
	struct verifier_opts sf = {.type = UEBPF_PROG_SOCKET_FILTER};
	struct cli_testfile tf;
	struct isa_insn *insns = NULL;
	char path[4096], err[256];
	size_t n = 0;
	char *text;
	int uret, kret;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	text = vt_read_file(path);
	if (!text || cli_testfile_parse(text, &tf, err, sizeof(err))) {
		t->failed++;
		free(text);
		return;
	}
	t->files++;
	if (cli_testfile_program(&tf, &insns, &n, err, sizeof(err)) || !n) {
		printf("  %-34s not a program: %s\n", name, err);
		goto out;
	}
	uret = verifier_check(insns, n, &raw, NULL, NULL, ulog, sizeof(ulog));
	printf("  %-34s raw: %s%s\n", name, uret ? "rejected: " : "accepted", uret ? ulog : "");
	if (!uret) {
		t->raw_accepted++;
		if (run_verified(&tf, insns, n, name))
			t->runs_ok++;
		else
			t->failed++;
	}
	if (!kernel)
		goto out;
	uret = verifier_check(insns, n, &sf, NULL, NULL, ulog, sizeof(ulog));
	kret = vt_kernel_verdict(UEBPF_PROG_SOCKET_FILTER, insns, n, klog, sizeof(klog), NULL);
	t->kernel_checked++;
	if (!uret == !kret) {
		t->agree++;
	} else if (!uret) {
		t->unsafe++;
		printf("FAIL %s: uebpf accepts as a socket filter what the kernel refuses:\n%s\n",
		       name, klog);
	} else {
		t->stricter++;
		printf("  %-34s known difference: the kernel accepts it, uebpf refuses: %s\n", name,
		       ulog);
	}
out:
	free(insns);
	cli_testfile_free(&tf);
	free(text);
}

int main(int argc, char **argv)
{
	struct totals t = {0};
	char **names = NULL, why[256];
	size_t nnames = 0;
	struct dirent *de;
	bool kernel;
	DIR *d;

	if (argc != 2) {
		fprintf(stderr, "usage: %s TESTS_DIR\n", argv[0]);
		return 2;
	}
	d = opendir(argv[1]);
	if (!d) {
		fprintf(stderr, "cannot open %s\n", argv[1]);
		return 1;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (len > 5 && !strcmp(de->d_name + len - 5, ".data")) {
			names = realloc(names, (nnames + 1) * sizeof(*names));
			if (!names)
				return 1;
			names[nnames++] = strdup(de->d_name);
		}
	}
	closedir(d);
	qsort(names, nnames, sizeof(*names), cmp_str);
	kernel = vt_kernel_available(why, sizeof(why));
	for (size_t i = 0; i < nnames; i++) {
		one_file(argv[1], names[i], kernel, &t);
		free(names[i]);
	}
	free(names);
	printf("conformance: %u programs; raw mode: %u accepted (%u run with their proven accesses "
	       "unchecked and give the suite's result), %u rejected\n",
	       t.files, t.raw_accepted, t.runs_ok, t.files - t.raw_accepted);
	if (kernel)
		printf("as socket filters against the kernel: %u programs, %u same verdict, %u "
		       "accepted by uebpf only, %u accepted by the kernel only\n",
		       t.kernel_checked, t.agree, t.unsafe, t.stricter);
	if (t.failed || t.unsafe || !t.files)
		return 1;
	if (!kernel) {
		printf("SKIP kernel half: %s\n", why);
		return VT_SKIP;
	}
	return 0;
}
