# Sanitizer and fuzzing builds (docs/TESTING.md), each in a build folder of
# its own. Both act through aiot_options, which every aiot target links, so
# all of aiot's own code is instrumented (Debian's libraries are not).
#   -DAIOT_SANITIZE=address,undefined   ASan + UBSan, any report aborts
#   -DAIOT_SANITIZE=thread              TSan
#   -DAIOT_FUZZ=ON                      the libFuzzer targets of tests/fuzz/
#                                       (configure with CC=clang CXX=clang++)
set(AIOT_SANITIZE "" CACHE STRING
    "Sanitizers for every aiot target: address,undefined or thread (empty: none)")
option(AIOT_FUZZ "Build the libFuzzer targets of tests/fuzz/ (clang only)" OFF)

if(AIOT_SANITIZE)
  target_compile_options(aiot_options INTERFACE
    -fsanitize=${AIOT_SANITIZE} -fno-omit-frame-pointer)
  target_link_options(aiot_options INTERFACE -fsanitize=${AIOT_SANITIZE})
  if(AIOT_SANITIZE MATCHES "undefined")
    # A UBSan report is an error, not a line in a log that nobody reads.
    target_compile_options(aiot_options INTERFACE -fno-sanitize-recover=all)
    # Not the vptr check: it probes memory through a pipe, so in the test
    # that exhausts the broker's file descriptors every error_category call
    # is reported as "invalid vptr" (and a suppression cannot be read then).
    target_compile_options(aiot_options INTERFACE -fno-sanitize=vptr)
    target_link_options(aiot_options INTERFACE -fno-sanitize=vptr)
  endif()
  # Line tables are all a report needs; full debug info made the sanitizer
  # builds a quarter slower (the Beast units most: broker_uplink.cpp 131 s
  # with -g, 101 s with -g1, under ASan+UBSan).
  target_compile_options(aiot_options INTERFACE -g1)
endif()

# Test tools that are Beast and little else (the reference server, the
# test websocket client and node): UBSan doubles their compile time for
# checks of Beast's own code; ASan stays. Called in the folder that builds
# them, with their sources.
function(aiot_no_ubsan)
  if(AIOT_SANITIZE MATCHES "undefined")
    set_source_files_properties(${ARGN} PROPERTIES COMPILE_OPTIONS "-fno-sanitize=undefined")
  endif()
endfunction()

if(AIOT_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "AIOT_FUZZ=ON needs clang (libFuzzer): configure a separate build "
                        "folder with CC=clang CXX=clang++ (Debian packages 'clang' and "
                        "'libclang-rt-14-dev')")
  endif()
  if(AIOT_SANITIZE)
    message(FATAL_ERROR "AIOT_FUZZ=ON brings its own sanitizers: leave AIOT_SANITIZE empty")
  endif()
  # Coverage feedback in every aiot library; ASan and UBSan catch what a
  # plain crash would not. The fuzz programs add -fsanitize=fuzzer.
  target_compile_options(aiot_options INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
    -fno-omit-frame-pointer)
  target_link_options(aiot_options INTERFACE -fsanitize=address,undefined)
endif()
