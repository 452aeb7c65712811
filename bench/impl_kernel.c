// SPDX-License-Identifier: MIT
/*
 * The kernel as an engine of the benchmark: the program is loaded as
 * SCHED_CLS (XDP test runs carry a fixed cost of milliseconds per call here)
 * and a slice is one BPF_PROG_TEST_RUN with a repeat count, timed by the
 * kernel itself: its duration is the wall time per run, with the time the
 * task was rescheduled left out.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/if_ether.h>

#include "bench.h"
#include "common/errbuf.h"

/* Verifier log lines quoted when a load fails: the reason is at the end. */
#define LOG_TAIL_LINES 6

struct kernel {
	int fd;
	const uint8_t *pkt;
	size_t len;
};

/* test_run wants an Ethernet header's worth of packet even for a program that reads none. */
static const uint8_t min_packet[ETH_HLEN];

/* The last lines of the verifier's log, where it says why it rejected a program. */
static const char *log_tail(char *log)
{
	size_t len = strlen(log);
	unsigned lines = 0;
	char *p;

	while (len && log[len - 1] == '\n')
		log[--len] = '\0';
	for (p = log + len; p > log; p--) {
		if (p[-1] == '\n' && ++lines == LOG_TAIL_LINES)
			break;
	}
	return p;
}

/*
 * Load quietly first: with a log, a rejection can surface as the log's own
 * ENOSPC. Only a rejected program is loaded again, for the verifier's words.
 */
static int kernel_load(enum bench_prog prog, char *err, size_t err_len)
{
	static char log[1 << 16];
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log, .log_size = sizeof(log),
		    .log_level = 1);
	const struct bpf_insn *code;
	struct isa_insn *insns;
	size_t n;
	int fd, again;

	fd = bench_prog_build(prog, BENCH_TARGET_KERNEL, &insns, &n, err, err_len);
	if (fd)
		return fd;
	/* struct isa_insn and struct bpf_insn are the same 8-byte encoding */
	code = (const struct bpf_insn *)insns;
	fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "uebpf_bench", "Dual MIT/GPL", code, n, NULL);
	if (fd == -EPERM) {
		errbuf_set(err, err_len,
			   "BPF_PROG_LOAD not permitted (root, or CAP_BPF and "
			   "CAP_NET_ADMIN, needed)");
	} else if (fd < 0) {
		log[0] = '\0';
		again = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "uebpf_bench", "Dual MIT/GPL", code,
				      n, &opts);
		if (again >= 0)
			close(again);
		errbuf_set(err, err_len, "BPF_PROG_LOAD failed: %s; the verifier's last words:\n%s",
			   strerror(-fd), log_tail(log));
	}
	free(insns);
	return fd;
}

static int kernel_run(struct bench_impl *impl, uint64_t n, double *ns, uint64_t *r0)
{
	struct kernel *k = impl->priv;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = k->pkt, .data_size_in = k->len);
	int ret;

	if (n > INT_MAX)
		return -ERANGE;
	opts.repeat = (int)n;
	ret = bpf_prog_test_run_opts(k->fd, &opts);
	if (ret)
		return ret;
	*ns = opts.duration;
	*r0 = opts.retval;
	return 0;
}

static void kernel_close(struct bench_impl *impl)
{
	struct kernel *k = impl->priv;

	close(k->fd);
	free(k);
}

struct bench_impl *bench_kernel_open(const struct bench_case *c, char *err, size_t err_len)
{
	struct bench_impl *impl = bench_impl_new("kernel", c);
	struct kernel *k = malloc(sizeof(*k));

	if (!impl || !k) {
		errbuf_set(err, err_len, "out of memory");
		goto fail;
	}
	k->fd = kernel_load(c->prog, err, err_len);
	if (k->fd < 0)
		goto fail;
	k->pkt = c->len < sizeof(min_packet) ? min_packet : c->data;
	k->len = c->len < sizeof(min_packet) ? sizeof(min_packet) : c->len;
	impl->priv = k;
	impl->run = kernel_run;
	impl->close = kernel_close;
	return impl;
fail:
	free(impl);
	free(k);
	return NULL;
}
