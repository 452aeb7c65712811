// SPDX-License-Identifier: MIT
/*
 * The helpers besides maps, each called by a program on the engine named
 * on the command line: clocks, identity, CPU, randomness, probe reads and
 * writes (bad addresses give -EFAULT and a zeroed destination), csum_diff,
 * strncmp, snprintf and trace_printk. Constant strings live in a read-only
 * one-entry array, as clang and libbpf put .rodata.
 */
#define _GNU_SOURCE
#include <linux/bpf.h>
#include <sched.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define PROLOGUE "mov %r6, %r1\n"
#define EPILOGUE "mov %r0, 0\nexit\n"

static uint64_t now(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The env with .rodata (fd 0) holding str at offset 0 and str2 at 128. */
static void rodata(struct maps_env *env, const char *str, const char *str2)
{
	char value[256] = "";
	uint32_t key = 0;

	env->fds[0] = make_map(BPF_MAP_TYPE_ARRAY, 4, sizeof(value), 1, BPF_F_RDONLY_PROG);
	snprintf(value, 128, "%s", str);
	snprintf(value + 128, 128, "%s", str2 ? str2 : "");
	map_update_user(env->fds[0], &key, value, 0);
}

static void test_time_and_identity(void)
{
	struct maps_env env = {0};
	uint64_t res[12] = {0}, r0, before, boot_before, after, boot_after;
	unsigned cpu, node;
	const char *prog = PROLOGUE "call 5\nstxdw [%r6], %r0\n"
				    "call 5\nstxdw [%r6+8], %r0\n"
				    "call 125\nstxdw [%r6+16], %r0\n"
				    "call 160\nstxdw [%r6+24], %r0\n"
				    "call 14\nstxdw [%r6+32], %r0\n"
				    "call 15\nstxdw [%r6+40], %r0\n"
				    "call 8\nstxdw [%r6+48], %r0\n"
				    "call 42\nstxdw [%r6+56], %r0\n"
				    "call 7\nstxdw [%r6+64], %r0\n"
				    "call 7\nstxdw [%r6+72], %r0\n"
				    "call 173\nstxdw [%r6+80], %r0\n"
				    /* comm into the results, 16 and 4 bytes */
				    "mov %r1, %r6\nadd %r1, 88\nmov %r2, 4\ncall 16\n"
				    "stxdw [%r6+80], %r0\n" EPILOGUE;
	char comm[8];

	before = now(CLOCK_MONOTONIC);
	boot_before = now(CLOCK_BOOTTIME);
	memset(res, 0xaa, sizeof(res));
	EXPECT(run_text(&env, prog, res, sizeof(res), &r0) == 0, "program runs");
	after = now(CLOCK_MONOTONIC);
	boot_after = now(CLOCK_BOOTTIME);
	EXPECT(before <= res[0] && res[0] <= res[1] && res[1] <= after,
	       "ktime_get_ns in order: %llu %llu %llu %llu", (unsigned long long)before,
	       (unsigned long long)res[0], (unsigned long long)res[1], (unsigned long long)after);
	EXPECT(boot_before <= res[2] && res[2] <= boot_after, "ktime_get_boot_ns");
	EXPECT(res[3] <= after && res[3] + 100000000 >= before, "ktime_get_coarse_ns %llu",
	       (unsigned long long)res[3]);
	EXPECT(res[4] == ((uint64_t)getpid() << 32 | (uint32_t)gettid()), "pid_tgid 0x%llx",
	       (unsigned long long)res[4]);
	EXPECT(res[5] == ((uint64_t)getgid() << 32 | getuid()), "uid_gid 0x%llx",
	       (unsigned long long)res[5]);
	EXPECT(res[6] < (uint64_t)sysconf(_SC_NPROCESSORS_CONF), "cpu %llu",
	       (unsigned long long)res[6]);
	EXPECT(getcpu(&cpu, &node) == 0 && res[7] == node, "numa node %llu",
	       (unsigned long long)res[7]);
	EXPECT(res[8] >> 32 == 0 && res[9] >> 32 == 0 && res[8] != res[9], "prandom %llx %llx",
	       (unsigned long long)res[8], (unsigned long long)res[9]);
	EXPECT(res[10] == 0, "get_current_comm returns 0: %lld", (long long)res[10]);
	memcpy(comm, &res[11], sizeof(comm));
	EXPECT(!memcmp(comm, "hel\0\xaa", 5), "comm truncated to 4 bytes: %.8s", comm);
}

static void test_comm(void)
{
	struct maps_env env = {0};
	uint64_t res[3] = {0}, r0;
	const char *prog = PROLOGUE "mov %r1, %r6\nmov %r2, 24\ncall 16\nexit\n";

	memset(res, 0xaa, sizeof(res));
	EXPECT(run_text(&env, prog, res, sizeof(res), &r0) == 0 && r0 == 0, "comm program");
	EXPECT(!memcmp(res, "helpertest\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 24),
	       "comm zero-padded: %.16s", (char *)res);
}

static const char host_string[] = "hello";
static uint64_t host_value = 0x1122334455667788ull;

static void test_probe(void)
{
	struct maps_env env = {0};
	uint64_t mem[12], r0;
	const char *prog = PROLOGUE
		/* probe_read of a host value into mem[4] */
		"mov %r1, %r6\nadd %r1, 32\nmov %r2, 8\nldxdw %r3, [%r6]\ncall 4\n"
		"stxdw [%r6+40], %r0\n"
		/* probe_read_user of address 8: -EFAULT, mem[6] zeroed */
		"stdw [%r6+48], -1\n"
		"mov %r1, %r6\nadd %r1, 48\nmov %r2, 8\nmov %r3, 8\ncall 112\n"
		"stxdw [%r6+56], %r0\n"
		/* probe_read_user_str of host_string into 16 bytes at mem[8], then into 3 */
		"mov %r1, %r6\nadd %r1, 64\nmov %r2, 16\nldxdw %r3, [%r6+8]\ncall 114\n"
		"mov %r7, %r0\n"
		"mov %r1, %r6\nadd %r1, 80\nmov %r2, 3\nldxdw %r3, [%r6+8]\ncall 114\n"
		"lsh %r0, 32\nor %r0, %r7\n"
		"stxdw [%r6+16], %r0\n"
		/* probe_read_kernel: -EFAULT; probe_write_user to host_value, then to address 8 */
		"mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nldxdw %r3, [%r6]\ncall 113\n"
		"mov %r7, %r0\nlsh %r7, 32\nrsh %r7, 32\n"
		"stdw [%r10-8], 99\n"
		"ldxdw %r1, [%r6]\nmov %r2, %r10\nadd %r2, -8\nmov %r3, 8\ncall 36\n"
		"lsh %r0, 32\nor %r0, %r7\n"
		"stxdw [%r6+24], %r0\n"
		"mov %r1, 8\nmov %r2, %r10\nadd %r2, -8\nmov %r3, 8\ncall 36\n"
		"stxdw [%r6+88], %r0\n"
		/* a destination outside the program's memory: -EFAULT, nothing written */
		"ldxdw %r1, [%r6+8]\nmov %r2, 4\nldxdw %r3, [%r6]\ncall 112\n"
		"stxdw [%r6+8], %r0\n" EPILOGUE;
	char str[16];

	memset(mem, 0, sizeof(mem));
	mem[0] = (uintptr_t)&host_value;
	mem[1] = (uintptr_t)host_string;
	EXPECT(run_text(&env, prog, mem, sizeof(mem), &r0) == 0, "probe program");
	EXPECT(mem[5] == 0 && mem[4] == 0x1122334455667788ull, "probe_read: %lld 0x%llx",
	       (long long)mem[5], (unsigned long long)mem[4]);
	EXPECT((int64_t)mem[7] == -EFAULT && mem[6] == 0, "bad read: %lld, dst 0x%llx",
	       (long long)mem[7], (unsigned long long)mem[6]);
	memcpy(str, &mem[8], 16);
	EXPECT((uint32_t)mem[2] == 6 && !strcmp(str, "hello"), "read_user_str: %u \"%s\"",
	       (uint32_t)mem[2], str);
	memcpy(str, &mem[10], 3);
	EXPECT(mem[2] >> 32 == 3 && !strcmp(str, "he"), "read_user_str into 3: %llu \"%s\"",
	       (unsigned long long)(mem[2] >> 32), str);
	EXPECT((int32_t)mem[3] == -EFAULT, "probe_read_kernel: %d", (int32_t)mem[3]);
	EXPECT(mem[3] >> 32 == 0 && host_value == 99, "probe_write_user: %d, value %llu",
	       (int32_t)(mem[3] >> 32), (unsigned long long)host_value);
	EXPECT((int64_t)mem[11] == -EFAULT, "write_user to address 8: %lld", (long long)mem[11]);
	EXPECT((int64_t)mem[1] == -EFAULT && !strcmp(host_string, "hello"),
	       "read into host memory refused: %lld", (long long)mem[1]);
}

static void test_csum_strncmp(void)
{
	struct maps_env env = {0};
	uint64_t mem[10], r0;
	const char *prog = PROLOGUE
		/* csum_diff(NULL, 0, &mem[0], 4, 7) */
		"mov %r1, 0\nmov %r2, 0\nmov %r3, %r6\nmov %r4, 4\nmov %r5, 7\ncall 28\n"
		"stxdw [%r6+16], %r0\n"
		/* csum_diff(&mem[0], 4, &mem[0], 4, 0): a word and its complement */
		"mov %r1, %r6\nmov %r2, 4\nmov %r3, %r6\nmov %r4, 4\nmov %r5, 0\ncall 28\n"
		"stxdw [%r6+24], %r0\n"
		/* csum_diff(&mem[1], 8, NULL, 0, 0x10): carries folded */
		"mov %r1, %r6\nadd %r1, 8\nmov %r2, 8\nmov %r3, 0\nmov %r4, 0\nmov %r5, 16\n"
		"call 28\n"
		"stxdw [%r6+32], %r0\n"
		/* sizes: not a multiple of 4, too large together */
		"mov %r1, %r6\nmov %r2, 3\nmov %r3, 0\nmov %r4, 0\nmov %r5, 0\ncall 28\n"
		"stxdw [%r6+40], %r0\n"
		"mov %r1, %r6\nmov %r2, 256\nmov %r3, %r6\nmov %r4, 260\nmov %r5, 0\ncall 28\n"
		"stxdw [%r6+48], %r0\n"
		/* strncmp(mem+56 "abd", n, .rodata "abc") for n = 3, 2 */
		"mov %r1, %r6\nadd %r1, 56\nmov %r2, 3\nlddw %r3, map_value:0+0\ncall 182\n"
		"stxdw [%r6+64], %r0\n"
		"mov %r1, %r6\nadd %r1, 56\nmov %r2, 2\nlddw %r3, map_value:0+0\ncall 182\n"
		"stxdw [%r6+72], %r0\n"
		/* "abd" against "ab" at .rodata+128: 1 */
		"mov %r1, %r6\nadd %r1, 56\nmov %r2, 8\nlddw %r3, map_value:0+128\ncall 182\n"
		"stxdw [%r6+0], %r0\n" EPILOGUE;

	rodata(&env, "abc", "ab");
	memset(mem, 0, sizeof(mem));
	mem[0] = 0x01020304;
	mem[1] = 0xffffffff00000001ull;
	memcpy(&mem[7], "abd", 4);
	EXPECT(run_text(&env, prog, mem, sizeof(mem), &r0) == 0, "csum/strncmp program");
	/* 0x01020304 + 7 folded: 0x0102 + 0x030b */
	EXPECT(mem[2] == 0x040d, "csum of one word: 0x%llx", (unsigned long long)mem[2]);
	EXPECT(mem[3] == 0xffff, "word and its complement: 0x%llx", (unsigned long long)mem[3]);
	/* ~1 + ~0xffffffff + 0x10 = 0x10000000e: 0x1 + 0x0000 + 0x000e */
	EXPECT(mem[4] == 0xf, "carries folded: 0x%llx", (unsigned long long)mem[4]);
	EXPECT((int64_t)mem[5] == -EINVAL && (int64_t)mem[6] == -EINVAL, "bad sizes: %lld %lld",
	       (long long)mem[5], (long long)mem[6]);
	EXPECT((int64_t)mem[8] == 1 && mem[9] == 0, "strncmp abd/abc: %lld, 2 bytes: %lld",
	       (long long)mem[8], (long long)mem[9]);
	EXPECT(mem[0] == 1, "strncmp abd/ab: %lld", (long long)mem[0]);
	close_env(&env);
}

/* snprintf(out, size, .rodata fmt, args) with args from mem; returns r0, output in out. */
static int64_t snprintf_prog(const char *fmt, const uint64_t *args, unsigned nargs, char *out,
			     size_t size)
{
	struct maps_env env = {0};
	uint64_t mem[32] = {0}, r0 = 0;
	char text[512];

	snprintf(text, sizeof(text),
		 "mov %%r6, %%r1\nmov %%r1, %%r6\nmov %%r2, %zu\nlddw %%r3, map_value:0+0\n"
		 "mov %%r4, %%r6\nadd %%r4, 128\nmov %%r5, %u\ncall 165\nexit\n",
		 size, nargs * 8);
	rodata(&env, fmt, NULL);
	memcpy(&mem[16], args, nargs * 8);
	memset(mem, 'Z', 128);
	if (run_text(&env, text, mem, sizeof(mem), &r0))
		r0 = (uint64_t)-999;
	memcpy(out, mem, size);
	close_env(&env);
	return (int64_t)r0;
}

static void test_snprintf(void)
{
	const uint64_t a[] = {
		(uint64_t)-5, 0x1ffffffffull,	 255, 255, (uint64_t)-1, 42, 42, 42, 7,
		'q',	      (uintptr_t) "str", 0,   0};
	const uint8_t ip4[4] = {192, 168, 0, 1};
	const uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	const uint64_t b[] = {(uintptr_t)ip4, (uintptr_t)ip4, (uintptr_t)ip6, 8, 0x1234, 9};
	const char *want = "-5|4294967295|ff|FF|-1|   42|42   |00042|+7|q|str|%";
	char out[128];
	int64_t r;

	r = snprintf_prog("%d|%u|%x|%X|%lld|%5d|%-5d|%05d|%+d|%c|%s|%%", a, 11, out, 100);
	EXPECT(r == (int64_t)strlen(want) + 1 && !strcmp(out, want), "integers: %lld \"%s\"",
	       (long long)r, out);
	r = snprintf_prog("%pI4 %pi4 %pI6 [%s] %px %lu", b, 6, out, 128);
	EXPECT(r > 0 && !strcmp(out, "192.168.0.1 192.168.000.001 "
				     "2001:0db8:0000:0000:0000:0000:0000:0001 [] "
				     "0000000000001234 9"),
	       "pointers: %lld \"%s\"", (long long)r, out);
	r = snprintf_prog("%d and %d", a, 2, out, 6);
	EXPECT(r == 10 && !strcmp(out, "-5 an"), "truncated: %lld \"%s\"", (long long)r, out);
	EXPECT(snprintf_prog("%d %d", a, 1, out, 16) == -EINVAL, "more conversions than args");
	EXPECT(snprintf_prog("%q", a, 1, out, 16) == -EINVAL, "unknown conversion");
	EXPECT(snprintf_prog("%hd", a, 1, out, 16) == -EINVAL, "h modifier");
	EXPECT(snprintf_prog("%pZ", a, 1, out, 16) == -EINVAL, "unknown pointer form");
	EXPECT(snprintf_prog("%d", a, 13, out, 16) == -EINVAL, "13 arguments");
}

static void test_trace_printk(const char *path)
{
	struct maps_env env = {0};
	uint64_t mem[1], r0 = 0;
	char buf[4096] = "", want[64];
	const char *prog = "lddw %r1, map_value:0+0\nmov %r2, 20\nmov %r3, -3\nmov %r4, 77\n"
			   "lddw %r5, map_value:0+128\ncall 6\nexit\n";
	const char *bad = "lddw %r1, map_value:0+0\nmov %r2, 6\ncall 6\nexit\n";
	int status;
	pid_t child;
	FILE *f;
	size_t n;

	rodata(&env, "v=%d u=%u s=%s\n", "text");
	EXPECT(run_text(&env, prog, mem, sizeof(mem), &r0) == 0 && r0 == 17,
	       "trace_printk returns the message length: %lld", (long long)r0);
	EXPECT(run_text(&env, bad, mem, sizeof(mem), &r0) == 0 && (int64_t)r0 == -EINVAL,
	       "a format without its NUL in fmt_size: %lld", (long long)r0);
	/* the prefix's cached name and thread id follow a rename and a fork */
	prctl(PR_SET_NAME, "renamed");
	usleep(20000);
	EXPECT(run_text(&env, prog, mem, sizeof(mem), &r0) == 0 && r0 == 17, "after a rename");
	child = fork();
	if (!child)
		_exit(run_text(&env, prog, mem, sizeof(mem), &r0) || r0 != 17);
	EXPECT(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
		       !WEXITSTATUS(status),
	       "trace_printk in a forked child");
	prctl(PR_SET_NAME, "helpertest");
	f = fopen(path, "r");
	n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
	EXPECT(strstr(buf, "helpertest-") && strstr(buf, ": bpf_trace_printk: v=-3 u=77 s=text\n"),
	       "trace file: \"%s\"", buf);
	snprintf(want, sizeof(want), "renamed-%d ", (int)gettid());
	EXPECT(strstr(buf, want), "the new name and the thread's id (%s): \"%s\"", want, buf);
	snprintf(want, sizeof(want), "renamed-%d ", (int)child);
	EXPECT(strstr(buf, want), "the child's own id (%s): \"%s\"", want, buf);
	unlink(path);
	close_env(&env);
}

int main(int argc, char **argv)
{
	char path[] = "/tmp/uebpf-trace-XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		return 1;
	close(fd);
	setenv("UEBPF_TRACE_PIPE", path, 1);
	prctl(PR_SET_NAME, "helpertest");
	parse_engine(argc, argv);
	test_time_and_identity();
	test_comm();
	test_probe();
	test_csum_strncmp();
	test_snprintf();
	test_trace_printk(path);
	return check_summary();
}
