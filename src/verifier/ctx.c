// SPDX-License-Identifier: MIT
/*
 * The context structure of each program type: which offsets a program may
 * read or write, with which sizes, and what a read gives (a scalar, or a
 * packet pointer for data, data_end and data_meta). The tables hold the
 * kernel's rules for the fields uebpf models, a subset of what the kernel
 * allows: a field missing here is refused, never guessed. A tracepoint's
 * record is checked, as the kernel does at load, against the largest one
 * (8192 bytes): its real length is known at attach only.
 */
#include <errno.h>

#include "state.h"

enum {
	CF_READ = 1u << 0,
	CF_WRITE = 1u << 1,
	CF_NARROW = 1u << 2,   /* reads of 1 or 2 bytes at aligned offsets inside */
	CF_TC_WRITE = 1u << 3, /* written by tc programs only */
	CF_TC_ONLY = 1u << 4,  /* no field at all for socket filters */
};

struct ctx_field {
	uint16_t off;
	uint8_t size;
	uint8_t flags;
	uint8_t type; /* what a read of the whole field gives */
};

#define SKB_RD (CF_READ | CF_NARROW)

/* struct __sk_buff, for socket filters and tc */
static const struct ctx_field skb_fields[] = {
	{0, 4, SKB_RD, V_SCALAR},			      /* len */
	{4, 4, SKB_RD, V_SCALAR},			      /* pkt_type */
	{8, 4, SKB_RD | CF_TC_WRITE, V_SCALAR},		      /* mark */
	{12, 4, SKB_RD, V_SCALAR},			      /* queue_mapping */
	{16, 4, SKB_RD, V_SCALAR},			      /* protocol */
	{20, 4, SKB_RD, V_SCALAR},			      /* vlan_present */
	{24, 4, SKB_RD, V_SCALAR},			      /* vlan_tci */
	{28, 4, SKB_RD, V_SCALAR},			      /* vlan_proto */
	{32, 4, SKB_RD | CF_TC_WRITE, V_SCALAR},	      /* priority */
	{36, 4, SKB_RD, V_SCALAR},			      /* ingress_ifindex */
	{40, 4, SKB_RD, V_SCALAR},			      /* ifindex */
	{44, 4, SKB_RD | CF_TC_WRITE, V_SCALAR},	      /* tc_index */
	{48, 4, SKB_RD | CF_WRITE, V_SCALAR},		      /* cb[0] */
	{52, 4, SKB_RD | CF_WRITE, V_SCALAR},		      /* cb[1] */
	{56, 4, SKB_RD | CF_WRITE, V_SCALAR},		      /* cb[2] */
	{60, 4, SKB_RD | CF_WRITE, V_SCALAR},		      /* cb[3] */
	{64, 4, SKB_RD | CF_WRITE, V_SCALAR},		      /* cb[4] */
	{68, 4, SKB_RD, V_SCALAR},			      /* hash */
	{72, 4, SKB_RD | CF_TC_WRITE | CF_TC_ONLY, V_SCALAR}, /* tc_classid */
	{76, 4, CF_READ | CF_TC_ONLY, V_PKT},		      /* data */
	{80, 4, CF_READ | CF_TC_ONLY, V_PKT_END},	      /* data_end */
	{140, 4, CF_READ | CF_TC_ONLY, V_PKT_META},	      /* data_meta */
};

static const struct ctx_field xdp_fields[] = {
	{0, 4, CF_READ, V_PKT},	     /* data */
	{4, 4, CF_READ, V_PKT_END},  /* data_end */
	{8, 4, CF_READ, V_PKT_META}, /* data_meta */
	{12, 4, CF_READ, V_SCALAR},  /* ingress_ifindex */
	{16, 4, CF_READ, V_SCALAR},  /* rx_queue_index */
	{20, 4, CF_READ, V_SCALAR},  /* egress_ifindex */
};

#define PT_REGS_SIZE 168 /* struct pt_regs of x86-64 */
#define RAW_TP_ARGS 12	 /* u64 arguments of a raw tracepoint */
#define TP_RECORD 8192	 /* PERF_MAX_TRACE_SIZE: the largest tracepoint record */
#define TP_COMMON 8	 /* a tracepoint record's common fields, which programs cannot read */

static int field_access(struct venv *env, size_t pc, const struct ctx_field *f, size_t nf, int off,
			unsigned size, bool write, struct vreg *loaded)
{
	bool tc = env->opts.type == UEBPF_PROG_SCHED_CLS;
	unsigned writable = CF_WRITE | (tc ? CF_TC_WRITE : 0);

	for (size_t i = 0; i < nf; i++) {
		int rel = off - f[i].off;

		if (rel < 0 || rel >= f[i].size || (!tc && (f[i].flags & CF_TC_ONLY)))
			continue;
		if (write ? !(f[i].flags & writable) : !(f[i].flags & CF_READ))
			break;
		if (size == f[i].size && !rel) {
			if (!write && f[i].type != V_SCALAR) {
				*loaded = (struct vreg){.type = f[i].type, .s = scalar_const(0)};
				return 0;
			}
		} else if (write || !(f[i].flags & CF_NARROW) || size > f[i].size ||
			   rel % (int)size) {
			break;
		}
		if (!write) {
			loaded->type = V_SCALAR;
			loaded->s = scalar_bytes(size);
		}
		return 0;
	}
	return v_err(env, -EACCES, pc, "invalid bpf_context access off=%d size=%u", off, size);
}

#define FIELDS(t) t, sizeof(t) / sizeof(t[0])

int ctx_access(struct venv *env, size_t pc, int off, unsigned size, bool write, struct vreg *loaded)
{
	switch (env->opts.type) {
	case UEBPF_PROG_SOCKET_FILTER:
	case UEBPF_PROG_SCHED_CLS:
		return field_access(env, pc, FIELDS(skb_fields), off, size, write, loaded);
	case UEBPF_PROG_XDP:
		return field_access(env, pc, FIELDS(xdp_fields), off, size, write, loaded);
	case UEBPF_PROG_KPROBE:
		if (write || off < 0 || off % (int)size || off + (int)size > PT_REGS_SIZE)
			break;
		loaded->type = V_SCALAR;
		loaded->s = scalar_bytes(size);
		return 0;
	case UEBPF_PROG_RAW_TRACEPOINT:
		if (write || off < 0 || off % (int)size || off + (int)size > RAW_TP_ARGS * 8)
			break;
		loaded->type = V_SCALAR;
		loaded->s = scalar_bytes(size);
		return 0;
	case UEBPF_PROG_TRACEPOINT:
		/* the common header (type, flags, preempt count, pid) is not the program's */
		if (write || off < TP_COMMON || off % (int)size || off + (int)size > TP_RECORD)
			break;
		loaded->type = V_SCALAR;
		loaded->s = scalar_bytes(size);
		return 0;
	default:
		break;
	}
	return v_err(env, -EACCES, pc, "invalid bpf_context access off=%d size=%u", off, size);
}
