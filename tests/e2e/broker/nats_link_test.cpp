// nats_link against libnats' threads and a real nats-server (Debian's):
// messages reach the loop in order, the inbox bound holds, a restarted
// server is reconnected to, and a link destroyed while messages pour in
// calls nothing afterwards. scripts/sanitize runs this under ASan and TSan.
#include "broker/nats_link.hpp"
#include "common/logging.hpp"
#include "support/process.hpp"
#include "support/run_until.hpp"
#include "support/system_helpers.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <thread>
#include <memory>
#include <string>
#include <vector>

using namespace aiot;
using aiot::broker::nats_config;
using aiot::broker::nats_link;
using aiot::broker::publication;
using namespace std::chrono_literals;

namespace {

using aiot::test::run_until;

// libnats' own threads end before the process does (as in aiot-broker's
// main).
class nats_library : public ::testing::Environment {
public:
    void TearDown() override { nats_link::shutdown_library(); }
};
const auto* const library_env = ::testing::AddGlobalTestEnvironment(new nats_library);

class nats_link_test : public ::testing::Test {
protected:
    void SetUp() override
    {
        port_ = test::free_tcp_port();
        start_server();
    }

    void start_server()
    {
        server_.reset();
        server_ = std::make_unique<test::process>(
            AIOT_NATS_SERVER_EXE,
            std::vector<std::string>{"-a", "127.0.0.1", "-p", std::to_string(port_)},
            dir_.path() / ("nats-" + std::to_string(++starts_) + ".log"));
        ASSERT_TRUE(server_->wait_for_log("Server is ready")) << server_->log();
    }

    nats_config config(std::size_t inbox = 100000) const
    {
        nats_config c;
        c.servers = {"nats://127.0.0.1:" + std::to_string(port_)};
        c.max_inbox_messages = inbox;
        c.reconnect_wait = 100ms;
        return c;
    }

    net::io_context ioc_{1};
    // libnats posts from its threads: the loop must not stop for lack of work.
    net::executor_work_guard<net::io_context::executor_type> work_ = net::make_work_guard(ioc_);
    test::temp_dir dir_;
    std::uint16_t port_ = 0;
    int starts_ = 0;
    std::unique_ptr<test::process> server_;
    std::shared_ptr<spdlog::logger> log_ = common::get_logger("nats");
};

} // namespace

TEST_F(nats_link_test, messages_of_one_publisher_arrive_on_the_loop_in_order)
{
    std::vector<std::string> got;
    std::thread::id loop_thread = std::this_thread::get_id();
    bool off_loop = false;
    nats_link rx(ioc_, config(),
                 {[&](std::string_view subject, std::string_view data) {
                      off_loop |= std::this_thread::get_id() != loop_thread;
                      got.push_back(std::string(subject) + "=" + std::string(data));
                  },
                  [](bool) {}},
                 log_);
    rx.start({"t.a.*", "t.b.*"});
    nats_link tx(ioc_, config(), {[](auto, auto) {}, [](bool) {}}, log_);
    tx.start({});
    // Both connected at start(), rx's subscriptions at the server.
    ASSERT_TRUE(rx.connected() && tx.connected());
    constexpr int n = 5000;
    for (int i = 0; i < n; ++i) {
        // Two subjects, two subscriptions: one order all the same.
        ASSERT_TRUE(tx.publish({i % 2 ? "t.a.x" : "t.b.y", std::to_string(i)}));
    }
    ASSERT_TRUE(run_until(ioc_, [&] { return got.size() >= n; }, 10s)) << got.size();
    for (int i = 0; i < n; ++i) {
        ASSERT_EQ(got[static_cast<std::size_t>(i)],
                  std::string(i % 2 ? "t.a.x=" : "t.b.y=") + std::to_string(i));
    }
    EXPECT_FALSE(off_loop);
    EXPECT_EQ(rx.stats().received, static_cast<std::uint64_t>(n));
    EXPECT_EQ(tx.stats().published, static_cast<std::uint64_t>(n));
}

TEST_F(nats_link_test, a_loop_that_falls_behind_drops_beyond_the_inbox_bound)
{
    std::size_t got = 0;
    nats_link rx(ioc_, config(10), {[&](auto, auto) { ++got; }, [](bool) {}}, log_);
    rx.start({"t.>"});
    nats_link tx(ioc_, config(), {[](auto, auto) {}, [](bool) {}}, log_);
    tx.start({});
    ASSERT_TRUE(rx.connected() && tx.connected());
    // The loop does not run while 1,000 messages arrive.
    for (int i = 0; i < 1000; ++i) {
        tx.publish({"t.x", std::to_string(i)});
    }
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (rx.stats().received + rx.stats().dropped < 1000 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms); // libnats' threads work; the loop is held on purpose
    }
    EXPECT_EQ(rx.stats().received, 10u);
    EXPECT_EQ(rx.stats().dropped, 990u);
    run_until(ioc_, [&] { return got == 10; }, 5s);
    EXPECT_EQ(got, 10u);
}

TEST_F(nats_link_test, a_restarted_server_is_connected_to_again)
{
    std::vector<bool> status;
    std::vector<std::string> got;
    nats_link rx(ioc_, config(),
                 {[&](auto, std::string_view data) { got.emplace_back(data); },
                  [&](bool up) { status.push_back(up); }},
                 log_);
    rx.start({"t.>"});
    nats_link tx(ioc_, config(), {[](auto, auto) {}, [](bool) {}}, log_);
    tx.start({});
    ASSERT_TRUE(run_until(ioc_, [&] { return rx.connected() && tx.connected(); }, 5s));
    server_->terminate(5s); // nats-server ends with status 1 on SIGTERM
    ASSERT_TRUE(run_until(ioc_, [&] { return !status.empty() && !status.back(); }, 5s));
    EXPECT_FALSE(rx.connected());
    start_server();
    ASSERT_TRUE(run_until(ioc_, [&] { return rx.connected() && tx.connected(); }, 10s));
    ASSERT_TRUE(run_until(ioc_, [&] { return !status.empty() && status.back(); }, 5s));
    // After the reconnection, what is published arrives (the subscription
    // was made again by libnats).
    ASSERT_TRUE(run_until(
        ioc_,
        [&] {
            tx.publish({"t.after", "x"});
            return !got.empty();
        },
        5s));
}

TEST_F(nats_link_test, a_link_destroyed_while_messages_pour_in_calls_nothing_afterwards)
{
    nats_link tx(ioc_, config(), {[](auto, auto) {}, [](bool) {}}, log_);
    tx.start({});
    ASSERT_TRUE(run_until(ioc_, [&] { return tx.connected(); }, 5s));
    for (int round = 0; round < 10; ++round) {
        auto alive = std::make_shared<bool>(true);
        std::size_t got = 0;
        auto rx = std::make_unique<nats_link>(
            ioc_, config(),
            nats_link::handlers{[&got, alive](auto, auto) {
                                    EXPECT_TRUE(*alive) << "handler after destruction";
                                    ++got;
                                },
                                [alive](bool) { EXPECT_TRUE(*alive); }},
            log_);
        rx->start({"t.>"});
        ASSERT_TRUE(run_until(
            ioc_,
            [&] {
                for (int i = 0; i < 200; ++i) {
                    tx.publish({"t.flood", "x"});
                }
                return got > 0;
            },
            5s));
        rx.reset();
        *alive = false;
        for (int i = 0; i < 500; ++i) {
            tx.publish({"t.flood", "x"});
        }
        ioc_.run_for(20ms); // anything the dead link posted runs now, and must do nothing
    }
}
