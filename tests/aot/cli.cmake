# uebpf aot and uebpf run --engine aot, as a user runs them: what they
# write, print and exit with, for good input and for each kind of bad input.
#
#   cmake -DUEBPF=... -DPROGS=tests/aot/progs -DWORK_DIR=... -P cli.cmake
#
# UEBPF_CC comes from the test's environment (the strict wrapper).

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(ENV{UEBPF_AOT_CACHE} ${WORK_DIR}/cache)
set(strict_cc "$ENV{UEBPF_CC}")

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

# ELF objects: loaded as uebpf run loads them, maps and all.
set(ENV{UEBPF_CC} "${strict_cc}")
set(gd ${OBJS}/global_data.bpf.o)
set(tc ${OBJS}/tail_call.bpf.o)
expect("aot OBJ -o" 0 "" "" aot ${gd} -o ${WORK_DIR}/gd.so)
if(EXISTS ${WORK_DIR}/gd.so)
  file(READ ${WORK_DIR}/gd.so magic LIMIT 4 HEX)
  if(NOT magic STREQUAL "7f454c46")
    message(SEND_ERROR "gd.so is no ELF file (starts with ${magic})")
  endif()
else()
  message(SEND_ERROR "uebpf aot OBJ -o wrote no gd.so")
endif()
expect("aot OBJ --emit-c" 0
  "/\\* 20: lddw %r1, map 3 \\*/\n\tr1 = map3;.*/\\* 22: call 1 \\*/\n.*map3_base \\+ \\(uint64_t\\)k \\* 8"
  "" aot --emit-c ${gd})
expect("aot OBJ, several programs" 1 "" "several programs: give --prog NAME; the object has: target entry"
  aot ${tc} -o ${WORK_DIR}/tc.so)
expect("aot OBJ --prog" 0 "" "" aot ${tc} --prog entry -o ${WORK_DIR}/entry.so)
expect("aot OBJ --prog unknown" 1 "" "no program 'nosuch'; the object has: target entry"
  aot ${tc} --prog nosuch -o ${WORK_DIR}/x.so)
file(MAKE_DIRECTORY ${WORK_DIR}/all)
expect("aot OBJ -o DIR" 0 "" "" aot ${tc} -o ${WORK_DIR}/all)
foreach(p entry target)
  if(NOT EXISTS ${WORK_DIR}/all/${p}.so)
    message(SEND_ERROR "uebpf aot OBJ -o DIR wrote no ${p}.so")
  endif()
endforeach()
expect("aot --prog on a program file" 2 "" "is not an ELF object: --prog is for objects"
  aot ${sum} --prog x -o x.so)
expect("aot bad object" 1 "" "load failed" aot ${OBJS}/bad_map.bpf.o -o ${WORK_DIR}/bad.so)

# run --engine aot on objects with maps: compiled once, then from the cache
# with no compiler at all; callbacks run.
set(ENV{UEBPF_AOT_FALLBACK} 0)
expect("run OBJ --engine aot" 0 "Return value: 2," ""
  run ${gd} --engine aot --data-in ${PROGS}/zero64.bin)
set(ENV{UEBPF_CC} /nonexistent/cc)
expect("run OBJ --engine aot, cached" 0 "Return value: 2,.*counts.*key 01000000  value 0300"
  "" run ${gd} --engine aot --data-in ${PROGS}/zero64.bin --dump-maps)
set(ENV{UEBPF_CC} "${strict_cc}")
expect("run OBJ with callbacks --engine aot" 0 "Return value: 4603," ""
  run ${AOT_OBJS}/callbacks.bpf.o --engine aot --data-in ${PROGS}/zero64.bin)
unset(ENV{UEBPF_AOT_FALLBACK})
