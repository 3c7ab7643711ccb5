// common::listener and common::stop_signals, in process, on loopback.
#include "common/listener.hpp"
#include "common/net.hpp"
#include "common/stop_signals.hpp"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <csignal>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

using namespace aiot;
using namespace std::chrono_literals;

namespace {

struct captured_log {
    std::ostringstream text;
    std::shared_ptr<spdlog::logger> log = std::make_shared<spdlog::logger>(
        "test", std::make_shared<spdlog::sinks::ostream_sink_st>(text));
};

std::size_t count(const std::string& text, const std::string& what)
{
    std::size_t n = 0;
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) {
        ++n;
    }
    return n;
}

} // namespace

TEST(listener, port_0_gives_the_real_bound_port_and_connections_arrive)
{
    net::io_context ioc;
    captured_log out;
    common::listener l(ioc, out.log);
    const auto bound = l.open("127.0.0.1", 0);
    ASSERT_NE(bound.port(), 0);
    EXPECT_EQ(l.local_endpoint(), bound);
    EXPECT_EQ(common::endpoint_text(bound), "127.0.0.1:" + std::to_string(bound.port()));
    int accepted = 0;
    l.start([&](tcp::socket) {
        if (++accepted == 2) {
            l.close();
        }
    });
    tcp::socket a(ioc), b(ioc);
    a.connect(bound);
    b.connect(bound);
    ioc.run_for(5s); // returns once closed: nothing left to do
    EXPECT_EQ(accepted, 2);
}

TEST(listener, a_port_in_use_is_a_clear_error_without_fallback)
{
    net::io_context ioc;
    captured_log out;
    common::listener first(ioc, out.log);
    const auto bound = first.open("::", 0);
    common::listener second(ioc, out.log);
    try {
        second.open("::", bound.port());
        FAIL() << "a second listener bound the same port";
    } catch (const std::runtime_error& e) {
        EXPECT_EQ(std::string(e.what()).find("cannot listen on :: port " +
                                             std::to_string(bound.port()) + ": "),
                  0u)
            << e.what();
    }
    EXPECT_EQ(out.text.str().find("0.0.0.0"), std::string::npos) << out.text.str();
}

TEST(listener, dual_stack_accepts_ipv4_on_the_ipv6_any_address)
{
    net::io_context ioc;
    captured_log out;
    common::listener l(ioc, out.log);
    const auto bound = l.open("::", 0);
    bool accepted = false;
    l.start([&](tcp::socket) {
        accepted = true;
        l.close();
    });
    tcp::socket a(ioc);
    a.connect({net::ip::make_address("127.0.0.1"), bound.port()});
    ioc.run_for(5s);
    EXPECT_TRUE(accepted);
}

TEST(listener, out_of_descriptors_is_logged_once_and_accepting_resumes)
{
    net::io_context ioc;
    captured_log out;
    common::listener l(ioc, out.log);
    const auto bound = l.open("127.0.0.1", 0);
    std::vector<tcp::socket> kept;
    l.start([&](tcp::socket s) { kept.push_back(std::move(s)); });

    // Leave no descriptor for accept(): lower the limit to what is open now.
    rlimit old{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &old), 0);
    std::vector<tcp::socket> clients;
    clients.emplace_back(ioc);
    clients.back().connect(bound); // its accept needs one more descriptor
    const int lowest_free = ::dup(0); // where the next descriptor would go
    ASSERT_GE(lowest_free, 0);
    ::close(lowest_free);
    rlimit low = old;
    low.rlim_cur = static_cast<rlim_t>(lowest_free);
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
    for (int i = 0; i < 3; ++i) { // several retries of 100 ms
        ioc.run_for(150ms);
    }
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &old), 0);
    const auto failing = out.text.str();
    EXPECT_EQ(count(failing, "accept failed"), 1u) << failing;
    EXPECT_TRUE(kept.empty());

    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (kept.empty() && std::chrono::steady_clock::now() < deadline) {
        ioc.run_for(50ms);
    }
    EXPECT_EQ(kept.size(), 1u);
    EXPECT_EQ(count(out.text.str(), "accepting connections again"), 1u) << out.text.str();
}

TEST(stop_signals, first_signal_calls_on_stop_once_and_run_returns)
{
    net::io_context ioc;
    std::vector<int> seen;
    common::stop_signals signals(ioc, [&](int signal) { seen.push_back(signal); });
    std::raise(SIGTERM);
    ioc.run_for(5s); // returns as soon as the signal was handled: no work left
    EXPECT_EQ(seen, std::vector<int>{SIGTERM});
}

TEST(stop_signals, after_the_first_signal_a_second_one_ends_the_process)
{
    // The second SIGINT or SIGTERM must not wait for a graceful stop: after
    // the first, both signals have their default action (terminate) again.
    net::io_context ioc;
    int calls = 0;
    common::stop_signals signals(ioc, [&](int) { ++calls; });
    struct sigaction action {};
    ASSERT_EQ(::sigaction(SIGINT, nullptr, &action), 0);
    EXPECT_NE(action.sa_handler, SIG_DFL) << "not caught before the first signal";
    std::raise(SIGINT);
    ioc.run_for(5s);
    EXPECT_EQ(calls, 1);
    for (const int sig : {SIGINT, SIGTERM}) {
        ASSERT_EQ(::sigaction(sig, nullptr, &action), 0);
        EXPECT_EQ(action.sa_handler, SIG_DFL) << "signal " << sig;
    }
}

TEST(stop_signals, cancel_leaves_nothing_pending)
{
    net::io_context ioc;
    bool called = false;
    common::stop_signals signals(ioc, [&](int) { called = true; });
    signals.cancel();
    const auto start = std::chrono::steady_clock::now();
    ioc.run_for(5s);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
    EXPECT_FALSE(called);
}
