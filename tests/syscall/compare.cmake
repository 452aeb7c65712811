# Run two commands (arguments separated by |) and require the same output:
#   cmake -DREF=cmd|args -DGOT=cmd|args [-DGOT_PRELOAD=lib:lib] -P compare.cmake
# REF exiting 77 (e.g. the kernel refused: not root) prints "SKIP:" and the
# reason, for the test's SKIP_REGULAR_EXPRESSION.
string(REPLACE "|" ";" ref_cmd "${REF}")
string(REPLACE "|" ";" got_cmd "${GOT}")
if(GOT_PRELOAD)
  set(got_cmd ${CMAKE_COMMAND} -E env "LD_PRELOAD=${GOT_PRELOAD}" ${got_cmd})
endif()
execute_process(COMMAND ${ref_cmd} OUTPUT_VARIABLE ref ERROR_VARIABLE ref_err RESULT_VARIABLE ref_rc)
if(ref_rc EQUAL 77)
  message("SKIP: the reference could not run: ${ref}${ref_err}")
  return()
endif()
if(NOT ref_rc EQUAL 0)
  message(FATAL_ERROR "reference failed (${ref_rc}):\n${ref}${ref_err}")
endif()
execute_process(COMMAND ${got_cmd} OUTPUT_VARIABLE got ERROR_VARIABLE got_err RESULT_VARIABLE got_rc)
if(NOT got_rc EQUAL 0 OR NOT got STREQUAL ref)
  message(FATAL_ERROR "outputs differ (exit ${got_rc})\n--- reference:\n${ref}${ref_err}--- uebpf:\n${got}${got_err}")
endif()
message("same output:\n${got}")
