#pragma once
// Small helpers for end-to-end tests: free loopback ports, a temporary
// folder, and polling with a deadline instead of sleeping.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>

namespace aiot::test {

using namespace std::chrono_literals;

// A port that was free on 127.0.0.1 a moment ago (bound to port 0, then
// released): another test may take it before the caller binds it (ctest
// -j). Only for a peer that needs its port up front (mosquitto, a daemon
// whose log cannot be read); start our daemons on port 0 and read the
// port back with process::wait_for_bound_port.
std::uint16_t free_tcp_port();
std::uint16_t free_udp_port();

// A blocking TCP socket connected to 127.0.0.1:port (with TCP_NODELAY when
// no_delay, and a receive buffer of rcvbuf bytes when > 0, set before
// connecting), or -1 if the connection failed. The caller closes it.
int connect_loopback(std::uint16_t port, bool no_delay = false, int rcvbuf = 0);

// A fresh folder under the system temp folder, removed with its contents
// when the object dies.
class temp_dir {
public:
    temp_dir();
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::filesystem::path& p) const { return path_ / p; }

private:
    std::filesystem::path path_;
};

// Calls pred until it returns true (true) or the timeout passes (false),
// polling every `period`.
bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout = 5s,
                std::chrono::milliseconds period = 10ms);

} // namespace aiot::test
