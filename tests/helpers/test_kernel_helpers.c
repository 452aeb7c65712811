// SPDX-License-Identifier: MIT
/*
 * Helpers against the kernel's: the same instructions run in the kernel
 * (BPF_PROG_TEST_RUN, on kernel maps) and in uebpf (on uebpf maps) must
 * give the same results.
 * - csum_diff over random words, sizes and seeds (a sched_cls program: the
 *   helper is not offered to socket filters);
 * - random sequences of map_update_elem (with random flags), lookup and
 *   delete on a small HASH and an ARRAY, each result recorded by the
 *   program in a results array; the results and the final contents must
 *   agree.
 * Without BPF in the kernel: SKIP, exit 77.
 */
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <unistd.h>

#include "harness.h"
#include "kernel_run.h"

#define OPS 48
#define KEYS 6

static int kernel_load(enum bpf_prog_type type, const struct isa_insn *insns, size_t n,
		       const int *kfds)
{
	struct isa_insn *copy = malloc(n * sizeof(*copy));
	static char log[65536];
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log, .log_size = sizeof(log));
	int fd;

	memcpy(copy, insns, n * sizeof(*copy));
	for (size_t pc = 0; pc + 1 < n; pc++)
		if (copy[pc].opcode == ISA_OP_LDDW && copy[pc++].src == ISA_PSEUDO_MAP_FD)
			copy[pc - 1].imm = kfds[copy[pc - 1].imm];
	log[0] = '\0';
	fd = bpf_prog_load(type, NULL, "MIT", (const struct bpf_insn *)copy, n, &opts);
	if (fd < 0)
		printf("kernel load: %d\n%s\n", fd, log);
	free(copy);
	return fd;
}

static int kernel_run(int fd, uint64_t *r0)
{
	uint8_t packet[64] = {0};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = sizeof(packet),
		    .repeat = 1);
	int ret = bpf_prog_test_run_opts(fd, &opts);

	*r0 = opts.retval;
	return ret;
}

/* Runs text in both; r0s (low 32 bits) compared by the caller. */
static int run_both(enum bpf_prog_type type, struct maps_env *env, const int *kfds,
		    const char *text, uint64_t *kr0, uint64_t *ur0)
{
	struct isa_insn *insns;
	uint8_t packet[64] = {0};
	char err[256];
	size_t n;
	int fd, ret;

	if (assemble(text, &insns, &n, err, sizeof(err))) {
		printf("assemble: %s\n", err);
		return -1;
	}
	fd = kernel_load(type, insns, n, kfds);
	free(insns);
	if (fd < 0)
		return -1;
	ret = kernel_run(fd, kr0);
	close(fd);
	if (ret)
		return -1;
	return run_text(env, text, packet, sizeof(packet), ur0);
}

static uint32_t rnd(void)
{
	static uint64_t s = 0x9e3779b97f4a7c15ull;

	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return (uint32_t)s;
}

static void test_csum_diff(void)
{
	struct maps_env env = {0};
	int kfds[1] = {0};

	/* the AOT engine compiles each program with cc: fewer rounds */
	int rounds = engine == UEBPF_ENGINE_AOT ? 20 : 200;

	for (int round = 0; round < rounds; round++) {
		unsigned from = rnd() % 9, to = rnd() % 9;
		char text[4096];
		size_t o = 0;
		uint64_t kr0 = 0, ur0 = 0;

		/* words at r10-64.. : from first, then to */
		for (unsigned i = 0; i < 16; i++)
			o += (size_t)snprintf(text + o, sizeof(text) - o, "stw [%%r10%+d], 0x%x\n",
					      -64 + 4 * (int)i, rnd());
		o += (size_t)snprintf(text + o, sizeof(text) - o,
				      "mov %%r1, %%r10\nadd %%r1, -64\nmov %%r2, %u\n"
				      "mov %%r3, %%r10\nadd %%r3, %d\nmov %%r4, %u\n"
				      "mov %%r5, 0x%x\ncall 28\nexit\n",
				      from * 4, -64 + 32, to * 4, rnd());
		if (run_both(BPF_PROG_TYPE_SCHED_CLS, &env, kfds, text, &kr0, &ur0)) {
			failed++;
			printf("FAIL csum_diff round %d: a run failed\n", round);
			return;
		}
		EXPECT((uint32_t)kr0 == (uint32_t)ur0,
		       "csum_diff round %d: kernel 0x%x, uebpf 0x%x", round, (uint32_t)kr0,
		       (uint32_t)ur0);
	}
}

/* One op of the sequence on map 0, its result stored at results[i]. */
static size_t emit_op(char *text, size_t size, unsigned i, bool array)
{
	unsigned key = rnd() % (array ? KEYS + 1 : KEYS), kind = rnd() % 3;
	const char *kv = "mov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -16\n";

	switch (kind) {
	case 0:
		return (size_t)snprintf(text, size,
					"stw [%%r10-4], %u\nstdw [%%r10-16], %u\n"
					"lddw %%r1, map_fd:0\n%smov %%r4, %u\ncall 2\n"
					"stxdw [%%r9+%u], %%r0\n",
					key, rnd() % 1000, kv, rnd() % 4, i * 8);
	case 1:
		return (size_t)snprintf(text, size,
					"stw [%%r10-4], %u\nlddw %%r1, map_fd:0\n%scall 1\n"
					"mov %%r1, -1\njeq %%r0, 0, +1\nldxdw %%r1, [%%r0]\n"
					"stxdw [%%r9+%u], %%r1\n",
					key, kv, i * 8);
	default:
		return (size_t)snprintf(text, size,
					"stw [%%r10-4], %u\nlddw %%r1, map_fd:0\n%scall 3\n"
					"stxdw [%%r9+%u], %%r0\n",
					key, kv, i * 8);
	}
}

static void map_sequence(uint32_t type)
{
	bool array = type == BPF_MAP_TYPE_ARRAY;
	struct map_attr rattr = {BPF_MAP_TYPE_ARRAY, 4, OPS * 8, 1, 0, 0, ""};
	struct maps_env env = {0};
	int kfds[2];
	char *text = malloc(64 * 1024);
	size_t o = 0, size = 64 * 1024;
	uint64_t kres[OPS], ures[OPS], kr0, ur0, kv, uv;
	uint32_t key = 0;
	char err[128];

	kfds[0] = bpf_map_create(type, NULL, 4, 8, KEYS - 1, NULL);
	kfds[1] = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, OPS * 8, 1, NULL);
	env.fds[0] = make_map(type, 4, 8, KEYS - 1, 0);
	map_create(&rattr, &env.fds[1], err, sizeof(err));
	o += (size_t)snprintf(text + o, size - o,
			      "stw [%%r10-4], 0\nlddw %%r1, map_fd:1\nmov %%r2, %%r10\n"
			      "add %%r2, -4\ncall 1\njne %%r0, 0, +2\nmov %%r0, 1\nexit\n"
			      "mov %%r9, %%r0\n");
	for (unsigned i = 0; i < OPS; i++)
		o += emit_op(text + o, size - o, i, array);
	snprintf(text + o, size - o, "mov %%r0, 0\nexit\n");
	if (run_both(BPF_PROG_TYPE_SOCKET_FILTER, &env, kfds, text, &kr0, &ur0)) {
		failed++;
		printf("FAIL map sequence type %u: a run failed\n", type);
		goto out;
	}
	EXPECT(kr0 == 0 && ur0 == 0, "sequence ran to the end: %llu %llu", (unsigned long long)kr0,
	       (unsigned long long)ur0);
	bpf_map_lookup_elem(kfds[1], &key, kres);
	map_lookup_user(env.fds[1], &key, ures);
	for (unsigned i = 0; i < OPS; i++)
		EXPECT(kres[i] == ures[i], "type %u op %u: kernel %lld, uebpf %lld", type, i,
		       (long long)kres[i], (long long)ures[i]);
	for (key = 0; key <= KEYS; key++) {
		int kret = bpf_map_lookup_elem(kfds[0], &key, &kv), uret;

		kret = kret ? -errno : 0;
		uret = map_lookup_user(env.fds[0], &key, &uv);
		EXPECT(kret == uret && (kret || kv == uv),
		       "type %u key %u: kernel %d/%llu, uebpf %d/%llu", type, key, kret,
		       (unsigned long long)kv, uret, (unsigned long long)uv);
	}
out:
	close(kfds[0]);
	close(kfds[1]);
	close_env(&env);
	free(text);
}

int main(int argc, char **argv)
{
	char why[256];

	parse_engine(argc, argv);
	if (!kernel_bpf_available(why, sizeof(why))) {
		printf("SKIP: %s\n", why);
		return 77;
	}
	test_csum_diff();
	for (unsigned i = 0; i < (engine == UEBPF_ENGINE_AOT ? 4u : 20u); i++) {
		map_sequence(BPF_MAP_TYPE_HASH);
		map_sequence(BPF_MAP_TYPE_ARRAY);
	}
	return check_summary();
}
