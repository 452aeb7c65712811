# uebpf aot and uebpf run --engine aot, as a user runs them: what they
# write, print and exit with, for good input and for each kind of bad input.
#
#   cmake -DUEBPF=... -DPROGS=tests/aot/progs -DWORK_DIR=... -P cli.cmake
#
# UEBPF_CC comes from the test's environment (the strict wrapper).

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(ENV{UEBPF_AOT_CACHE} ${WORK_DIR}/cache)

include(${CMAKE_CURRENT_LIST_DIR}/../common/cli_expect.cmake)

set(sum ${PROGS}/sum.s)

# The shared object: an ELF file that the AOT engine's loader would accept.
expect("aot -o" 0 "" "" aot ${sum} -o ${WORK_DIR}/sum.so)
if(EXISTS ${WORK_DIR}/sum.so)
  file(READ ${WORK_DIR}/sum.so magic LIMIT 4 HEX)
  if(NOT magic STREQUAL "7f454c46")
    message(SEND_ERROR "sum.so is no ELF file (starts with ${magic})")
  endif()
else()
  message(SEND_ERROR "uebpf aot -o wrote no sum.so")
endif()

# The C: each instruction as a comment right above its statement.
expect("aot --emit-c" 0
  "/\\* 2: add %r0, %r2 \\*/\n\tr0 \\+= r2;\n\t/\\* 3: sub %r2, 1 \\*/\n\tr2 -= 1;\n"
  "" aot --emit-c ${sum})
set(c_stdout "${last_stdout}")
foreach(want "L2:\n\t/\\* 2: add" "/\\* 4: jne %r2, 0, -3 \\*/\n\tif \\(r2 != 0\\)\n\t\tgoto L2;"
    "/\\* 5: ldxb %r3, \\[%r1\\+1\\] \\*/" "AOT_FAULT_MEM, 5, a, 1" "/\\* 7: exit \\*/\n\treturn r0;")
  if(NOT c_stdout MATCHES "${want}")
    message(SEND_ERROR "--emit-c output lacks '${want}'")
  endif()
endforeach()
expect("aot --emit-c -o" 0 "" "" aot --emit-c ${sum} -o ${WORK_DIR}/sum.c)
file(READ ${WORK_DIR}/sum.c c_file)
if(NOT c_file STREQUAL c_stdout)
  message(SEND_ERROR "--emit-c -o wrote other text than --emit-c prints")
endif()

# Bad input: each with its own message and status.
expect("missing file" 1 "" "nosuch.s: No such file" aot ${WORK_DIR}/nosuch.s -o x.so)
expect("unknown kind" 2 "" "unknown kind of program" aot ${PROGS}/../cli.cmake -o x.so)
expect("no output" 2 "" "give -o OUT.so, or --emit-c" aot ${sum})
expect("two files" 2 "" "expected one FILE, got 2" aot ${sum} ${sum} -o x.so)
expect("bad option" 2 "" "unknown option '--fast'" aot --fast ${sum} -o x.so)
expect("invalid program" 1 "" "load failed: insn 0: " aot ${PROGS}/bad_jump.s -o x.so)
expect("no compiler" 1 "" "C compiler '/nonexistent/cc' not found"
  aot ${sum} -o ${WORK_DIR}/nocc.so --cc /nonexistent/cc)
expect("bad output path" 1 "" "${WORK_DIR}/no/dir" aot ${sum} -o ${WORK_DIR}/no/dir/x.so)
if(EXISTS ${WORK_DIR}/nocc.so OR EXISTS ${WORK_DIR}/x.so)
  message(SEND_ERROR "a failed uebpf aot left an output file")
endif()

# uebpf run on the AOT engine: compiled into the cache, then from it.
expect("run --engine aot" 0 "Return value: 0x39 \\(57\\)" ""
  run --engine aot --mem "01 02" ${sum})
file(GLOB cached ${WORK_DIR}/cache/*.so)
list(LENGTH cached ncached)
if(NOT ncached EQUAL 1)
  message(SEND_ERROR "run --engine aot left ${ncached} objects in the cache, want 1")
endif()
set(ENV{UEBPF_CC} /nonexistent/cc)
expect("run --engine aot, cached" 0 "Return value: 0x3a \\(58\\)" ""
  run --engine aot --mem "01 03" ${sum})
# Another program, no compiler: the engine falls back and the answer is the
# same; unless told not to fall back.
set(ENV{UEBPF_AOT_FALLBACK} 0)
expect("run --engine aot without a compiler or fallback" 1 ""
  "load failed: C compiler '/nonexistent/cc' not found.*no fallback"
  run --engine aot --mem "00 00" ${PROGS}/two.s)
unset(ENV{UEBPF_AOT_FALLBACK})
expect("run --engine aot without a compiler" 0 "Return value: 0x2 \\(2\\)" ""
  run --engine aot --mem "00 00" ${PROGS}/two.s)
