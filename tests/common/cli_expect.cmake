# expect(): the CLI scripts' one check of a uebpf command, for cmake -P
# scripts that set UEBPF.

# Runs uebpf with ARGN; checks the exit status and that stdout and stderr
# match the given patterns (OUT / ERR, each may be empty). Every failed check
# is a SEND_ERROR: the script goes on, and exits non-zero at the end.
function(expect name status out err)
  execute_process(COMMAND ${UEBPF} ${ARGN}
    RESULT_VARIABLE got OUTPUT_VARIABLE stdout ERROR_VARIABLE stderr)
  set(why "")
  if(NOT got STREQUAL status)
    string(APPEND why " exit status ${got}, want ${status};")
  endif()
  if(out AND NOT stdout MATCHES "${out}")
    string(APPEND why " stdout lacks '${out}';")
  endif()
  if(err AND NOT stderr MATCHES "${err}")
    string(APPEND why " stderr lacks '${err}';")
  endif()
  if(why)
    message(SEND_ERROR "${name}:${why}\n--- stdout ---\n${stdout}--- stderr ---\n${stderr}")
  else()
    message(STATUS "ok: ${name}")
  endif()
  set(last_stdout "${stdout}" PARENT_SCOPE)
endfunction()
