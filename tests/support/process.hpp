#pragma once
// A child process for end-to-end tests: stdout and stderr go to a log file,
// and the process is stopped (SIGTERM, then SIGKILL after 5 s) when the
// object dies. The child also gets SIGKILL if the test program dies.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

namespace aiot::test {

class process {
public:
    // Starts exe with args; throws std::runtime_error if it cannot start.
    process(const std::filesystem::path& exe, std::vector<std::string> args,
            std::filesystem::path log_path);
    ~process();
    process(const process&) = delete;
    process& operator=(const process&) = delete;

    pid_t pid() const { return pid_; }
    bool running();

    // Waits up to timeout for the process to end on its own. Returns its
    // status (see terminate), std::nullopt if it is still running.
    std::optional<int> wait(std::chrono::milliseconds timeout);

    // SIGTERM, then SIGKILL once timeout has passed. Returns the exit code,
    // or -N when the process died of signal N.
    int terminate(std::chrono::milliseconds timeout = std::chrono::seconds(5));

    // Sends a signal without waiting.
    void signal(int sig);

    // Everything the process wrote so far.
    std::string log() const;
    const std::filesystem::path& log_path() const { return log_path_; }

    // Polls the log until it contains text; false on timeout or if the
    // process ended without writing it.
    bool wait_for_log(std::string_view text,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10));

    // For a daemon started on port 0: polls the log for the first complete
    // line containing `marker` (e.g. "listening on") and returns the port
    // printed after it (the first "<digit or ]>:<port>"), 0 on timeout or
    // if the process ended first. No port is chosen before the daemon
    // binds, so nothing can take it in between (ctest -j).
    std::uint16_t wait_for_bound_port(std::string_view marker = "listening",
                                      std::chrono::milliseconds timeout = std::chrono::seconds(10));

    // Polls until a TCP connect to host:port succeeds; false on timeout or
    // if the process ended.
    bool wait_for_tcp_port(std::uint16_t port,
                           std::chrono::milliseconds timeout = std::chrono::seconds(10),
                           const std::string& host = "127.0.0.1");

private:
    bool reap(bool block);

    pid_t pid_ = -1;
    std::optional<int> status_;
    std::filesystem::path log_path_;
};

} // namespace aiot::test
