#pragma once
// RIOT native64 nodes for end-to-end tests: a private network namespace
// with a bridge and one TAP per node, and the node processes on them.
//
// The test program re-executes itself under `unshare --net --pid --fork
// --kill-child --mount-proc` (see riot_main.cpp): every packet stays in the
// namespace, and when the program (PID 1 there) ends, the kernel kills every
// process left in it, including RIOT's TAP helper children. Inside, fixed
// ports are fine: nothing else lives in the namespace.
#include "support/process.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace aiot::test::riot {

// Set by riot_main.cpp in the re-executed program.
constexpr const char* netns_env = "AIOT_RIOT_NETNS";

// The folder of the built applications (<dir>/<app>/aiot_<app>.elf).
std::filesystem::path apps_dir();
std::filesystem::path app_elf(const std::string& app);

// Why the RIOT tests cannot run here (one line), or std::nullopt.
std::optional<std::string> unavailable_reason(const std::vector<std::string>& apps);

// Runs a shell command line; its output is appended to `log`. True on exit 0.
bool run(const std::string& command, std::string& log);

// Brings lo up and makes bridge tapbr0 (fe80::1/64 and 2001:db8::1/64, no
// kernel-made address) with `taps` TAP interfaces tap0..tapN-1, MAC
// 02:00:00:00:0<i+1>:01 (node i takes that MAC + 1). Returns the error
// text, empty on success.
std::string make_bridge(int taps);

// The link-local address a node on tap i configures (EUI-64 of its MAC).
std::string node_link_local(int tap);

// A RIOT native node on tap<tap> with --id=<id>, its output in log_path.
class node {
public:
    node(const std::string& app, int tap, int id, std::filesystem::path log_path);
    ~node();
    node(const node&) = delete;
    node& operator=(const node&) = delete;

    // Kills the node's TAP helper children first, then the node, and waits
    // for the TAP to be free again.
    void stop();
    std::string log() const { return proc_->log(); }
    bool wait_for_log(std::string_view text, std::chrono::milliseconds timeout)
    {
        return proc_->wait_for_log(text, timeout);
    }

private:
    std::unique_ptr<process> proc_;
    bool stopped_ = false;
};

} // namespace aiot::test::riot
