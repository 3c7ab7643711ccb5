# Compile options shared by every aiot target (linked PRIVATE everywhere).
add_library(aiot_options INTERFACE)
target_compile_features(aiot_options INTERFACE cxx_std_20)
target_compile_options(aiot_options INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor>
  $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra>
  $<$<BOOL:${AIOT_WARNINGS_AS_ERRORS}>:-Werror>)
# Boost 1.74's awaitable.hpp uses std::exchange without <utility> (asio #944).
# src/common/net.hpp includes it first; this covers any other Asio user.
target_compile_options(aiot_options INTERFACE
  "$<$<COMPILE_LANGUAGE:CXX>:SHELL:-include utility>")
set(CMAKE_CXX_EXTENSIONS OFF)
