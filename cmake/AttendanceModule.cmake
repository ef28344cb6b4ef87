# Warnings and sanitizers for our own code; generated code does not get them.
add_library(attendance_options INTERFACE)
target_compile_options(attendance_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow
  -Wnon-virtual-dtor $<$<BOOL:${ATTENDANCE_WERROR}>:-Werror>)
if(ATTENDANCE_SANITIZE)
  list(JOIN ATTENDANCE_SANITIZE "," _san)
  target_compile_options(attendance_options INTERFACE -fsanitize=${_san} -fno-omit-frame-pointer)
  target_link_options(attendance_options INTERFACE -fsanitize=${_san})
endif()
# Coverage for libFuzzer plus ASan and UBSan (a UB report aborts, so the
# fuzzer keeps the input), on our code only: Debian's gcc-built gRPC,
# protobuf, absl and RocksDB link in uninstrumented.
if(ATTENDANCE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "ATTENDANCE_FUZZ needs clang: CXX=clang++ cmake -B build-fuzz ...")
  endif()
  set(ATTENDANCE_FUZZ_FLAGS -fsanitize=fuzzer-no-link,address,undefined
    -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_compile_options(attendance_options INTERFACE ${ATTENDANCE_FUZZ_FLAGS})
  target_link_options(attendance_options INTERFACE -fsanitize=address,undefined)
endif()

# One static library per top-level folder: attendance::<name>, with a public
# include/ and a private src/.
function(attendance_module name)
  cmake_parse_arguments(ARG "" "" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(attendance_${name} STATIC ${ARG_SRCS})
  add_library(attendance::${name} ALIAS attendance_${name})
  target_include_directories(attendance_${name} PUBLIC include PRIVATE src)
  target_link_libraries(attendance_${name}
    PUBLIC ${ARG_DEPS} PRIVATE attendance_options ${ARG_PRIVATE_DEPS})
endfunction()
