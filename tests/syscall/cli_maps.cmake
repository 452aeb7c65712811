# uebpf maps as a user runs it: an object's maps as libbpf sees them, their
# contents after a load, a map pinned by name read back by its pin after
# two `uebpf run`s (each in its own process) counted in it, and a clear
# error with the right exit status for each kind of bad input.
#
#   cmake -DUEBPF=... -DPROGS=<build>/tests/progs -DSTATE=DIR -P cli_maps.cmake

include(${CMAKE_CURRENT_LIST_DIR}/../common/cli_expect.cmake)

# pins go to a state directory of this test's own, removed at the end
file(REMOVE_RECURSE ${STATE})
set(ENV{UEBPF_STATE_DIR} ${STATE})
unset(ENV{UEBPF_PIN_DIR})
file(WRITE ${STATE}.pkt "")
foreach(i RANGE 63)
  file(APPEND ${STATE}.pkt "x")
endforeach()

expect("maps lists an object's maps" 0
  "counts: array key 4 value 8 max_entries 4 flags 0x0 pinning none\nseen: hash key 4 value 8 max_entries 16.*global_d.rodata: array key 4 value 8 max_entries 1 flags 0x480 \\(rdonly_prog,mmapable\\)"
  "" maps ${PROGS}/global_data.bpf.o)
expect("maps --contents shows global data's initial values" 0
  "map global_d.rodata \\(array, key 4, value 8 bytes, 1 entries\\)\n  0 => 3\nmap global_d.data \\(array, key 4, value 8 bytes, 1 entries\\)\n  0 => 10"
  "" maps ${PROGS}/global_data.bpf.o --contents)
expect("maps names where a map pinned by name goes" 0
  "runs: hash key 4 value 8 max_entries 8 flags 0x0 pinning /sys/fs/bpf/runs" ""
  maps ${PROGS}/pinned.bpf.o)
expect("first run" 0 "Return value: 2" "" run ${PROGS}/pinned.bpf.o --data-in ${STATE}.pkt)
expect("second run" 0 "Return value: 2" "" run ${PROGS}/pinned.bpf.o --data-in ${STATE}.pkt)
expect("maps --pinned reads what both runs counted" 0
  "runs: hash key 4 value 8 max_entries 8 flags 0x0 pinned /sys/fs/bpf/runs\n  00000000 => 0200000000000000"
  "" maps --pinned /sys/fs/bpf/runs)
expect("maps --contents of the object reuses the pinned map" 0
  "map runs \\(hash, key 4, value 8 bytes, 1 entries\\)\n  0 => 2" ""
  maps ${PROGS}/pinned.bpf.o --contents)

expect("maps without an object" 2 "" "expected one OBJ" maps)
expect("maps of a file that is no object" 1 "" "not an ELF object" maps ${STATE}.pkt)
expect("maps of a missing pin" 1 "" "No such file or directory"
  maps --pinned /sys/fs/bpf/none)
expect("maps --pinned with an object" 2 "" "takes no object"
  maps --pinned /sys/fs/bpf/runs ${PROGS}/pinned.bpf.o)
expect("maps with an unknown option" 2 "" "unknown option '--contnets'"
  maps ${PROGS}/pinned.bpf.o --contnets)

file(REMOVE_RECURSE ${STATE})
file(REMOVE ${STATE}.pkt)
