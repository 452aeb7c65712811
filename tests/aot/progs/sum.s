# 10 + 9 + ... + 1, plus the second byte of the memory: 57 for "01 02".
mov %r0, 0
mov %r2, 10
loop:
add %r0, %r2
sub %r2, 1
jne %r2, 0, loop
ldxb %r3, [%r1+1]
add %r0, %r3
exit
