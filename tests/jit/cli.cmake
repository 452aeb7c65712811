# uebpf disasm --jit as a user runs it: the native code of a program, and a
# clear error with the right exit status for each kind of bad input.
#
#   cmake -DUEBPF=... -DPROGS=tests/aot/progs -P cli.cmake

include(${CMAKE_CURRENT_LIST_DIR}/../common/cli_expect.cmake)

expect("disasm --jit" 0 "0: ldxb %r0, \\[%r1\\].*movzx.*2: exit.*out of line" ""
  disasm --jit ${PROGS}/two.s)
expect("disasm --jit of an invalid program" 1 ""
  "uebpf disasm: insn 0: jump out of range" disasm --jit ${PROGS}/bad_jump.s)
expect("disasm --jit of a missing file" 1 "" "No such file or directory"
  disasm --jit ${PROGS}/missing.s)
expect("disasm with an unknown option" 2 "" "unknown option '--jat'"
  disasm --jat ${PROGS}/two.s)
