# Prologue for uebpf in raw memory mode: r1 = data, r2 = its length.
mov %r3, %r1
mov %r4, %r1
add %r4, %r2
