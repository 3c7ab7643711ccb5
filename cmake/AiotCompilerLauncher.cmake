# Use ccache when it is installed: rebuilds in several build folders share
# one cache. Nothing depends on it.
find_program(AIOT_CCACHE ccache)
if(AIOT_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_C_COMPILER_LAUNCHER "${AIOT_CCACHE}")
  set(CMAKE_CXX_COMPILER_LAUNCHER "${AIOT_CCACHE}")
endif()
