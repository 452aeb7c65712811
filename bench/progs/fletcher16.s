# Fletcher-16 over [r3, r4), shared by every engine after its prologue.
# r5 = s1 and r0 = s2 are 64-bit sums reduced modulo 255 only at the end.
#
# p (r3) is advanced before the load and compared with the end, so the
# kernel's verifier sees each byte proven inside the packet. It cannot bound
# a walk to an unknown end by itself, so r1 also counts the iterations down
# from 4096 (BENCH_FLETCHER16_CAP): inputs are at most that long. A larger
# cap would exceed the verifier's 8192 pending branches.
mov %r0, 0
mov %r5, 0
mov %r1, 4096
loop:
add %r3, 1
jgt %r3, %r4, done
ldxb %r2, [%r3-1]
add %r5, %r2
add %r0, %r5
sub %r1, 1
jne %r1, 0, loop
done:
mod %r5, 255
mod %r0, 255
lsh %r0, 8
or %r0, %r5
exit
