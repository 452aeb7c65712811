// SPDX-License-Identifier: MIT
#include "rules.h"

#define SF UEBPF_PROG_SOCKET_FILTER
#define TC UEBPF_PROG_SCHED_CLS
#define XDP UEBPF_PROG_XDP
#define KP UEBPF_PROG_KPROBE
#define RTP UEBPF_PROG_RAW_TRACEPOINT

/* tc prologue: r2 = data, r3 = data_end */
#define TC_PKT "ldxw %r2, [%r1+76]\nldxw %r3, [%r1+80]\n"
#define XDP_PKT "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\n"

const struct rule_case rule_cases[] = {
	/* control flow */
	{"return-constant", SF, 1, NULL, "mov %r0, 0\nexit\n"},
	{"unreachable-insn", SF, 0, "unreachable insn 2", "mov %r0, 0\nexit\nmov %r0, 1\nexit\n"},
	{"jump-into-lddw", SF, 0, "middle of ldimm64", "ja +1\nlddw %r0, 0x100000001\nexit\n"},
	{"falls-off-the-end", SF, 0, "last insn is not an exit or jmp",
	 "mov %r0, 0\njeq %r0, 0, +1\nexit\nmov %r0, 1\n"},
	{"infinite-loop", SF, 0, "infinite loop detected", "mov %r0, 0\nl:\nja l\n"},
	{"unbounded-counter-loop", SF, 0, "too large",
	 "mov %r0, 0\nl:\nadd %r0, 1\njne %r0, 0, l\nexit\n"},
	{"loop-on-unknown-bound", SF, 0, "too large",
	 "ldxw %r2, [%r1+0]\nmov %r0, 0\nl:\nadd %r0, 1\njne %r0, %r2, l\nexit\n"},
	{"bounded-loop", SF, 1, NULL,
	 "mov %r0, 0\nmov %r1, 10\nl:\nadd %r0, 3\nsub %r1, 1\njne %r1, 0, l\nexit\n"},
	{"bounded-loop-1000", SF, 1, NULL,
	 "mov %r0, 0\nmov %r2, 0\nl:\nadd %r0, %r2\nadd %r2, 1\njlt %r2, 1000, l\nexit\n"},
	{"gotol", SF, 1, NULL, "mov %r0, 1\nja32 +1\nexit\nmov %r0, 2\nja32 -3\n"},
	/*
	 * A count kept by 32-bit adds in a loop that branches on unknown data
	 * each time: pruning ignores its value while nothing checks it (r0 at
	 * the main exit is not), else the states grow as the square of the
	 * iterations and with only some stored, exponentially.
	 */
	{"loop-imprecise-count", SF, 1, NULL,
	 "mov %r0, 0\nmov %r2, 0\nl:\nldxw %r3, [%r1+0]\nmov32 %r4, 8\n"
	 "jgt %r3, %r2, +1\nmov32 %r4, 0\nadd32 %r0, %r4\nadd %r2, 1\njlt %r2, 300, l\n"
	 "exit\n"},
	/*
	 * The same for 5000 iterations, each splitting on unknown data: the
	 * state at the loop head differs in the counter every time, so only a
	 * state every few iterations is kept, as the kernel does; before, a
	 * cap of states per instruction made loops past ~1100 iterations
	 * explode.
	 */
	{"loop-split-5000", SF, 1, NULL,
	 "mov %r0, 0\nmov %r2, 0\nl:\nldxw %r3, [%r1+0]\nmov32 %r4, 8\n"
	 "jgt %r3, %r2, +1\nmov32 %r4, 0\nadd32 %r0, %r4\nadd %r2, 1\njlt %r2, 5000, l\n"
	 "exit\n"},
	/* a stack slot spilled and filled in each iteration, dead at the loop head */
	{"loop-split-spill-3000", SF, 1, NULL,
	 "mov %r0, 0\nmov %r2, 0\nl:\nldxw %r3, [%r1+0]\nstxdw [%r10-8], %r3\n"
	 "ldxdw %r4, [%r10-8]\njgt %r4, %r2, +1\nmov32 %r4, 0\nadd32 %r0, %r4\n"
	 "stxdw [%r10-16], %r0\nadd %r2, 1\njlt %r2, 3000, l\nexit\n"},
	/*
	 * Such a count reaching a branch (then a use as an address) after the
	 * loop is compared: 20 iterations, so that exact counts fit the budget.
	 */
	{"loop-count-reaches-branch", SF, 0, "invalid mem access 'scalar'",
	 "mov %r0, 0\nmov %r2, 0\nl:\nldxw %r3, [%r1+0]\nmov32 %r4, 32\n"
	 "jgt %r3, %r2, +1\nmov32 %r4, 0\nadd32 %r0, %r4\nadd %r2, 1\njlt %r2, 20, l\n"
	 "jlt %r0, 400, +1\nldxdw %r0, [%r0+0]\nexit\n"},
	/* ... and reaching pointer arithmetic: up to 20 * 32 bytes below the stack's 512. */
	{"loop-count-reaches-pointer", SF, 0, "invalid",
	 "mov %r0, 0\nmov %r2, 0\nl:\nldxw %r3, [%r1+0]\nmov32 %r4, 32\n"
	 "jgt %r3, %r2, +1\nmov32 %r4, 0\nadd32 %r0, %r4\nadd %r2, 1\njlt %r2, 20, l\n"
	 "mov %r5, %r10\nadd %r5, -8\nsub %r5, %r0\nstdw [%r5+0], 0\nexit\n"},
	/* registers */
	{"uninit-register-read", SF, 0, "R2 !read_ok", "mov %r0, %r2\nexit\n"},
	{"uninit-r0-at-exit", SF, 0, "R0 !read_ok", "exit\n"},
	{"uninit-alu-dst", SF, 0, "R0 !read_ok", "add %r0, 1\nexit\n"},
	{"uninit-in-one-branch", SF, 0, "R0 !read_ok",
	 "ldxw %r2, [%r1+0]\njeq %r2, 0, +1\nmov %r0, 1\nexit\n"},
	{"uninit-jump-operand", SF, 0, "R5 !read_ok", "mov %r0, 0\njeq %r5, 0, +0\nexit\n"},
	{"lddw-constant", SF, 1, NULL, "lddw %r0, 0x123456789\nexit\n"},
	/* stack */
	{"stack-spill-fill", SF, 1, NULL, "stdw [%r10-8], 7\nldxdw %r0, [%r10-8]\nexit\n"},
	{"stack-bottom", SF, 1, NULL, "stdw [%r10-512], 7\nldxdw %r0, [%r10-512]\nexit\n"},
	{"stack-below-frame", SF, 0, "invalid write to stack",
	 "stdw [%r10-520], 1\nmov %r0, 0\nexit\n"},
	{"stack-above-frame", SF, 0, "invalid write to stack",
	 "stdw [%r10+0], 1\nmov %r0, 0\nexit\n"},
	{"stack-read-above-frame", SF, 0, "invalid read from stack", "ldxw %r0, [%r10-2]\nexit\n"},
	{"stack-misaligned", SF, 0, "misaligned stack access",
	 "stw [%r10-6], 1\nmov %r0, 0\nexit\n"},
	{"stack-uninit-read-privileged", SF, 1, NULL, "ldxdw %r0, [%r10-8]\nexit\n"},
	{"stack-pointer-spill", SF, 1, NULL,
	 "stxdw [%r10-8], %r1\nldxdw %r2, [%r10-8]\nldxw %r0, [%r2+0]\nexit\n"},
	{"stack-pointer-partial-fill", SF, 0, "invalid mem access 'scalar'",
	 "stxdw [%r10-8], %r1\nldxw %r2, [%r10-8]\nldxw %r0, [%r2+0]\nexit\n"},
	{"stack-via-copied-fp", SF, 1, NULL,
	 "mov %r2, %r10\nadd %r2, -16\nstdw [%r2+8], 3\nldxdw %r0, [%r10-8]\nexit\n"},
	{"stack-variable-offset", SF, 1, NULL,
	 "ldxw %r2, [%r1+0]\nand %r2, 24\nmov %r3, %r10\nadd %r3, -32\nadd %r3, %r2\n"
	 "stdw [%r10-32], 0\nstdw [%r10-24], 0\nstdw [%r10-16], 0\nstdw [%r10-8], 0\n"
	 "ldxdw %r0, [%r3+0]\nexit\n"},
	{"stack-variable-offset-out", SF, 0, "stack",
	 "ldxw %r2, [%r1+0]\nand %r2, 24\nmov %r3, %r10\nadd %r3, -16\nadd %r3, %r2\n"
	 "ldxdw %r0, [%r3+0]\nexit\n"},
	{"stack-atomic", SF, 1, NULL,
	 "stdw [%r10-8], 1\nmov %r1, 2\nlock fetch add [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit\n"},
	/* scalars and pointers */
	{"deref-scalar", SF, 0, "invalid mem access 'scalar'",
	 "mov %r1, 0\nldxb %r0, [%r1+0]\nexit\n"},
	{"ptr-bitwise", SF, 0, "prohibited", "and %r1, 1\nmov %r0, 0\nexit\n"},
	{"ptr-32-bit-add", SF, 0, "32-bit pointer arithmetic prohibited",
	 "add32 %r1, 1\nmov %r0, 0\nexit\n"},
	{"ptr-plus-ptr", SF, 0, "pointer += pointer prohibited",
	 "add %r1, %r10\nmov %r0, 0\nexit\n"},
	{"scalar-minus-ptr", SF, 0, "subtract pointer from scalar",
	 "mov %r0, 1\nsub %r0, %r10\nexit\n"},
	{"ptr-minus-ptr-privileged", SF, 1, NULL, "mov %r0, %r10\nsub %r0, %r1\nexit\n"},
	{"ptr-compare-privileged", SF, 1, NULL,
	 "mov %r0, 0\njeq %r1, %r10, +1\nmov %r0, 1\nexit\n"},
	{"fp-null-branch-explored", SF, 0, "invalid mem access 'scalar'",
	 "mov %r0, 0\njne %r10, 0, +1\nldxb %r0, [%r0+0]\nexit\n"},
	{"bounds-make-branch-dead", SF, 1, NULL,
	 "ldxw %r2, [%r1+0]\nand %r2, 7\nmov %r0, 0\njle %r2, 7, +1\nldxb %r0, [%r0+0]\nexit\n"},
	{"jmp32-bounds-dead", SF, 1, NULL,
	 "ldxb %r2, [%r1+0]\nmov %r0, 0\njlt32 %r2, 256, +1\nldxb %r0, [%r0+0]\nexit\n"},
	{"jset-known-bit", SF, 1, NULL,
	 "ldxw %r2, [%r1+0]\nor %r2, 4\nmov %r0, 0\njset %r2, 4, +1\nldxb %r0, [%r0+0]\nexit\n"},
	{"helper-prandom", SF, 1, NULL, "call 7\nexit\n"},
	{"helper-clobbers-r1", SF, 0, "R1 !read_ok", "call 7\nmov %r0, %r1\nexit\n"},
	{"helper-unknown", SF, 0, "invalid func unknown#9999", "call 9999\nmov %r0, 0\nexit\n"},
	/* context */
	{"ctx-read-len", SF, 1, NULL, "ldxw %r0, [%r1+0]\nexit\n"},
	{"ctx-narrow-read", SF, 1, NULL, "ldxb %r0, [%r1+8]\nexit\n"},
	{"ctx-read-out-of-struct", SF, 0, "invalid bpf_context access",
	 "ldxw %r0, [%r1+1000]\nexit\n"},
	{"ctx-read-misaligned", SF, 0, "invalid bpf_context access", "ldxw %r0, [%r1+2]\nexit\n"},
	{"ctx-write-cb", SF, 1, NULL, "mov %r0, 0\nstxw [%r1+48], %r0\nexit\n"},
	{"ctx-write-len", SF, 0, "invalid bpf_context access",
	 "mov %r0, 0\nstxw [%r1+0], %r0\nexit\n"},
	{"ctx-st-imm-cb", SF, 1, NULL, "stw [%r1+48], 1\nmov %r0, 0\nexit\n"},
	{"ctx-st-imm-len", SF, 0, "invalid bpf_context access",
	 "stw [%r1+0], 1\nmov %r0, 0\nexit\n"},
	{"ctx-modified-ptr", SF, 0, "modified ctx ptr", "add %r1, 4\nldxw %r0, [%r1+0]\nexit\n"},
	{"ctx-data-socket-filter", SF, 0, "invalid bpf_context access",
	 "ldxw %r0, [%r1+76]\nexit\n"},
	{"ctx-write-mark-socket-filter", SF, 0, "invalid bpf_context access",
	 "mov %r0, 0\nstxw [%r1+8], %r0\nexit\n"},
	{"ctx-write-mark-tc", TC, 1, NULL, "mov %r0, 0\nstxw [%r1+8], %r0\nexit\n"},
	{"ctx-read-tc-classid-socket-filter", SF, 0, "invalid bpf_context access",
	 "ldxw %r0, [%r1+72]\nexit\n"},
	{"ctx-read-tc-classid-tc", TC, 1, NULL, "ldxw %r0, [%r1+72]\nexit\n"},
	{"ctx-narrow-data-tc", TC, 0, "invalid bpf_context access", "ldxh %r0, [%r1+76]\nexit\n"},
	{"ctx-atomic", SF, 0, "BPF_ATOMIC", "mov %r0, 0\nlock add [%r1+48], %r0\nexit\n"},
	{"kprobe-read-regs", KP, 1, NULL, "ldxdw %r0, [%r1+160]\nexit\n"},
	{"kprobe-read-past-regs", KP, 0, "invalid bpf_context access",
	 "ldxdw %r0, [%r1+168]\nexit\n"},
	{"kprobe-write", KP, 0, "invalid bpf_context access",
	 "mov %r0, 0\nstxdw [%r1+0], %r0\nexit\n"},
	{"raw-tp-read-arg", RTP, 1, NULL, "ldxdw %r0, [%r1+8]\nexit\n"},
	{"raw-tp-narrow-read", RTP, 1, NULL, "ldxw %r0, [%r1+8]\nexit\n"},
	{"raw-tp-misaligned-read", RTP, 0, "invalid bpf_context access",
	 "ldxdw %r0, [%r1+4]\nexit\n"},
	{"raw-tp-past-args", RTP, 0, "invalid bpf_context access", "ldxdw %r0, [%r1+96]\nexit\n"},
	{"raw-tp-write", RTP, 0, "invalid bpf_context access",
	 "mov %r0, 0\nstxdw [%r1+0], %r0\nexit\n"},
	{"xdp-write-ctx", XDP, 0, "invalid bpf_context access",
	 "mov %r0, 0\nstxw [%r1+12], %r0\nexit\n"},
	/* packet */
	{"tc-packet-checked", TC, 1, NULL,
	 TC_PKT "mov %r0, 0\nmov %r4, %r2\nadd %r4, 8\njgt %r4, %r3, +1\n"
		"ldxdw %r0, [%r2+0]\nexit\n"},
	{"tc-packet-unchecked", TC, 0, "invalid access to packet",
	 TC_PKT "ldxb %r0, [%r2+0]\nexit\n"},
	{"tc-packet-one-past", TC, 0, "invalid access to packet",
	 TC_PKT "mov %r0, 0\nmov %r4, %r2\nadd %r4, 4\njgt %r4, %r3, +1\n"
		"ldxw %r0, [%r2+1]\nexit\n"},
	{"tc-packet-wrong-branch", TC, 0, "invalid access to packet",
	 TC_PKT "mov %r0, 0\nmov %r4, %r2\nadd %r4, 8\njle %r4, %r3, +1\n"
		"ldxdw %r0, [%r2+0]\nexit\n"},
	{"tc-packet-before-start", TC, 0, "invalid access to packet",
	 TC_PKT "mov %r0, 0\nmov %r4, %r2\nadd %r4, 8\njgt %r4, %r3, +1\n"
		"ldxb %r0, [%r2-1]\nexit\n"},
	{"tc-packet-reversed-compare", TC, 1, NULL,
	 TC_PKT "mov %r0, 0\nmov %r4, %r2\nadd %r4, 2\njlt %r3, %r4, +1\n"
		"ldxh %r0, [%r2+0]\nexit\n"},
	{"tc-packet-strict-compare", TC, 1, NULL,
	 TC_PKT "mov %r0, 0\nmov %r4, %r2\nadd %r4, 3\njge %r4, %r3, +1\n"
		"ldxw %r0, [%r2+0]\nexit\n"},
	{"tc-packet-write", TC, 1, NULL,
	 TC_PKT "mov %r0, 0\nmov %r4, %r2\nadd %r4, 1\njgt %r4, %r3, +1\n"
		"stb [%r2+0], 1\nexit\n"},
	{"tc-packet-variable-offset", TC, 1, NULL,
	 TC_PKT "ldxb %r5, [%r1+0]\nand %r5, 15\nadd %r2, %r5\nmov %r0, 0\nmov %r4, %r2\n"
		"add %r4, 2\njgt %r4, %r3, +1\nldxh %r0, [%r2+0]\nexit\n"},
	{"tc-packet-variable-stale-range", TC, 0, "invalid access to packet",
	 TC_PKT "mov %r0, 0\nmov %r4, %r2\nadd %r4, 2\njgt %r4, %r3, +4\nldxb %r5, [%r1+0]\n"
		"and %r5, 15\nadd %r2, %r5\nldxh %r0, [%r2+0]\nexit\n"},
	{"tc-pkt-end-arith", TC, 0, "pkt_end", TC_PKT "add %r3, 1\nmov %r0, 0\nexit\n"},
	{"tc-pkt-end-deref", TC, 0, "invalid mem access 'pkt_end'",
	 TC_PKT "ldxb %r0, [%r3+0]\nexit\n"},
	{"tc-packet-atomic", TC, 0, "BPF_ATOMIC",
	 TC_PKT "mov %r0, 0\nmov %r4, %r2\nadd %r4, 8\njgt %r4, %r3, +1\n"
		"lock add [%r2+0], %r0\nexit\n"},
	{"xdp-packet-checked", XDP, 1, NULL,
	 XDP_PKT "mov %r0, 2\nmov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, +2\n"
		 "ldxh %r5, [%r2+12]\nldxb %r5, [%r2+13]\nexit\n"},
	{"xdp-packet-loop", XDP, 1, NULL,
	 XDP_PKT "mov %r0, 0\nmov %r5, 0\nl:\nmov %r4, %r2\nadd %r4, 1\njgt %r4, %r3, out\n"
		 "ldxb %r6, [%r2+0]\nadd %r0, %r6\nmov %r2, %r4\nadd %r5, 1\njlt %r5, 64, l\n"
		 "out:\nexit\n"},
	{"xdp-meta-checked", XDP, 1, NULL,
	 "ldxw %r2, [%r1+8]\nldxw %r3, [%r1+0]\nmov %r0, 0\nmov %r4, %r2\nadd %r4, 4\n"
	 "jgt %r4, %r3, +1\nldxw %r0, [%r2+0]\nexit\n"},
	{"xdp-meta-unchecked", XDP, 0, "invalid access to packet",
	 "ldxw %r2, [%r1+8]\nldxw %r0, [%r2+0]\nexit\n"},
	/* calls */
	{"call-local", SF, 1, NULL, "call local f\nexit\nf:\nmov %r0, 1\nexit\n"},
	{"call-args-and-saved", SF, 1, NULL,
	 "mov %r6, 5\nmov %r1, 2\ncall local f\nadd %r0, %r6\nexit\nf:\nmov %r0, %r1\nexit\n"},
	{"call-clobbers-r1", SF, 0, "R1 !read_ok",
	 "mov %r1, 2\ncall local f\nmov %r0, %r1\nexit\nf:\nmov %r0, 0\nexit\n"},
	{"callee-no-r6", SF, 0, "R6 !read_ok",
	 "mov %r6, 1\ncall local f\nexit\nf:\nmov %r0, %r6\nexit\n"},
	{"call-stack-pointer-down", SF, 1, NULL,
	 "stdw [%r10-8], 9\nmov %r1, %r10\nadd %r1, -8\ncall local f\nexit\n"
	 "f:\nldxdw %r0, [%r1+0]\nexit\n"},
	{"callee-spills-its-stack-pointer-up", SF, 0, "stack frame of the caller",
	 "mov %r1, %r10\nadd %r1, -8\ncall local f\nldxdw %r0, [%r10-8]\nexit\n"
	 "f:\nstxdw [%r1+0], %r10\nmov %r0, 0\nexit\n"},
	{"callee-returns-its-stack", SF, 0, "stack pointer",
	 "call local f\nmov %r0, 0\nexit\nf:\nmov %r0, %r10\nexit\n"},
	{"call-depth-8", SF, 1, NULL,
	 "call local f1\nexit\nf1:\ncall local f2\nexit\nf2:\ncall local f3\nexit\n"
	 "f3:\ncall local f4\nexit\nf4:\ncall local f5\nexit\nf5:\ncall local f6\nexit\n"
	 "f6:\ncall local f7\nexit\nf7:\nmov %r0, 7\nexit\n"},
	{"call-depth-9", SF, 0, "too deep",
	 "call local f1\nexit\nf1:\ncall local f2\nexit\nf2:\ncall local f3\nexit\n"
	 "f3:\ncall local f4\nexit\nf4:\ncall local f5\nexit\nf5:\ncall local f6\nexit\n"
	 "f6:\ncall local f7\nexit\nf7:\ncall local f8\nexit\nf8:\nmov %r0, 8\nexit\n"},
	{"combined-stack-too-large", SF, 0, "combined stack size",
	 "stdw [%r10-400], 1\ncall local f\nexit\nf:\nstdw [%r10-200], 1\nmov %r0, 0\nexit\n"},
	{"callx-refused", SF, 0, "callx", "mov %r2, 7\ncall %r2\nexit\n"},
};

const unsigned rule_ncases = sizeof(rule_cases) / sizeof(rule_cases[0]);
