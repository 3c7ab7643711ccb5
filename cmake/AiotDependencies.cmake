# Every dependency comes from a Debian 12 package; a missing one is a
# configure error that names the package (scripts/install-deps installs all).
macro(aiot_require package debian_package)
  find_package(${package} ${ARGN} QUIET)
  if(NOT ${package}_FOUND)
    message(FATAL_ERROR "${package} not found: install the Debian package "
                        "'${debian_package}' (or run scripts/install-deps)")
  endif()
endmacro()

find_package(Threads REQUIRED)
aiot_require(Boost libboost-dev 1.74)
aiot_require(OpenSSL libssl-dev 3)
aiot_require(nlohmann_json nlohmann-json3-dev 3.11)
aiot_require(spdlog libspdlog-dev 1.10)
aiot_require(CLI11 libcli11-dev 2.1)
aiot_require(SQLite3 libsqlite3-dev 3.40)
# Called once, here: a second find_package(PahoMqttCpp) is a configure error.
aiot_require(PahoMqttCpp "libpaho-mqttpp-dev and libpaho-mqtt-dev" 1.2)
find_package(PkgConfig REQUIRED)
pkg_check_modules(COAP IMPORTED_TARGET libcoap-3-openssl>=4.3.1)
if(NOT COAP_FOUND)
  message(FATAL_ERROR "libcoap-3-openssl not found: install the Debian package "
                      "'libcoap3-dev' (or run scripts/install-deps)")
endif()
# The NATS C client: several brokers as one (aiot-broker --nats). Through
# pkg-config: Debian's cnats CMake package names a static library the
# package does not ship, and find_package(cnats) fails on it.
pkg_check_modules(NATS IMPORTED_TARGET libnats>=3.3)
if(NOT NATS_FOUND)
  message(FATAL_ERROR "libnats not found: install the Debian package "
                      "'libnats-dev' (or run scripts/install-deps)")
endif()
if(AIOT_BUILD_TESTS)
  aiot_require(GTest libgtest-dev 1.12)
  include(GoogleTest)
endif()
