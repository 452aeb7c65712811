# The first byte of the memory plus 2.
ldxb %r0, [%r1]
add %r0, 2
exit
