# Prologue for a SCHED_CLS program: data and data_end of struct __sk_buff,
# read as 32-bit fields that the verifier rewrites into packet pointers.
ldxw %r3, [%r1+76]
ldxw %r4, [%r1+80]
