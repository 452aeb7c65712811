# Smoke test of uebpf-conformance-plugin as the bpf_conformance runner drives
# it: program on stdin or --program, memory as an argument, r0 in hex on
# stdout; a failure exits 1 with its message on stdout.
# Needs -DPLUGIN=<path> -DENGINE=<engine> -DWORK_DIR=<scratch dir>.
file(MAKE_DIRECTORY ${WORK_DIR})

function(expect name want_rc want_out)
  execute_process(COMMAND ${PLUGIN} --engine ${ENGINE} ${ARGN}
    INPUT_FILE ${WORK_DIR}/stdin
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc STREQUAL want_rc OR NOT out MATCHES "${want_out}")
    message(FATAL_ERROR "${name}: exit ${rc}, stdout '${out}', stderr '${err}'; "
                        "expected exit ${want_rc} and stdout matching '${want_out}'")
  endif()
  message(STATUS "ok: ${name}")
endfunction()

# ldxb %r0, [%r1+2]; exit
file(WRITE ${WORK_DIR}/stdin "71 10 02 00 00 00 00 00 95 00 00 00 00 00 00 00\n")
expect("program on stdin reads memory" 0 "^cc\n$" "aa bb cc")

# mov %r1..%r5, 1..5; call 0 (gather_bytes); exit
file(WRITE ${WORK_DIR}/stdin "")
expect("--program calls helper 0" 0 "^102030405\n$" --program
  "b7 01 00 00 01 00 00 00 b7 02 00 00 02 00 00 00 b7 03 00 00 03 00 00 00 \
b7 04 00 00 04 00 00 00 b7 05 00 00 05 00 00 00 85 00 00 00 00 00 00 00 \
95 00 00 00 00 00 00 00")

# three bytes are no instruction
file(WRITE ${WORK_DIR}/stdin "95 00 00\n")
expect("a bad program fails with its message on stdout" 1 "not a multiple of 8")
