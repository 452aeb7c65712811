// SPDX-License-Identifier: MIT
/*
 * BPF_PROG_TEST_RUN: run a loaded program repeat times and report the
 * return value (its low 32 bits, as the kernel does), the mean duration in
 * ns, and what it left in the data and context.
 *
 * XDP programs get struct xdp_md and socket/tc programs struct __sk_buff,
 * over a copy of data_in placed below 4 GiB (see ctx.h); the packet out is
 * what lies between data and data_end after the run. Every other type runs
 * on a copy of ctx_in (or, without one, of data_in), which comes back in
 * ctx_out (data_out). As in the kernel, a short output buffer gets what
 * fits and -ENOSPC, and the full size is reported either way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "syscall/ctx.h"
#include "syscall/internal.h"
#include "uebpf/uebpf.h"

#define ETH_HLEN 14
#define PACKET_MAX 65535u
#define CTX_MAX (64u << 10)
#define SKB_CTX_SIZE 256 /* struct __sk_buff, rounded up: the packet's headroom starts here */

enum ctx_kind { CTX_RAW, CTX_XDP, CTX_SKB };

/* The memory a run gets: the buffer, and where the packet is in it. */
struct run_mem {
	enum ctx_kind kind;
	uint8_t *buf;
	size_t len;
	bool mapped; /* buf is an mmap below 4 GiB, else malloc */
	bool is_l2;  /* __sk_buff data starts at the Ethernet header */
};

static enum ctx_kind ctx_kind(uint32_t type)
{
	switch (type) {
	case BPF_PROG_TYPE_XDP:
		return CTX_XDP;
	case BPF_PROG_TYPE_SOCKET_FILTER:
	case BPF_PROG_TYPE_SCHED_CLS:
	case BPF_PROG_TYPE_SCHED_ACT:
	case BPF_PROG_TYPE_CGROUP_SKB:
	case BPF_PROG_TYPE_LWT_IN:
	case BPF_PROG_TYPE_LWT_OUT:
	case BPF_PROG_TYPE_LWT_XMIT:
		return CTX_SKB;
	default:
		return CTX_RAW;
	}
}

static int map_low(struct run_mem *rm, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *p;

	rm->len = (len + page - 1) / page * page;
	p = mmap(NULL, rm->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1,
		 0);
	if (p == MAP_FAILED) {
		sys_error("no memory below 4 GiB for the packet: %s", strerror(errno));
		return -ENOMEM;
	}
	rm->buf = p;
	rm->mapped = true;
	return 0;
}

static uint32_t addr32(const void *p)
{
	return (uint32_t)(uintptr_t)p;
}

static int check_packet_size(uint32_t size)
{
	if (size < ETH_HLEN || size > PACKET_MAX) {
		sys_error("packet of %u bytes: a test run needs %d to %u", size, ETH_HLEN,
			  PACKET_MAX);
		return -EINVAL;
	}
	return 0;
}

static int xdp_setup(struct run_mem *rm, const union bpf_attr *attr)
{
	const struct xdp_md *in = sys_ptr(attr->test.ctx_in);
	uint32_t size = attr->test.data_size_in, frame_end;
	struct sys_xdp_ctx *x;
	uint8_t *data;
	int ret;

	ret = check_packet_size(size);
	if (ret)
		return ret;
	if (attr->test.ctx_size_in && attr->test.ctx_size_in != sizeof(struct xdp_md)) {
		sys_error("ctx_in of an XDP program must be a struct xdp_md of %zu bytes",
			  sizeof(struct xdp_md));
		return -EINVAL;
	}
	if (in && (in->data || in->data_meta || (in->data_end && in->data_end != size) ||
		   in->egress_ifindex)) {
		sys_error("ctx_in: xdp_md data, data_meta and egress_ifindex must be 0, data_end "
			  "0 or the packet size");
		return -EINVAL;
	}
	/* the frame (ctx.h): a page, or the packet and a tailroom past one */
	if (SYS_TEST_HEADROOM + size + SYS_XDP_SHINFO <= SYS_XDP_FRAME_SZ)
		frame_end = SYS_XDP_FRAME_SZ - SYS_XDP_SHINFO;
	else
		frame_end = SYS_TEST_HEADROOM + size + SYS_TEST_TAILROOM;
	ret = map_low(rm, sizeof(*x) + frame_end);
	if (ret)
		return ret;
	x = (struct sys_xdp_ctx *)rm->buf;
	data = rm->buf + sizeof(*x) + SYS_TEST_HEADROOM;
	memcpy(data, sys_ptr(attr->test.data_in), size);
	if (in) {
		x->md.ingress_ifindex = in->ingress_ifindex;
		x->md.rx_queue_index = in->rx_queue_index;
	}
	x->md.data = addr32(data);
	x->md.data_meta = x->md.data;
	x->md.data_end = addr32(data + size);
	x->frame_start = addr32(rm->buf + sizeof(*x) + SYS_XDP_FRAME_HDR);
	x->frame_end = addr32(rm->buf + sizeof(*x) + frame_end);
	return 0;
}

/* The fields of __sk_buff a test run takes from ctx_in and gives back in ctx_out. */
static void skb_user_fields(struct __sk_buff *to, const struct __sk_buff *from)
{
	to->mark = from->mark;
	to->priority = from->priority;
	to->ingress_ifindex = from->ingress_ifindex;
	to->ifindex = from->ifindex;
	memcpy(to->cb, from->cb, sizeof(to->cb));
	to->tstamp = from->tstamp;
	to->wire_len = from->wire_len;
	to->gso_segs = from->gso_segs;
	to->gso_size = from->gso_size;
	to->hwtstamp = from->hwtstamp;
}

static int skb_setup(struct run_mem *rm, const union bpf_attr *attr, uint32_t type)
{
	uint32_t size = attr->test.data_size_in, csize = attr->test.ctx_size_in;
	struct __sk_buff in, allowed, *skb;
	uint8_t *pkt;
	int ret;

	ret = check_packet_size(size);
	if (ret)
		return ret;
	memset(&in, 0, sizeof(in));
	if (csize > sizeof(in) || (csize && !attr->test.ctx_in)) {
		sys_error("ctx_in of a socket or tc program is a struct __sk_buff of at most %zu "
			  "bytes",
			  sizeof(in));
		return -EINVAL;
	}
	if (csize)
		memcpy(&in, sys_ptr(attr->test.ctx_in), csize);
	memset(&allowed, 0, sizeof(allowed));
	skb_user_fields(&allowed, &in);
	if (memcmp(&allowed, &in, sizeof(in))) {
		sys_error("ctx_in: only mark, priority, ingress_ifindex, ifindex, cb, tstamp, "
			  "wire_len, gso_segs, gso_size and hwtstamp may be set");
		return -EINVAL;
	}
	ret = map_low(rm, SKB_CTX_SIZE + SYS_TEST_HEADROOM + size + SYS_TEST_TAILROOM);
	if (ret)
		return ret;
	skb = (struct __sk_buff *)rm->buf;
	pkt = rm->buf + SKB_CTX_SIZE + SYS_TEST_HEADROOM;
	memcpy(pkt, sys_ptr(attr->test.data_in), size);
	skb_user_fields(skb, &in);
	rm->is_l2 = type == BPF_PROG_TYPE_SCHED_CLS || type == BPF_PROG_TYPE_SCHED_ACT;
	if (!skb->ifindex)
		skb->ifindex = 1; /* the loopback device the kernel runs tests on */
	if (!skb->wire_len)
		skb->wire_len = size;
	/* __be16, as the packet holds it */
	skb->protocol = (uint32_t)pkt[12] | (uint32_t)pkt[13] << 8;
	skb->data = addr32(rm->is_l2 ? pkt : pkt + ETH_HLEN);
	skb->data_end = addr32(pkt + size);
	skb->data_meta = skb->data;
	skb->len = skb->data_end - skb->data;
	return 0;
}

static int raw_setup(struct run_mem *rm, const union bpf_attr *attr)
{
	bool ctx = attr->test.ctx_size_in || attr->test.ctx_in;
	uint32_t size = ctx ? attr->test.ctx_size_in : attr->test.data_size_in;
	const void *src = sys_ptr(ctx ? attr->test.ctx_in : attr->test.data_in);

	if (size > CTX_MAX) {
		sys_error("context of %u bytes, more than %u", size, CTX_MAX);
		return -EINVAL;
	}
	if (!size)
		return 0;
	if (!src)
		return -EFAULT;
	rm->buf = malloc(size);
	if (!rm->buf) {
		sys_error("out of memory");
		return -ENOMEM;
	}
	memcpy(rm->buf, src, size);
	rm->len = size;
	return 0;
}

static void run_mem_free(struct run_mem *rm)
{
	if (rm->mapped)
		munmap(rm->buf, rm->len);
	else
		free(rm->buf);
}

/* Copy out as the kernel does: what fits, -ENOSPC if not all, the full size reported. */
static int copy_out(uint64_t dst, uint32_t *size_out, const void *src, uint32_t len)
{
	uint32_t n = len;
	int ret = 0;

	if (*size_out && len > *size_out) {
		n = *size_out;
		ret = -ENOSPC;
	}
	if (dst && n)
		memcpy(sys_ptr(dst), src, n);
	*size_out = len;
	return ret;
}

/*
 * The packet between data and data_end as the program left them, which must
 * lie in the buffer past the context: the bounds come from the buffer, not
 * from the context, which the program can write.
 */
static int packet_out(const struct run_mem *rm, size_t ctx_size, uint32_t data, uint32_t data_end,
		      const uint8_t **pkt, uint32_t *len)
{
	uint32_t lo = addr32(rm->buf + ctx_size), hi = addr32(rm->buf + rm->len);

	if (data < lo || data_end > hi || data > data_end) {
		sys_error("the program left data/data_end outside the packet's buffer");
		return -EFAULT;
	}
	*pkt = rm->buf + (data - addr32(rm->buf));
	*len = data_end - data;
	return 0;
}

static int finish(const struct run_mem *rm, union bpf_attr *attr)
{
	const uint8_t *pkt = rm->buf;
	uint32_t len = (uint32_t)rm->len;
	int ret = 0, r;

	if (rm->kind == CTX_XDP) {
		const struct sys_xdp_ctx *x = (const struct sys_xdp_ctx *)rm->buf;
		struct xdp_md md;

		ret = packet_out(rm, sizeof(*x), x->md.data, x->md.data_end, &pkt, &len);
		memset(&md, 0, sizeof(md));
		md.data_end = len;
		md.ingress_ifindex = x->md.ingress_ifindex;
		md.rx_queue_index = x->md.rx_queue_index;
		if (!ret && attr->test.ctx_out)
			ret = copy_out(attr->test.ctx_out, &attr->test.ctx_size_out, &md,
				       sizeof(md));
	} else if (rm->kind == CTX_SKB) {
		const struct __sk_buff *skb = (const struct __sk_buff *)rm->buf;
		uint32_t data = skb->data;
		struct __sk_buff out;

		memset(&out, 0, sizeof(out));
		skb_user_fields(&out, skb);
		/*
		 * The Ethernet header goes back out for every type; a program that
		 * started past it gets it zeroed, as the kernel does.
		 */
		if (!rm->is_l2)
			data = data >= ETH_HLEN ? data - ETH_HLEN : 0;
		ret = packet_out(rm, SKB_CTX_SIZE, data, skb->data_end, &pkt, &len);
		if (!ret && !rm->is_l2 && len >= ETH_HLEN)
			memset((uint8_t *)pkt, 0, ETH_HLEN);
		if (!ret && attr->test.ctx_out)
			ret = copy_out(attr->test.ctx_out, &attr->test.ctx_size_out, &out,
				       sizeof(out));
	} else if (attr->test.ctx_size_in || attr->test.ctx_in) {
		return attr->test.ctx_out
			       ? copy_out(attr->test.ctx_out, &attr->test.ctx_size_out, pkt, len)
			       : 0;
	}
	if (ret && ret != -ENOSPC)
		return ret;
	r = copy_out(attr->test.data_out, &attr->test.data_size_out, pkt, len);
	return ret ? ret : r;
}

static int setup(struct run_mem *rm, const union bpf_attr *attr, uint32_t type)
{
	memset(rm, 0, sizeof(*rm));
	rm->kind = ctx_kind(type);
	if (rm->kind != CTX_RAW && !attr->test.data_in) {
		sys_error("a network program's test run needs data_in");
		return -EINVAL;
	}
	switch (rm->kind) {
	case CTX_XDP:
		return xdp_setup(rm, attr);
	case CTX_SKB:
		return skb_setup(rm, attr, type);
	default:
		return raw_setup(rm, attr);
	}
}

/*
 * The thread's CPU time: like the kernel's test run, which stops its timer
 * while the thread yields the CPU, the duration leaves out time spent
 * preempted.
 */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int run(const struct sys_prog *p, struct run_mem *rm, union bpf_attr *attr)
{
	uint32_t repeat = attr->test.repeat ? attr->test.repeat : 1;
	uint64_t r0 = 0, start, total;
	char err[256];
	int ret = 0;

	start = now_ns();
	for (uint32_t i = 0; i < repeat && !ret; i++)
		ret = uebpf_vm_run(p->vm, rm->buf, rm->len, &r0, err, sizeof(err));
	total = now_ns() - start;
	if (ret) {
		sys_error("program %s: %s", p->name, err);
		return ret;
	}
	attr->test.retval = (uint32_t)r0;
	attr->test.duration = (uint32_t)(total / repeat);
	return 0;
}

int sys_prog_test_run(union bpf_attr *attr)
{
	struct sys_obj *obj;
	struct run_mem rm;
	int ret;

	ret = sys_check_attr(attr, SYS_ATTR_END(test.batch_size), "BPF_PROG_TEST_RUN");
	if (ret)
		return ret;
	if (attr->test.flags & ~(uint32_t)BPF_F_TEST_RUN_ON_CPU || attr->test.batch_size) {
		sys_error("BPF_PROG_TEST_RUN: only the flag BPF_F_TEST_RUN_ON_CPU is supported");
		return -EINVAL;
	}
	if ((attr->test.data_size_in && !attr->test.data_in) ||
	    (attr->test.ctx_size_in && !attr->test.ctx_in))
		return -EFAULT;
	ret = sys_obj_get((int)attr->test.prog_fd, SYS_PROG, &obj);
	if (ret)
		return ret;
	ret = setup(&rm, attr, obj->prog.type);
	if (!ret) {
		ret = run(&obj->prog, &rm, attr);
		if (!ret)
			ret = finish(&rm, attr);
		run_mem_free(&rm);
	}
	sys_obj_put(obj);
	return ret;
}
