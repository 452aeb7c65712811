// SPDX-License-Identifier: MIT
/*
 * The rule corpus, second part: maps, helpers, references and callbacks.
 * Map references are lddw placeholders (rules.h: MAP_REF) that the test
 * turns into map fds for the kernel and map indexes for uebpf.
 */
#include <linux/bpf.h>

#include "rules.h"

const struct rule_map rule_maps[RULE_NMAPS] = {
	{BPF_MAP_TYPE_HASH, 4, 8, 16, 0},      {BPF_MAP_TYPE_ARRAY, 4, 16, 4, 0},
	{BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0}, {BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0},
	{BPF_MAP_TYPE_ARRAY, 4, 16, 1, 0},     {BPF_MAP_TYPE_ARRAY, 4, 16, 1, BPF_F_RDONLY_PROG},
	{BPF_MAP_TYPE_QUEUE, 0, 8, 8, 0},
};

#define SF UEBPF_PROG_SOCKET_FILTER
#define TC UEBPF_PROG_SCHED_CLS
#define XDP UEBPF_PROG_XDP
#define KP UEBPF_PROG_KPROBE
#define TP UEBPF_PROG_TRACEPOINT

#define HASH "0x4d41010000000000"	   /* map 0: hash, key 4, value 8 */
#define ARR "0x4d41010100000000"	   /* map 1: array, key 4, value 16 */
#define RB "0x4d41010200000000"		   /* map 2: ring buffer */
#define PROGS "0x4d41010300000000"	   /* map 3: prog array */
#define DATA(off) "0x4d410204000000" off   /* map 4: one value of 16 bytes */
#define RODATA(off) "0x4d410205000000" off /* map 5: the same, BPF_F_RDONLY_PROG */
#define RODATA_MAP "0x4d41010500000000"
#define QUEUE "0x4d41010600000000"	 /* map 6: queue of 8-byte values */
#define NOMAP "0x4d41010f00000000"	 /* no map */
#define FUNC(rel) "0x4d410400000000" rel /* a function rel slots after the lddw's 2nd */
#define BTF_ID "0x4d41030000000000"

/* the key 0 at fp-4 in r2 */
#define KEY "stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\n"
#define LOOKUP(map) KEY "lddw %r1, " map "\ncall 1\n"
/* r0 = a reservation of 8 bytes */
#define RESERVE "lddw %r1, " RB "\nmov %r2, 8\nmov %r3, 0\ncall 131\n"

const struct rule_case rule_map_cases[] = {
	/* maps and their values */
	{"map-lookup-null-checked", SF, 1, NULL,
	 LOOKUP(HASH) "jeq %r0, 0, +1\nldxdw %r0, [%r0+0]\nexit\n"},
	{"map-lookup-no-null-check", SF, 0, "invalid mem access 'map_value_or_null'",
	 LOOKUP(HASH) "ldxdw %r0, [%r0+0]\nexit\n"},
	{"map-value-past-end", SF, 0, "invalid access to map value",
	 LOOKUP(HASH) "jeq %r0, 0, +1\nldxdw %r0, [%r0+4]\nexit\n"},
	{"map-value-before-start", SF, 0, "invalid access to map value",
	 LOOKUP(HASH) "jeq %r0, 0, +1\nldxb %r0, [%r0-1]\nexit\n"},
	{"map-value-write", SF, 1, NULL,
	 LOOKUP(HASH) "jeq %r0, 0, +1\nstdw [%r0+0], 1\nmov %r0, 0\nexit\n"},
	{"map-value-copy-refined", SF, 1, NULL,
	 LOOKUP(HASH) "mov %r6, %r0\njeq %r0, 0, +1\nldxdw %r0, [%r6+0]\nexit\n"},
	{"map-value-spilled-copy-refined", SF, 1, NULL,
	 LOOKUP(HASH) "stxdw [%r10-16], %r0\njeq %r0, 0, +2\nldxdw %r1, [%r10-16]\n"
		      "ldxdw %r0, [%r1+0]\nexit\n"},
	{"map-value-null-branch-deref", SF, 0, "invalid mem access 'scalar'",
	 LOOKUP(HASH) "jne %r0, 0, +1\nldxdw %r0, [%r0+0]\nexit\n"},
	{"map-value-compare-nonzero", SF, 0, "map_value_or_null",
	 LOOKUP(HASH) "jeq %r0, 1, +1\nldxdw %r0, [%r0+0]\nexit\n"},
	{"map-value-null-check-jmp32", SF, 0, "map_value_or_null",
	 LOOKUP(HASH) "jeq32 %r0, 0, +1\nldxdw %r0, [%r0+0]\nexit\n"},
	{"map-value-variable-index", SF, 1, NULL,
	 "mov %r6, %r1\n" LOOKUP(
		 ARR) "jeq %r0, 0, +4\nldxw %r1, [%r6+0]\nand %r1, 8\nadd %r0, %r1\n"
		      "ldxdw %r0, [%r0+0]\nexit\n"},
	{"map-value-variable-index-unbounded", SF, 0, "unbounded",
	 "mov %r6, %r1\n" LOOKUP(ARR) "jeq %r0, 0, +3\nldxw %r1, [%r6+0]\nadd %r0, %r1\n"
				      "ldxb %r0, [%r0+0]\nexit\n"},
	{"map-value-negative-index", SF, 0, "min value is negative",
	 "mov %r6, %r1\n" LOOKUP(ARR) "jeq %r0, 0, +4\nldxb %r1, [%r6+0]\nsub %r1, 4\n"
				      "add %r0, %r1\nldxb %r0, [%r0+0]\nexit\n"},
	{"map-value-index-too-large", SF, 0, "invalid access to map value",
	 "mov %r6, %r1\n" LOOKUP(ARR) "jeq %r0, 0, +4\nldxb %r1, [%r6+0]\nand %r1, 15\n"
				      "add %r0, %r1\nldxdw %r0, [%r0+0]\nexit\n"},
	{"map-value-atomic", SF, 1, NULL,
	 LOOKUP(ARR) "jeq %r0, 0, +2\nmov %r1, 1\nlock add [%r0+8], %r1\nmov %r0, 0\nexit\n"},
	{"map-value-atomic-past-end", SF, 0, "invalid access to map value",
	 LOOKUP(ARR) "jeq %r0, 0, +2\nmov %r1, 1\nlock add [%r0+12], %r1\nmov %r0, 0\nexit\n"},
	{"map-value-store-pointer-privileged", SF, 1, NULL,
	 LOOKUP(HASH) "jeq %r0, 0, +1\nstxdw [%r0+0], %r10\nmov %r0, 0\nexit\n"},
	{"map-ptr-write", SF, 0, "map_ptr",
	 "lddw %r1, " HASH "\nstdw [%r1+0], 0\nmov %r0, 0\nexit\n"},
	{"map-ptr-arith", SF, 0, "pointer arithmetic on map_ptr prohibited",
	 "lddw %r1, " HASH "\nadd %r1, 8\nmov %r0, 0\nexit\n"},
	{"map-value-or-null-arith", SF, 0, "null-check it first",
	 LOOKUP(HASH) "add %r0, 8\nmov %r0, 0\nexit\n"},
	{"map-fd-invalid", SF, 0, "not pointing to valid bpf_map",
	 "lddw %r1, " NOMAP "\nmov %r0, 0\nexit\n"},
	{"map-lookup-in-subprog", SF, 1, NULL,
	 "call local f\njeq %r0, 0, +1\nldxdw %r0, [%r0+0]\nexit\nf:\n" LOOKUP(HASH) "exit\n"},
	{"map-value-to-subprog", SF, 1, NULL,
	 LOOKUP(HASH) "jeq %r0, 0, +3\nmov %r1, %r0\ncall local f\nexit\nexit\n"
		      "f:\nldxdw %r0, [%r1+0]\nexit\n"},
	{"map-value-to-subprog-past-end", SF, 0, "invalid access to map value",
	 LOOKUP(HASH) "jeq %r0, 0, +3\nmov %r1, %r0\ncall local f\nexit\nexit\n"
		      "f:\nldxdw %r0, [%r1+8]\nexit\n"},
	{"rdonly-map-lookup-write", SF, 0, "write into map forbidden",
	 LOOKUP(RODATA_MAP) "jeq %r0, 0, +1\nstdw [%r0+0], 1\nmov %r0, 0\nexit\n"},
	/* helper arguments for maps */
	{"lookup-key-scalar", SF, 0, "R2 type=scalar expected",
	 "lddw %r1, " HASH "\nmov %r2, 0\ncall 1\nmov %r0, 0\nexit\n"},
	{"lookup-key-past-stack", SF, 0, "stack R2",
	 "lddw %r1, " HASH "\nmov %r2, %r10\nadd %r2, -2\ncall 1\nmov %r0, 0\nexit\n"},
	{"lookup-key-uninit-privileged", SF, 1, NULL,
	 "lddw %r1, " HASH "\nmov %r2, %r10\nadd %r2, -8\ncall 1\nmov %r0, 0\nexit\n"},
	{"lookup-map-arg-ctx", SF, 0, "R1 type=ctx expected=map_ptr",
	 KEY "call 1\nmov %r0, 0\nexit\n"},
	{"lookup-key-uninit-reg", SF, 0, "R2 !read_ok",
	 "lddw %r1, " HASH "\ncall 1\nmov %r0, 0\nexit\n"},
	{"lookup-key-in-map-value", SF, 1, NULL,
	 LOOKUP(ARR) "jeq %r0, 0, +4\nmov %r2, %r0\nlddw %r1, " HASH
		     "\ncall 1\nmov %r0, 0\nexit\n"},
	{"update-ok", SF, 1, NULL,
	 KEY "stdw [%r10-16], 7\nmov %r3, %r10\nadd %r3, -16\nmov %r4, 0\nlddw %r1, " HASH "\n"
	     "call 2\nexit\n"},
	{"update-value-past-stack", SF, 0, "stack R3",
	 KEY "mov %r3, %r10\nadd %r3, -4\nmov %r4, 0\nlddw %r1, " HASH "\ncall 2\nexit\n"},
	{"update-flags-uninit", SF, 0, "R4 !read_ok",
	 KEY "mov %r3, %r10\nadd %r3, -16\nlddw %r1, " HASH "\ncall 2\nexit\n"},
	{"delete-ok", SF, 1, NULL, LOOKUP(HASH) "mov %r0, 0\nexit\n"},
	{"delete-scalar-key", SF, 0, "R2 type=scalar",
	 "lddw %r1, " HASH "\nmov %r2, 4\ncall 3\nexit\n"},
	{"queue-push", SF, 1, NULL,
	 "stdw [%r10-8], 5\nmov %r2, %r10\nadd %r2, -8\nmov %r3, 0\nlddw %r1, " QUEUE "\n"
	 "call 87\nexit\n"},
	{"queue-pop", SF, 1, NULL,
	 "mov %r2, %r10\nadd %r2, -8\nlddw %r1, " QUEUE "\ncall 88\nexit\n"},
	{"queue-lookup-refused", SF, 0, "cannot pass map_type", LOOKUP(QUEUE) "mov %r0, 0\nexit\n"},
	{"push-on-hash-refused", SF, 0, "cannot pass map_type",
	 "stdw [%r10-8], 5\nmov %r2, %r10\nadd %r2, -8\nmov %r3, 0\nlddw %r1, " HASH "\n"
	 "call 87\nexit\n"},
	{"ringbuf-lookup-refused", SF, 0, "cannot pass map_type", LOOKUP(RB) "mov %r0, 0\nexit\n"},
	{"ringbuf-output-on-hash", SF, 0, "cannot pass map_type",
	 "mov %r2, %r10\nadd %r2, -8\nmov %r3, 8\nmov %r4, 0\nlddw %r1, " HASH "\ncall 130\n"
	 "exit\n"},
	/* global data */
	{"global-data-read", SF, 1, NULL, "lddw %r1, " DATA("00") "\nldxdw %r0, [%r1+8]\nexit\n"},
	{"global-data-write", SF, 1, NULL,
	 "lddw %r1, " DATA("08") "\nstdw [%r1+0], 5\nmov %r0, 0\nexit\n"},
	{"global-data-past-end", SF, 0, "invalid access to map value",
	 "lddw %r1, " DATA("00") "\nldxdw %r0, [%r1+12]\nexit\n"},
	{"global-data-offset-past-end", SF, 0, "invalid access to map value pointer",
	 "lddw %r1, " DATA("10") "\nmov %r0, 0\nexit\n"},
	{"rodata-read", SF, 1, NULL, "lddw %r1, " RODATA("00") "\nldxb %r0, [%r1+0]\nexit\n"},
	{"rodata-write", SF, 0, "write into map forbidden",
	 "lddw %r1, " RODATA("00") "\nstb [%r1+0], 1\nmov %r0, 0\nexit\n"},
	{"rodata-atomic", SF, 0, "write into map forbidden",
	 "lddw %r1, " RODATA("00") "\nmov %r2, 1\nlock add [%r1+0], %r2\nmov %r0, 0\nexit\n"},
	/* helpers */
	{"tail-call", SF, 1, NULL, "lddw %r2, " PROGS "\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit\n"},
	{"tail-call-hash", SF, 0, "cannot pass map_type",
	 "lddw %r2, " HASH "\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit\n"},
	{"tail-call-not-ctx", SF, 0, "R1 type=fp expected=ctx",
	 "mov %r1, %r10\nlddw %r2, " PROGS "\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit\n"},
	{"probe-read-socket-filter", SF, 0, "cannot use helper",
	 "mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 0\ncall 4\nexit\n"},
	{"probe-read-kprobe", KP, 1, NULL,
	 "mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 0\ncall 4\nexit\n"},
	{"probe-read-size-negative", KP, 0, "min value is negative",
	 "ldxdw %r2, [%r1+0]\nmov %r1, %r10\nadd %r1, -8\nmov %r3, 0\ncall 4\nexit\n"},
	{"probe-read-size-unbounded", KP, 0, "unbounded memory access",
	 "ldxw %r2, [%r1+0]\nmov %r1, %r10\nadd %r1, -8\nmov %r3, 0\ncall 4\nexit\n"},
	{"probe-read-past-stack", KP, 0, "stack R1",
	 "mov %r1, %r10\nadd %r1, -8\nmov %r2, 16\nmov %r3, 0\ncall 4\nexit\n"},
	{"probe-read-bounded-size", KP, 1, NULL,
	 "ldxb %r2, [%r1+0]\nand %r2, 7\nmov %r1, %r10\nadd %r1, -8\nmov %r3, 0\ncall 4\n"
	 "exit\n"},
	{"probe-read-bounded-size-too-big", KP, 0, "stack R1",
	 "ldxb %r2, [%r1+0]\nand %r2, 15\nmov %r1, %r10\nadd %r1, -8\nmov %r3, 0\ncall 4\n"
	 "exit\n"},
	{"probe-read-zero-size", KP, 1, NULL,
	 "mov %r1, %r10\nadd %r1, -8\nmov %r2, 0\nmov %r3, 0\ncall 4\nexit\n"},
	{"probe-read-into-ctx", KP, 0, "R1 type=ctx", "mov %r2, 8\nmov %r3, 0\ncall 4\nexit\n"},
	{"probe-read-user-socket-filter", SF, 1, NULL,
	 "mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 0\ncall 112\nexit\n"},
	{"probe-read-into-map-value", KP, 1, NULL,
	 "mov %r6, %r1\n" LOOKUP(ARR) "jeq %r0, 0, +4\nmov %r1, %r0\nmov %r2, 16\nmov %r3, 0\n"
				      "call 4\nmov %r0, 0\nexit\n"},
	{"probe-read-into-rodata", KP, 0, "write into map forbidden",
	 "lddw %r1, " RODATA("00") "\nmov %r2, 8\nmov %r3, 0\ncall 4\nmov %r0, 0\nexit\n"},
	{"get-current-comm", SF, 1, NULL,
	 "mov %r1, %r10\nadd %r1, -16\nmov %r2, 16\ncall 16\nexit\n"},
	{"get-current-comm-zero-size", SF, 0, "invalid zero-sized read",
	 "mov %r1, %r10\nadd %r1, -16\nmov %r2, 0\ncall 16\nexit\n"},
	{"get-current-comm-size-scalar-reg", SF, 0, "R2 !read_ok",
	 "mov %r1, %r10\nadd %r1, -16\ncall 16\nexit\n"},
	{"trace-printk", SF, 1, NULL,
	 "stdw [%r10-8], 0x6968\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\ncall 6\nexit\n"},
	{"trace-printk-unbounded-size", SF, 0, "unbounded memory access",
	 "ldxw %r2, [%r1+0]\nadd %r2, 1\nmov %r1, %r10\nadd %r1, -8\ncall 6\nexit\n"},
	{"trace-printk-ctx", SF, 0, "R1 type=ctx expected", "mov %r2, 8\ncall 6\nexit\n"},
	{"snprintf-fmt-on-stack", SF, 0, "R3 type=fp expected=map_value",
	 "stdw [%r10-8], 0x6968\nmov %r3, %r10\nadd %r3, -8\nmov %r1, %r10\nadd %r1, -24\n"
	 "mov %r2, 16\nmov %r4, 0\nmov %r5, 0\ncall 165\nexit\n"},
	{"snprintf-rodata-fmt", SF, 1, NULL,
	 "lddw %r3, " RODATA("00") "\nmov %r1, %r10\nadd %r1, -16\nmov %r2, 16\nmov %r4, 0\n"
				   "mov %r5, 0\ncall 165\nexit\n"},
	{"snprintf-writable-fmt", SF, 0, "readonly",
	 "lddw %r3, " DATA("00") "\nmov %r1, %r10\nadd %r1, -16\nmov %r2, 16\nmov %r4, 0\n"
				 "mov %r5, 0\ncall 165\nexit\n"},
	{"csum-diff-socket-filter", SF, 0, "cannot use helper",
	 "mov %r1, 0\nmov %r2, 0\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 8\nmov %r5, 0\ncall 28\n"
	 "exit\n"},
	{"csum-diff-xdp", XDP, 1, NULL,
	 "mov %r1, 0\nmov %r2, 0\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 8\nmov %r5, 0\ncall 28\n"
	 "mov %r0, 2\nexit\n"},
	{"csum-diff-packet", XDP, 1, NULL,
	 "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\nmov %r0, 2\nmov %r4, %r2\nadd %r4, 8\n"
	 "jgt %r4, %r3, +6\nmov %r1, 0\nmov %r3, %r2\nmov %r2, 0\nmov %r4, 8\nmov %r5, 0\n"
	 "call 28\nmov %r0, 2\nexit\n"},
	{"csum-diff-packet-unchecked", XDP, 0, "invalid access to packet",
	 "ldxw %r3, [%r1+0]\nmov %r1, 0\nmov %r2, 0\nmov %r4, 8\nmov %r5, 0\ncall 28\n"
	 "mov %r0, 2\nexit\n"},
	{"get-func-ip-xdp", XDP, 0, "cannot use helper", "call 173\nexit\n"},
	{"get-func-ip-kprobe", KP, 1, NULL, "call 173\nexit\n"},
	{"ktime-coarse-kprobe", KP, 0, "cannot use helper", "call 160\nexit\n"},
	{"ktime-coarse-xdp", XDP, 1, NULL, "call 160\nmov %r0, 2\nexit\n"},
	{"helper-r0-scalar", SF, 0, "invalid mem access 'scalar'",
	 "call 5\nldxb %r0, [%r0+0]\nexit\n"},
	{"lddw-btf-id-refused", SF, 0, "without BTF", "lddw %r1, " BTF_ID "\nmov %r0, 0\nexit\n"},
	/* references: ring buffer reservations */
	{"ringbuf-reserve-submit", SF, 1, NULL,
	 RESERVE "jeq %r0, 0, +4\nstdw [%r0+0], 1\nmov %r1, %r0\nmov %r2, 0\ncall 132\n"
		 "mov %r0, 0\nexit\n"},
	{"ringbuf-reserve-discard", SF, 1, NULL,
	 RESERVE "jeq %r0, 0, +3\nmov %r1, %r0\nmov %r2, 0\ncall 133\nmov %r0, 0\nexit\n"},
	{"ringbuf-leak", SF, 0, "Unreleased reference",
	 RESERVE "jeq %r0, 0, +1\nstdw [%r0+0], 1\nmov %r0, 0\nexit\n"},
	{"ringbuf-leak-on-one-path", SF, 0, "Unreleased reference",
	 "mov %r6, %r1\n" RESERVE "jeq %r0, 0, +6\nldxw %r1, [%r6+0]\njgt %r1, 10, +3\n"
	 "mov %r1, %r0\nmov %r2, 0\ncall 132\nmov %r0, 0\nexit\n"},
	{"ringbuf-no-null-check", SF, 0, "invalid mem access 'ringbuf_mem_or_null'",
	 RESERVE "stdw [%r0+0], 1\nmov %r0, 0\nexit\n"},
	{"ringbuf-write-past-end", SF, 0, "invalid access to mem",
	 RESERVE "jeq %r0, 0, +4\nstdw [%r0+4], 1\nmov %r1, %r0\nmov %r2, 0\ncall 132\n"
		 "mov %r0, 0\nexit\n"},
	{"ringbuf-submit-twice", SF, 0, "R1 type=scalar expected=ringbuf_mem",
	 RESERVE "jeq %r0, 0, +7\nmov %r6, %r0\nmov %r1, %r6\nmov %r2, 0\ncall 132\n"
		 "mov %r1, %r6\nmov %r2, 0\ncall 132\nmov %r0, 0\nexit\n"},
	{"ringbuf-use-after-submit", SF, 0, "invalid mem access 'scalar'",
	 RESERVE "jeq %r0, 0, +5\nmov %r6, %r0\nmov %r1, %r6\nmov %r2, 0\ncall 132\n"
		 "stdw [%r6+0], 1\nmov %r0, 0\nexit\n"},
	{"ringbuf-submit-with-offset", SF, 0, "zero offset",
	 RESERVE "jeq %r0, 0, +4\nmov %r1, %r0\nadd %r1, 8\nmov %r2, 0\ncall 132\n"
		 "mov %r0, 0\nexit\n"},
	{"ringbuf-reserve-variable-size", SF, 0, "not a known constant",
	 "ldxw %r2, [%r1+0]\nlddw %r1, " RB "\nmov %r3, 0\ncall 131\nmov %r0, 0\nexit\n"},
	{"ringbuf-submit-unchecked", SF, 0, "ringbuf_mem_or_null",
	 RESERVE "mov %r1, %r0\nmov %r2, 0\ncall 132\nmov %r0, 0\nexit\n"},
	{"ringbuf-submit-scalar", SF, 0, "R1 type=scalar expected=ringbuf_mem",
	 "mov %r1, 0\nmov %r2, 0\ncall 132\nmov %r0, 0\nexit\n"},
	{"ringbuf-submit-map-value", SF, 0, "expected=ringbuf_mem",
	 LOOKUP(HASH) "jeq %r0, 0, +3\nmov %r1, %r0\nmov %r2, 0\ncall 132\nmov %r0, 0\nexit\n"},
	{"ringbuf-output", SF, 1, NULL,
	 "mov %r2, %r10\nadd %r2, -8\nmov %r3, 8\nmov %r4, 0\nlddw %r1, " RB "\ncall 130\nexit\n"},
	{"ringbuf-query", SF, 1, NULL, "lddw %r1, " RB "\nmov %r2, 0\ncall 134\nexit\n"},
	{"ringbuf-tail-call-leak", SF, 0, "tail_call would lead to reference leak",
	 "mov %r6, %r1\n" RESERVE "jeq %r0, 0, +8\nmov %r7, %r0\nmov %r1, %r6\nlddw %r2, " PROGS
	 "\nmov %r3, 0\ncall 12\nmov %r1, %r7\nmov %r2, 0\ncall 132\n"
	 "mov %r0, 0\nexit\n"},
	{"ringbuf-submit-in-subprog", SF, 1, NULL,
	 RESERVE "jeq %r0, 0, +2\nmov %r1, %r0\ncall local f\nmov %r0, 0\nexit\n"
		 "f:\nmov %r2, 0\ncall 132\nmov %r0, 0\nexit\n"},
	{"ringbuf-spilled-null-check", SF, 1, NULL,
	 RESERVE "stxdw [%r10-16], %r0\njeq %r0, 0, +4\nldxdw %r1, [%r10-16]\nmov %r2, 0\n"
		 "call 132\nmov %r0, 0\nexit\n"},
	/* callbacks */
	{"loop-callback", SF, RULE_NEEDS_BTF, NULL,
	 "mov %r1, 10\nlddw %r2, " FUNC("06") "\nmov %r3, 0\nmov %r4, 0\ncall 181\nmov %r0, 0\n"
					      "exit\nmov %r0, 0\nexit\n"},
	{"loop-callback-returns-5", SF, 0, "should have been in [0, 1]",
	 "mov %r1, 10\nlddw %r2, " FUNC("06") "\nmov %r3, 0\nmov %r4, 0\ncall 181\nmov %r0, 0\n"
					      "exit\nmov %r0, 5\nexit\n"},
	{"loop-callback-scalar", SF, 0, "R2 type=scalar expected=func",
	 "mov %r1, 10\nmov %r2, 0\nmov %r3, 0\nmov %r4, 0\ncall 181\nmov %r0, 0\nexit\n"},
	{"loop-callback-ctx", SF, RULE_NEEDS_BTF, NULL,
	 "stdw [%r10-8], 0\nmov %r1, 10\nlddw %r2, " FUNC(
		 "07") "\nmov %r3, %r10\nadd %r3, -8\n"
		       "mov %r4, 0\ncall 181\nmov %r0, 0\nexit\nldxdw %r0, [%r2+0]\nand %r0, "
		       "1\nexit\n"},
	{"loop-callback-ctx-past-frame", SF, 0, "stack",
	 "stdw [%r10-8], 0\nmov %r1, 10\nlddw %r2, " FUNC(
		 "07") "\nmov %r3, %r10\nadd %r3, -8\n"
		       "mov %r4, 0\ncall 181\nmov %r0, 0\nexit\nldxdw %r0, [%r2+8]\nand %r0, "
		       "1\nexit\n"},
	{"loop-callback-counter", SF, RULE_NEEDS_BTF, NULL,
	 "stdw [%r10-8], 0\nmov %r1, 100\nlddw %r2, " FUNC(
		 "07") "\nmov %r3, %r10\nadd %r3, -8\n"
		       "mov %r4, 0\ncall 181\nldxdw %r0, [%r10-8]\nexit\nldxdw %r1, [%r2+0]\nadd "
		       "%r1, 1\n"
		       "stxdw [%r2+0], %r1\nmov %r0, 0\nexit\n"},
	{"loop-callback-ctx-not-stack", SF, 0, "R3 type=ctx expected=fp",
	 "mov %r3, %r1\nmov %r1, 10\nlddw %r2, " FUNC("05") "\nmov %r4, 0\ncall 181\nmov %r0, 0\n"
							    "exit\nmov %r0, 0\nexit\n"},
	{"loop-callback-uninit-r3", SF, 0, "R3 !read_ok",
	 "mov %r1, 10\nlddw %r2, " FUNC("06") "\nmov %r3, 0\nmov %r4, 0\ncall 181\nmov %r0, 0\n"
					      "exit\nmov %r0, %r3\nexit\n"},
	{"for-each-map-elem", SF, RULE_NEEDS_BTF, NULL,
	 "lddw %r1, " ARR
	 "\nlddw %r2, " FUNC("06") "\nmov %r3, 0\nmov %r4, 0\ncall 164\n"
				   "mov %r0, 0\nexit\nldxdw %r0, [%r3+8]\nmov %r0, 0\nexit\n"},
	{"for-each-value-past-end", SF, 0, "invalid access to map value",
	 "lddw %r1, " ARR
	 "\nlddw %r2, " FUNC("06") "\nmov %r3, 0\nmov %r4, 0\ncall 164\n"
				   "mov %r0, 0\nexit\nldxdw %r0, [%r3+16]\nmov %r0, 0\nexit\n"},
	{"for-each-key-write", SF, 0, "forbidden",
	 "lddw %r1, " ARR
	 "\nlddw %r2, " FUNC("06") "\nmov %r3, 0\nmov %r4, 0\ncall 164\n"
				   "mov %r0, 0\nexit\nstw [%r2+0], 1\nmov %r0, 0\nexit\n"},
	{"for-each-key-read", SF, RULE_NEEDS_BTF, NULL,
	 "lddw %r1, " ARR
	 "\nlddw %r2, " FUNC("06") "\nmov %r3, 0\nmov %r4, 0\ncall 164\n"
				   "mov %r0, 0\nexit\nldxw %r0, [%r2+0]\nmov %r0, 0\nexit\n"},
	{"for-each-ringbuf", SF, 0, "cannot pass map_type",
	 "lddw %r1, " RB "\nlddw %r2, " FUNC("06") "\nmov %r3, 0\nmov %r4, 0\ncall 164\n"
						   "mov %r0, 0\nexit\nmov %r0, 0\nexit\n"},
	/* more rejections */
	{"map-value-byte-past-end", SF, 0, "invalid access to map value",
	 LOOKUP(HASH) "jeq %r0, 0, +1\nldxb %r0, [%r0+8]\nexit\n"},
	{"map-value-store-past-end", SF, 0, "invalid access to map value",
	 LOOKUP(HASH) "jeq %r0, 0, +1\nstw [%r0+6], 1\nmov %r0, 0\nexit\n"},
	{"map-value-var-plus-off-past-end", SF, 0, "invalid access to map value",
	 "mov %r6, %r1\n" LOOKUP(HASH) "jeq %r0, 0, +4\nldxb %r1, [%r6+0]\nand %r1, 7\n"
				       "add %r0, %r1\nldxb %r0, [%r0+1]\nexit\n"},
	{"map-value-moved-before-start", SF, 0, "invalid access to map value",
	 LOOKUP(HASH) "jeq %r0, 0, +2\nsub %r0, 1\nldxb %r0, [%r0+0]\nexit\n"},
	{"map-value-or-null-as-key", SF, 0, "R2 type=map_value_or_null",
	 LOOKUP(HASH) "mov %r2, %r0\nlddw %r1, " HASH "\ncall 1\nmov %r0, 0\nexit\n"},
	{"map-value-or-null-spilled-deref", SF, 0, "map_value_or_null",
	 LOOKUP(HASH) "stxdw [%r10-16], %r0\nldxdw %r1, [%r10-16]\nldxdw %r0, [%r1+0]\nexit\n"},
	{"map-value-copy-null-branch", SF, 0, "invalid mem access 'scalar'",
	 LOOKUP(HASH) "mov %r6, %r0\njne %r0, 0, +1\nldxdw %r0, [%r6+0]\nexit\n"},
	{"map-ptr-as-key", SF, 0, "R2 type=map_ptr",
	 "lddw %r1, " HASH "\nmov %r2, %r1\ncall 1\nmov %r0, 0\nexit\n"},
	{"map-ptr-as-tail-call-ctx", SF, 0, "R1 type=map_ptr expected=ctx",
	 "lddw %r1, " PROGS "\nmov %r2, %r1\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit\n"},
	{"global-data-before-start", SF, 0, "invalid access to map value",
	 "lddw %r1, " DATA("00") "\nldxb %r0, [%r1-1]\nexit\n"},
	{"global-data-unbounded-index", SF, 0, "unbounded",
	 "ldxw %r2, [%r1+0]\nlddw %r1, " DATA("00") "\nadd %r1, %r2\nldxb %r0, [%r1+0]\nexit\n"},
	{"get-current-comm-into-rodata", SF, 0, "write into map forbidden",
	 "lddw %r1, " RODATA("00") "\nmov %r2, 16\ncall 16\nexit\n"},
	{"ringbuf-reserve-on-hash", SF, 0, "cannot pass map_type",
	 "lddw %r1, " HASH "\nmov %r2, 8\nmov %r3, 0\ncall 131\nmov %r0, 0\nexit\n"},
	{"ringbuf-output-past-stack", SF, 0, "stack R2",
	 "mov %r2, %r10\nadd %r2, -8\nmov %r3, 16\nmov %r4, 0\nlddw %r1, " RB "\ncall 130\nexit\n"},
	{"ringbuf-discard-twice", SF, 0, "R1 type=scalar expected=ringbuf_mem",
	 RESERVE "jeq %r0, 0, +7\nmov %r6, %r0\nmov %r1, %r6\nmov %r2, 0\ncall 133\n"
		 "mov %r1, %r6\nmov %r2, 0\ncall 133\nmov %r0, 0\nexit\n"},
	{"ringbuf-leak-in-subprog", SF, 0, "Unreleased reference",
	 "call local f\nmov %r0, 0\nexit\nf:\n" RESERVE "mov %r0, 0\nexit\n"},
	{"ringbuf-read-past-end", SF, 0, "invalid access to mem",
	 RESERVE "jeq %r0, 0, +5\nldxdw %r1, [%r0+8]\nmov %r1, %r0\nmov %r2, 0\ncall 132\n"
		 "mov %r0, 0\nexit\n"},
	{"loop-callback-no-r0", SF, 0, "R0 !read_ok",
	 "mov %r1, 10\nlddw %r2, " FUNC("06") "\nmov %r3, 0\nmov %r4, 0\ncall 181\nmov %r0, 0\n"
					      "exit\nexit\n"},
	{"loop-callback-returns-pointer", SF, 0, "not a known value",
	 "mov %r1, 10\nlddw %r2, " FUNC("07") "\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 0\n"
					      "call 181\nmov %r0, 0\nexit\nmov %r0, %r2\nexit\n"},
	{"for-each-key-past-end", SF, 0, "invalid access to map key",
	 "lddw %r1, " ARR
	 "\nlddw %r2, " FUNC("06") "\nmov %r3, 0\nmov %r4, 0\ncall 164\n"
				   "mov %r0, 0\nexit\nldxdw %r0, [%r2+0]\nmov %r0, 0\nexit\n"},
	{"loop-count-uninit", SF, 0, "R1 !read_ok",
	 "call 5\nlddw %r2, " FUNC("06") "\nmov %r3, 0\nmov %r4, 0\ncall 181\nmov %r0, 0\n"
					 "exit\nmov %r0, 0\nexit\n"},
	{"xdp-adjust-head-socket-filter", SF, 0, "cannot use helper",
	 "mov %r2, 0\ncall 44\nexit\n"},
	{"skb-store-bytes-socket-filter", SF, 0, "cannot use helper",
	 "mov %r2, 0\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 8\nmov %r5, 0\ncall 9\nexit\n"},
	{"probe-read-str-xdp", XDP, 0, "cannot use helper",
	 "mov %r1, %r10\nadd %r1, -8\nmov %r2, 8\nmov %r3, 0\ncall 45\nexit\n"},
	{"tail-call-index-uninit", SF, 0, "R3 !read_ok",
	 "lddw %r2, " PROGS "\ncall 12\nmov %r0, 0\nexit\n"},
	{"xdp-adjust-head-stale-packet", XDP, 0, "invalid mem access 'scalar'",
	 "mov %r6, %r1\nldxw %r7, [%r6+0]\nldxw %r8, [%r6+4]\nmov %r4, %r7\nadd %r4, 8\n"
	 "mov %r0, 2\njgt %r4, %r8, +4\nmov %r1, %r6\nmov %r2, 0\ncall 44\nldxb %r0, [%r7+0]\n"
	 "exit\n"},
	/* tracepoint context */
	{"tracepoint-read", TP, 1, NULL, "ldxdw %r0, [%r1+8]\nexit\n"},
	{"tracepoint-write", TP, 0, "invalid bpf_context access",
	 "mov %r0, 0\nstxdw [%r1+8], %r0\nexit\n"},
	{"tracepoint-past-record", TP, 0, "invalid bpf_context access",
	 "ldxdw %r0, [%r1+8192]\nexit\n"},
	{"tracepoint-misaligned", TP, 0, "invalid bpf_context access",
	 "ldxdw %r0, [%r1+4]\nexit\n"},
	{"tracepoint-common-pid", TP, 0, "invalid bpf_context access",
	 "ldxw %r0, [%r1+4]\nexit\n"},
};

const unsigned rule_map_ncases = sizeof(rule_map_cases) / sizeof(rule_map_cases[0]);
