#pragma once
// A mosquitto broker for end-to-end tests and benchmarks: a config file in
// a temp folder makes it listen on 127.0.0.1:<port> only, with no
// persistence; the returned process stops it (by PID) when it dies.
// Header-only: the caller passes the mosquitto path (find_program).
#include "support/process.hpp"

#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

namespace aiot::test {

// extra_config: more lines for mosquitto.conf (e.g. "max_inflight_messages 0").
inline std::unique_ptr<process> start_mosquitto(const std::filesystem::path& exe,
                                                std::uint16_t port,
                                                const std::filesystem::path& dir,
                                                const std::string& name = "mosquitto",
                                                const std::string& extra_config = "")
{
    const auto conf = dir / (name + ".conf");
    {
        std::ofstream out(conf);
        out << "listener " << port << " 127.0.0.1\n"
            << "allow_anonymous true\n"
            << "persistence false\n"
            << "max_queued_messages 100000\n"
            // Started as root, mosquitto would switch to its own user, which
            // clears test::process's kill-with-parent setting: keep the user.
            << "user root\n"
            << extra_config << "\n";
    }
    auto p = std::make_unique<process>(exe, std::vector<std::string>{"-c", conf.string()},
                                       dir / (name + ".log"));
    if (!p->wait_for_tcp_port(port)) {
        throw std::runtime_error("mosquitto did not start on port " + std::to_string(port) +
                                 ": " + p->log());
    }
    return p;
}

} // namespace aiot::test
