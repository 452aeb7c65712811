# Perf event arrays and ring buffers through libbpf's consumers (included
# from CMakeLists.txt): the same reader with uebpf's interposition, plain
# under the shim, and plain on the kernel; then across processes.
set(rings_obj ${CMAKE_CURRENT_BINARY_DIR}/rings.bpf.o)
uebpf_bpf_object(${rings_obj} ${CMAKE_CURRENT_SOURCE_DIR}/rings.bpf.c)
add_custom_target(rings_progs ALL DEPENDS ${rings_obj})

add_executable(rings_reader-uebpf rings_reader.c $<TARGET_OBJECTS:uebpf_interpose>)
target_link_libraries(rings_reader-uebpf PRIVATE uebpf PkgConfig::LIBBPF)
add_executable(rings_reader-plain rings_reader.c)
target_link_libraries(rings_reader-plain PRIVATE PkgConfig::LIBBPF)
add_executable(test_rings test_rings.c ${CMAKE_SOURCE_DIR}/tests/common/child.c)
target_include_directories(test_rings PRIVATE ${CMAKE_SOURCE_DIR}/tests/common ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(test_rings PRIVATE uebpf)
add_dependencies(test_rings rings_progs rings_reader-uebpf rings_reader-plain uebpf-shim)
foreach(engine interp jit aot)
  add_test(NAME syscall-rings-${engine} COMMAND test_rings $<TARGET_FILE:rings_reader-uebpf>
    $<TARGET_FILE:rings_reader-plain> ${shim_preload} ${rings_obj})
  set_tests_properties(syscall-rings-${engine} PROPERTIES ENVIRONMENT UEBPF_ENGINE=${engine}
    TIMEOUT 60)
endforeach()
set_tests_properties(syscall-rings-aot PROPERTIES ENVIRONMENT "UEBPF_ENGINE=aot;${UEBPF_AOT_TEST_ENV}")

# Across processes: the loader under `uebpf load`, the target under `uebpf start`.
add_executable(rings_target rings_target.c)
set(rings_probe_obj ${CMAKE_CURRENT_BINARY_DIR}/rings_probe.bpf.o)
uebpf_bpf_object(${rings_probe_obj} ${CMAKE_CURRENT_SOURCE_DIR}/rings_probe.bpf.c
  FLAGS -D__TARGET_ARCH_x86 -DTARGET="$<TARGET_FILE:rings_target>")
add_custom_target(rings_probe_prog ALL DEPENDS ${rings_probe_obj})
add_executable(rings_loader rings_loader.c)
target_link_libraries(rings_loader PRIVATE PkgConfig::LIBBPF)
add_executable(test_rings_xproc test_rings_xproc.c ${CMAKE_SOURCE_DIR}/tests/common/child.c)
target_include_directories(test_rings_xproc PRIVATE ${CMAKE_SOURCE_DIR}/tests/common
  ${CMAKE_SOURCE_DIR}/src)
target_link_libraries(test_rings_xproc PRIVATE uebpf)
add_dependencies(test_rings_xproc rings_probe_prog rings_loader rings_target uebpf-cli uebpf-shim
  uebpf-agent)
add_test(NAME syscall-rings-xproc COMMAND test_rings_xproc $<TARGET_FILE:uebpf-cli>
  $<TARGET_FILE:rings_loader> $<TARGET_FILE:rings_target> ${rings_probe_obj})
set_tests_properties(syscall-rings-xproc PROPERTIES TIMEOUT 90)
# An ASan build's loader and target need the sanitizer runtimes loaded
# before the shim and the agent that `uebpf load` and `start` preload.
if(UEBPF_SANITIZE)
  set(rings_sanitizers)
  foreach(rt asan ubsan)
    execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=lib${rt}.so
      OUTPUT_VARIABLE rt_path OUTPUT_STRIP_TRAILING_WHITESPACE)
    list(APPEND rings_sanitizers ${rt_path})
  endforeach()
  string(REPLACE ";" ":" rings_sanitizers "${rings_sanitizers}")
  set_tests_properties(syscall-rings-xproc PROPERTIES ENVIRONMENT "LD_PRELOAD=${rings_sanitizers}")
endif()
