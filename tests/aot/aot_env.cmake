# The environment of every test that loads programs on the AOT engine, for
# their ENVIRONMENT property: UEBPF_AOT_TEST_ENV. The cache lives in the build
# tree, never in $HOME; the compiler is a wrapper that adds -Wall -Wextra
# -Werror, so generated C must compile without a warning; and a load that
# cannot compile fails instead of falling back to the JIT, so that a test of
# the AOT engine cannot pass on another one. Included by each directory with
# such tests; the paths are the same from all of them.
include_guard(DIRECTORY)
set(UEBPF_AOT_TEST_CACHE ${CMAKE_BINARY_DIR}/tests/aot/cache)
set(UEBPF_AOT_STRICT_CC ${CMAKE_BINARY_DIR}/tests/aot/strict-cc)
file(WRITE ${UEBPF_AOT_STRICT_CC}
  "#!/bin/sh\nexec ${CMAKE_C_COMPILER} -Wall -Wextra -Werror \"$@\"\n")
file(CHMOD ${UEBPF_AOT_STRICT_CC} PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
  GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(UEBPF_AOT_TEST_ENV
  "UEBPF_AOT_CACHE=${UEBPF_AOT_TEST_CACHE};UEBPF_CC=${UEBPF_AOT_STRICT_CC};UEBPF_AOT_FALLBACK=0")
