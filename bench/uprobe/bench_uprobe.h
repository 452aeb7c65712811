/* SPDX-License-Identifier: MIT */
/*
 * What the uprobe benchmark's files share: the victims (victims.S), the
 * instruction macros its hand-written programs use, and loading such a
 * program on the JIT with its maps.
 */
#ifndef UEBPF_BENCH_UPROBE_H
#define UEBPF_BENCH_UPROBE_H

#include <linux/bpf.h>
#include <stddef.h>

#include "isa/isa.h"

struct map;
struct uebpf_vm;

long bench_push(long a);
long bench_rip(long a);

typedef long (*victim_fn)(long);

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define MOV_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV_REG(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define ADD_IMM(d, i) INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define MUL_IMM(d, i) INSN(BPF_ALU64 | BPF_MUL | BPF_K, d, 0, 0, i)
#define LDX_DW(d, s, o) INSN(BPF_LDX | BPF_MEM | BPF_DW, d, s, o, 0)
#define STX_DW(d, s, o) INSN(BPF_STX | BPF_MEM | BPF_DW, d, s, o, 0)
#define ST_DW(d, o, i) INSN(BPF_ST | BPF_MEM | BPF_DW, d, 0, o, i)
#define ST_W(d, o, i) INSN(BPF_ST | BPF_MEM | BPF_W, d, 0, o, i)
#define CALL(id) INSN(BPF_JMP | BPF_CALL, 0, 0, 0, id)
#define JEQ_IMM(d, i, o) INSN(BPF_JMP | BPF_JEQ | BPF_K, d, 0, o, i)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
/* lddw of maps[n] of bench_prog's table */
#define LD_MAP(d, n) \
	INSN(BPF_LD | BPF_DW | BPF_IMM, d, ISA_PSEUDO_MAP_FD, 0, n), INSN(0, 0, 0, 0, 0)
#define PT_DI 112 /* offsetof(struct pt_regs, rdi) */
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A JIT-compiled VM of insns whose lddw map references index maps; exits on failure. */
struct uebpf_vm *bench_prog(const struct bpf_insn *insns, size_t n, struct map *const *maps,
			    size_t nmaps);

/* scaling.c: N threads calling a probed function against N calling it unprobed. */
void scaling_run(int slices, const char *csv);

#endif
