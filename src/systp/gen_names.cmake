# Writes OUT, the C table of x86-64 system call names and numbers, from the
# kernel's UAPI header IN (Debian's asm/unistd_64.h): one entry per
# "#define __NR_name number" line, in the header's order.
file(STRINGS "${IN}" lines REGEX "^#define __NR_[a-z0-9_]+ [0-9]+$")
if(NOT lines)
  message(FATAL_ERROR "${IN}: no __NR_ definitions")
endif()
set(body "/* Generated from ${IN} by gen_names.cmake: do not edit. */\n")
foreach(line IN LISTS lines)
  string(REGEX REPLACE "^#define __NR_([a-z0-9_]+) ([0-9]+)$" "\\1;\\2" pair "${line}")
  list(GET pair 0 name)
  list(GET pair 1 nr)
  string(APPEND body "{\"${name}\", ${nr}},\n")
endforeach()
file(WRITE "${OUT}.tmp" "${body}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
