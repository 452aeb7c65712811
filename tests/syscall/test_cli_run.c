// SPDX-License-Identifier: MIT
/*
 * uebpf run on ELF objects, as a user runs it: output text and JSON, data
 * and context files in and out, program choice, engines, and bad input
 * (malformed object, unknown map type, unknown helper, wrong options) with
 * a message and a non-zero exit.
 *
 *   test_cli_run UEBPF_BINARY PROGS_DIR
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

static const char *uebpf, *progs;
static char tmpdir[] = "/tmp/uebpf-cli-XXXXXX";
static char out[65536];

/* Run uebpf with the arguments (NULL-terminated); out gets stdout and stderr. */
static int run(const char *arg, ...)
{
	const char *argv[32] = {uebpf, "run"};
	int argc = 2, pipefd[2], status;
	size_t n = 0;
	ssize_t r;
	va_list ap;
	pid_t pid;

	va_start(ap, arg);
	for (; arg && argc < 31; arg = va_arg(ap, const char *))
		argv[argc++] = arg;
	va_end(ap);
	argv[argc] = NULL;
	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		execv(uebpf, (char **)argv);
		_exit(127);
	}
	close(pipefd[1]);
	while (n < sizeof(out) - 1 && (r = read(pipefd[0], out + n, sizeof(out) - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static const char *obj(const char *name)
{
	static char paths[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(paths[i], sizeof(paths[i]), "%s/%s.bpf.o", progs, name);
	return paths[i];
}

static const char *tmp(const char *name)
{
	static char paths[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(paths[i], sizeof(paths[i]), "%s/%s", tmpdir, name);
	return paths[i];
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f) {
		fwrite(data, 1, len, f);
		fclose(f);
	}
}

static size_t read_file(const char *path, unsigned char *buf, size_t max)
{
	FILE *f = fopen(path, "rb");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, max, f);
		fclose(f);
	}
	return n;
}

/* Ethernet + IPv4 (valid checksum), 60 bytes. */
static void ipv4_packet(unsigned char *p)
{
	static const unsigned char hdr[] = {
		0x02, 0, 0, 0, 0, 0x01, 0x02, 0,    0,	  0,  0, 0x02, 0x08, 0x00, 0x45, 0, 0,
		46,   0, 0, 0, 0, 64,	17,   0x66, 0xbd, 10, 0, 0,    1,    10,   0,	 0, 2,
	};

	memset(p, 0, 60);
	memcpy(p, hdr, sizeof(hdr));
}

static void test_output(void)
{
	unsigned char zero[64] = {0};
	int rc;

	write_file(tmp("zero64"), zero, sizeof(zero));
	rc = run(obj("global_data"), "--data-in", tmp("zero64"), NULL);
	EXPECT(rc == 0 && strstr(out, "Return value: 2, duration: ") && strstr(out, "ns\n"),
	       "text output (%d): %s", rc, out);
	rc = run(obj("global_data"), "--data-in", tmp("zero64"), "--json", "--repeat", "4", NULL);
	EXPECT(rc == 0 && !strncmp(out, "{\"retval\":2,\"duration_ns\":", 26), "json (%d): %s", rc,
	       out);
	EXPECT(strstr(out, "\"counts\":[{\"key\":\"00000000\",\"value\":\"0000000000000000\"},"
			   "{\"key\":\"01000000\",\"value\":\"0c00000000000000\"}"),
	       "counts[1] = 4 runs * 3: %s", out);
	EXPECT(strstr(out, "\"seen\":[{\"key\":\"07000000\",\"value\":\"4000000000000000\"}]"),
	       "seen[7] = 64: %s", out);
	EXPECT(strstr(out, ".bss\":[{\"key\":\"00000000\",\"value\":\"0400000000000000\"}]"),
	       ".bss calls = 4: %s", out);
	rc = run(obj("global_data"), "--data-in", tmp("zero64"), "--dump-maps", NULL);
	EXPECT(rc == 0 && strstr(out, "map counts (array, key 4, value 8 bytes, max 4):\n") &&
		       strstr(out, "  key 01000000  value 0300000000000000\n"),
	       "dump-maps: %s", out);
}

static void test_packets(void)
{
	static const char *const engines[] = {"interp", "jit", "aot"};
	unsigned char pkt[60], got[128];
	size_t n;
	int rc;

	ipv4_packet(pkt);
	write_file(tmp("ipv4"), pkt, sizeof(pkt));
	for (size_t i = 0; i < sizeof(engines) / sizeof(engines[0]); i++) {
		unlink(tmp("out"));
		rc = run(obj("xdp_rewrite"), "--data-in", tmp("ipv4"), "--data-out", tmp("out"),
			 "--engine", engines[i], NULL);
		EXPECT(rc == 0 && strstr(out, "Return value: 3,"), "%s: XDP_TX (%d): %s",
		       engines[i], rc, out);
		n = read_file(tmp("out"), got, sizeof(got));
		EXPECT(n == sizeof(pkt) && !memcmp(got, pkt + 6, 6) && !memcmp(got + 6, pkt, 6) &&
			       got[22] == 63,
		       "%s: data out rewritten (%zu bytes)", engines[i], n);
	}
	rc = run(obj("tail_call"), "--prog", "entry", "--data-in", tmp("ipv4"), "--dump-maps",
		 NULL);
	EXPECT(rc == 0 && strstr(out, "Return value: 3,") &&
		       strstr(out, ".bss (array, key 4, value 8 bytes, max 1):\n  key 00000000  "
				   "value 6f00000000000000\n") &&
		       strstr(out,
			      "map jump_table (prog_array, key 4, value 4 bytes, max 2):\n  key "
			      "01000000  value "),
	       "tail call, and a prog_array with an empty slot dumped (%d): %s", rc, out);
	rc = run(obj("skb"), "--prog", "socket_len", "--data-in", tmp("ipv4"), NULL);
	EXPECT(rc == 0 && strstr(out, "Return value: 46,"), "socket filter (%d): %s", rc, out);
	rc = run(obj("skb"), "--prog", "tc_len", "--data-in", tmp("ipv4"), "--dump-maps", NULL);
	EXPECT(rc == 0 && strstr(out, "Return value: 1060,") &&
		       strstr(out, "key 00080000  value 3c000000"),
	       "tc program (%d): %s", rc, out);
}

static void test_ctx(void)
{
	int64_t args[4] = {-7, 2, 0x80, 0x8000};
	int64_t back[4];
	int rc;

	write_file(tmp("args"), args, sizeof(args));
	rc = run(obj("isa_v4"), "--ctx-in", tmp("args"), "--ctx-out", tmp("ctx_out"), NULL);
	EXPECT(rc == 0 && strstr(out, "Return value: 4294967292,"), "raw context (%d): %s", rc,
	       out);
	EXPECT(read_file(tmp("ctx_out"), (unsigned char *)back, sizeof(back)) == sizeof(back) &&
		       !memcmp(back, args, sizeof(args)),
	       "context out");
}

static void test_bad_input(void)
{
	unsigned char head[200];
	size_t n = read_file(obj("global_data"), head, sizeof(head));
	int rc;

	write_file(tmp("truncated.o"), head, n);
	rc = run(tmp("truncated.o"), "--data-in", tmp("ipv4"), NULL);
	EXPECT(rc == 1 && strstr(out, "cannot open the object"), "truncated object (%d): %s", rc,
	       out);
	rc = run(obj("bad_map"), "--data-in", tmp("ipv4"), NULL);
	EXPECT(rc == 1 && strstr(out, "unknown map type 99"), "unknown map type (%d): %s", rc, out);
	rc = run(obj("bad_helper"), "--data-in", tmp("ipv4"), NULL);
	EXPECT(rc == 1 && strstr(out, "9999"), "unknown helper (%d): %s", rc, out);
	rc = run(obj("skb"), "--prog", "nosuch", "--data-in", tmp("ipv4"), NULL);
	EXPECT(rc == 1 && strstr(out, "no program 'nosuch'") && strstr(out, "tc_len"),
	       "missing program (%d): %s", rc, out);
	rc = run(obj("xdp_rewrite"), NULL);
	EXPECT(rc == 1 && strstr(out, "needs data_in"), "XDP without data (%d): %s", rc, out);
	rc = run(obj("xdp_rewrite"), "--mem", "00", NULL);
	EXPECT(rc == 2, "--mem with an object (%d): %s", rc, out);
	rc = run(obj("xdp_rewrite"), "--repeat", "0", NULL);
	EXPECT(rc == 2, "--repeat 0 (%d): %s", rc, out);
	rc = run(tmp("ipv4"), "--json", NULL);
	EXPECT(rc == 2 && strstr(out, "not an ELF object"), "--json on a non-object (%d): %s", rc,
	       out);
	rc = run(obj("xdp_rewrite"), "--data-in", tmp("no-such-file"), NULL);
	EXPECT(rc == 1 && strstr(out, "no-such-file"), "missing data file (%d): %s", rc, out);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: test_cli_run UEBPF PROGS_DIR\n");
		return 2;
	}
	uebpf = argv[1];
	progs = argv[2];
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_output();
	test_packets();
	test_ctx();
	test_bad_input();
	for (const char *const *f = (const char *const[]){"zero64", "ipv4", "out", "args",
							  "ctx_out", "truncated.o", NULL};
	     *f; f++)
		unlink(tmp(*f));
	rmdir(tmpdir);
	return check_summary();
}
