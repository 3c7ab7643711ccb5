#include "riot_netns.hpp"

#include "support/system_helpers.hpp"

#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <sys/wait.h>
#include <unistd.h>

namespace aiot::test::riot {

std::filesystem::path apps_dir()
{
    return AIOT_RIOT_APPS_DIR;
}

std::filesystem::path app_elf(const std::string& app)
{
    return apps_dir() / app / ("aiot_" + app + ".elf");
}

std::optional<std::string> unavailable_reason(const std::vector<std::string>& apps)
{
    for (const auto& app : apps) {
        if (!std::filesystem::exists(app_elf(app))) {
            return fmt::format("no RIOT build of {} in {} (no RIOT tree: set RIOTBASE, or put "
                               "the RIOT archive in ../shared/riot/)",
                               app, apps_dir().string());
        }
    }
    if (std::getenv(netns_env) == nullptr) {
        return std::string("RIOT nodes need root and unshare(1) for a private network namespace");
    }
    return std::nullopt;
}

bool run(const std::string& command, std::string& log)
{
    log += "$ " + command + "\n";
    FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    if (p == nullptr) {
        log += "popen failed\n";
        return false;
    }
    char buf[512];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) {
        log.append(buf, n);
    }
    const int st = ::pclose(p);
    return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

std::string make_bridge(int taps)
{
    std::string log;
    std::vector<std::string> cmds = {
        "ip link set lo up",
        // no multicast snooping: neighbour discovery between nodes and host
        // is flaky with it
        "ip link add tapbr0 type bridge mcast_snooping 0",
        "ip link set tapbr0 addrgenmode none",
        "ip link set tapbr0 up",
    };
    for (int i = 0; i < taps; ++i) {
        const auto tap = fmt::format("tap{}", i);
        cmds.push_back(fmt::format("ip tuntap add {} mode tap user root", tap));
        cmds.push_back(fmt::format("ip link set {} address 02:00:00:00:{:02x}:01", tap, i + 1));
        cmds.push_back(fmt::format("ip link set {} addrgenmode none", tap));
        cmds.push_back(fmt::format("ip link set {} master tapbr0", tap));
        cmds.push_back(fmt::format("ip link set {} up", tap));
    }
    cmds.push_back("ip -6 addr add fe80::1/64 dev tapbr0 nodad");
    cmds.push_back("ip -6 addr add 2001:db8::1/64 dev tapbr0 nodad");
    for (const auto& c : cmds) {
        if (!run(c, log)) {
            return log;
        }
    }
    return {};
}

std::string node_link_local(int tap)
{
    // MAC 02:00:00:00:<tap+1>:02 -> EUI-64 with the U/L bit flipped
    return fmt::format("fe80::ff:fe00:{:x}02", tap + 1);
}

node::node(const std::string& app, int tap, int id, std::filesystem::path log_path)
    : proc_(std::make_unique<process>(
          app_elf(app),
          std::vector<std::string>{fmt::format("tap{}", tap), fmt::format("--id={}", id)},
          std::move(log_path)))
{
}

node::~node()
{
    stop();
}

namespace {

// The children of pid (all its threads), from /proc (the namespace's own,
// thanks to --mount-proc).
std::vector<pid_t> children(pid_t pid)
{
    std::vector<pid_t> out;
    std::error_code ec;
    for (const auto& task :
         std::filesystem::directory_iterator(fmt::format("/proc/{}/task", pid), ec)) {
        std::ifstream in(task.path() / "children");
        pid_t child;
        while (in >> child) {
            out.push_back(child);
        }
    }
    return out;
}

} // namespace

void node::stop()
{
    if (stopped_) {
        return;
    }
    stopped_ = true;
    // RIOT's TAP helper blocks almost every signal and outlives the node:
    // kill it first, then the node. Orphans are reaped by the kernel when
    // the namespace ends; reap what we can here.
    const auto helpers = children(proc_->pid());
    for (const auto c : helpers) {
        ::kill(c, SIGKILL);
    }
    proc_->signal(SIGKILL);
    proc_->terminate();
    for (const auto c : helpers) {
        eventually(
            [c] {
                ::waitpid(c, nullptr, WNOHANG); // ours once the node died (we are PID 1)
                return !std::filesystem::exists(fmt::format("/proc/{}", c));
            },
            std::chrono::seconds(5));
    }
}

} // namespace aiot::test::riot
