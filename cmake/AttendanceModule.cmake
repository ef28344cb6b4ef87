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

# The allocator of the programs that serve and measure (ledgerd, the tools,
# the benchmarks): jemalloc. Three profiles put glibc's malloc/free at 40-53%
# of the time (decoding events for a catch-up, a pupil's escalation, the
# fold), and its per-thread arenas held memory the ledger no longer used.
# Sanitizer and fuzz builds keep their own allocator; tests link
# attendance_malloc only through the programs they start.
option(ATTENDANCE_JEMALLOC "Link ledgerd, the tools and the benchmarks with jemalloc" ON)
add_library(attendance_malloc INTERFACE)
if(ATTENDANCE_JEMALLOC AND NOT ATTENDANCE_SANITIZE AND NOT ATTENDANCE_FUZZ)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)
  target_link_libraries(attendance_malloc INTERFACE PkgConfig::JEMALLOC)
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

# The dependency rule (README, "Layout"), checked when configuration ends so
# that a link added anywhere later is seen too: configuring fails if
# `target` links any of the FORBIDDEN targets, directly or through the
# libraries it links.
function(attendance_require_no_link target)
  # A deferred call expands its arguments when it runs: bake them in now.
  list(JOIN ARGN " " _forbidden)
  cmake_language(EVAL CODE "cmake_language(DEFER DIRECTORY \"${CMAKE_SOURCE_DIR}\"
    CALL _attendance_check_no_link ${target} ${_forbidden})")
endfunction()

function(_attendance_resolve out name)
  if(TARGET ${name})
    get_target_property(_aliased ${name} ALIASED_TARGET)
    if(_aliased)
      set(name ${_aliased})
    endif()
  endif()
  set(${out} ${name} PARENT_SCOPE)
endfunction()

function(_attendance_check_no_link target)
  set(_forbidden)
  foreach(_name ${ARGN})
    _attendance_resolve(_name ${_name})
    list(APPEND _forbidden ${_name})
  endforeach()
  set(_seen)
  set(_todo ${target})
  while(_todo)
    list(POP_FRONT _todo _current)
    if(_current IN_LIST _seen OR NOT TARGET ${_current})
      continue()
    endif()
    list(APPEND _seen ${_current})
    get_target_property(_type ${_current} TYPE)
    set(_links)
    if(NOT _type STREQUAL "INTERFACE_LIBRARY")
      get_target_property(_direct ${_current} LINK_LIBRARIES)
      if(_direct)
        list(APPEND _links ${_direct})
      endif()
    endif()
    get_target_property(_interface ${_current} INTERFACE_LINK_LIBRARIES)
    if(_interface)
      list(APPEND _links ${_interface})
    endif()
    foreach(_link ${_links})
      # $<LINK_ONLY:x> and the like: keep the target name.
      string(REGEX REPLACE "^\\$<[A-Z_]+:(.*)>$" "\\1" _link "${_link}")
      _attendance_resolve(_link "${_link}")
      if(_link IN_LIST _forbidden)
        message(FATAL_ERROR "${target} must not link ${_link} (reached through ${_current});"
          " see README, Layout: dependencies run one way")
      endif()
      list(APPEND _todo "${_link}")
    endforeach()
  endwhile()
endfunction()
