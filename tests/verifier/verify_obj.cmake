# One object of the accepted/rejected corpus: `uebpf verify OBJ --stats` must
# give EXPECT (accept or reject); as root with bpftool, the kernel's verifier
# must give KERNEL (accept, reject), or the test says where they differ
# (KERNEL=differs: a difference listed in KNOWN_DIFFERENCES.md).
execute_process(COMMAND ${UEBPF} verify ${OBJ} --stats
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(EXPECT STREQUAL "accept" AND NOT rc EQUAL 0)
  message(FATAL_ERROR "uebpf rejects ${OBJ}")
elseif(EXPECT STREQUAL "reject" AND NOT out MATCHES "REJECTED")
  message(FATAL_ERROR "uebpf does not reject ${OBJ} (exit ${rc})")
endif()
execute_process(COMMAND id -u OUTPUT_VARIABLE uid OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT BPFTOOL OR NOT uid STREQUAL "0")
  message("kernel half skipped: needs root and bpftool")
  return()
endif()
set(pin /sys/fs/bpf/uebpf-verify-${NAME})
file(REMOVE_RECURSE ${pin})
execute_process(COMMAND ${BPFTOOL} prog loadall ${OBJ} ${pin}
  RESULT_VARIABLE krc OUTPUT_QUIET ERROR_VARIABLE kerr)
file(REMOVE_RECURSE ${pin})
if(krc EQUAL 0)
  set(kernel accept)
else()
  set(kernel reject)
endif()
message("kernel verifier: ${kernel}")
if(KERNEL STREQUAL "differs")
  if(kernel STREQUAL EXPECT)
    message(FATAL_ERROR "the kernel now agrees (${kernel}): update KNOWN_DIFFERENCES.md")
  endif()
elseif(NOT kernel STREQUAL KERNEL)
  string(SUBSTRING "${kerr}" 0 3000 kerr)
  message(FATAL_ERROR "kernel: ${kernel}, expected ${KERNEL}\n${kerr}")
endif()

# COMPARE_INSNS: each program's instructions processed, uebpf's and the
# kernel's (its log, through bpftool -d); uebpf's pruning must not explore
# more than twice what the kernel's does.
if(NOT COMPARE_INSNS OR NOT kernel STREQUAL "accept")
  return()
endif()
# the full log is megabytes: only its headers and statistics lines are kept
execute_process(COMMAND sh -c "\"$0\" -d prog loadall \"$1\" \"$2\" 2>&1 | grep -E 'BEGIN PROG LOAD LOG|^processed'"
    ${BPFTOOL} ${OBJ} ${pin}
  RESULT_VARIABLE krc OUTPUT_VARIABLE klog)
file(REMOVE_RECURSE ${pin})
string(REGEX MATCHALL "[a-z_0-9]+: [0-9]+ insns processed" ours "${out}")
foreach(line ${ours})
  string(REGEX REPLACE ":.*" "" prog "${line}")
  string(REGEX REPLACE "^[^ ]+ ([0-9]+) .*" "\\1" n "${line}")
  string(FIND "${klog}" "prog '${prog}': -- BEGIN PROG LOAD LOG --" pos)
  if(pos LESS 0)
    message(FATAL_ERROR "no kernel log for ${prog}")
  endif()
  string(SUBSTRING "${klog}" ${pos} -1 rest)
  string(REGEX MATCH "processed ([0-9]+) insns" m "${rest}")
  set(k ${CMAKE_MATCH_1})
  message("${prog}: processed insns: uebpf ${n}, kernel ${k}")
  math(EXPR twice "2 * ${k}")
  if(n GREATER twice)
    message(FATAL_ERROR "${prog}: uebpf processes ${n} insns, more than twice the kernel's ${k}")
  endif()
endforeach()
