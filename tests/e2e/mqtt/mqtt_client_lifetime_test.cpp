// mqtt_client's lifetime against Paho's threads, with a real mosquitto: a
// client is destroyed while messages pour in and completions are pending,
// over and over, on a live io_context. No handler may run after the
// destructor, and nothing may be touched after it is freed (which the
// sanitizer builds check: scripts/sanitize runs this under ASan and TSan).
#include "gateways/mqtt/mqtt_client.hpp"
#include "support/mosquitto.hpp"
#include "support/run_until.hpp"
#include "support/system_helpers.hpp"

#include "common/net.hpp"

#include <gtest/gtest.h>
#include <mqtt/async_client.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>

using namespace aiot;
using namespace std::chrono_literals;

namespace {

using aiot::test::run_until;

// Publishes QoS 0 messages on `topic` from its own thread until destroyed.
class flooder {
public:
    flooder(std::uint16_t port, std::string topic)
        : client_("tcp://127.0.0.1:" + std::to_string(port), "flooder"), topic_(std::move(topic))
    {
        client_.connect(::mqtt::connect_options_builder().clean_session(true).finalize())->wait();
        thread_ = std::thread([this] {
            std::string payload(64, 'x');
            while (!stop_) {
                try {
                    client_.publish(topic_, payload.data(), payload.size(), 0, false)->wait();
                    ++sent_;
                } catch (const ::mqtt::exception&) {
                    // buffer full for a moment: try again
                }
            }
        });
    }
    ~flooder()
    {
        stop_ = true;
        thread_.join();
        try {
            client_.disconnect()->wait();
        } catch (const ::mqtt::exception&) {
        }
    }
    std::uint64_t sent() const { return sent_; }

private:
    ::mqtt::async_client client_;
    std::string topic_;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> sent_{0};
    std::thread thread_;
};

class mqtt_client_lifetime : public ::testing::Test {
protected:
    mqtt_client_lifetime()
        : port_(test::free_tcp_port()), // mosquitto needs its port up front
          mosquitto_(test::start_mosquitto(AIOT_MOSQUITTO_EXE, port_, dir_.path()))
    {
    }

    gw::mqtt::client_config config(const std::string& id) const
    {
        gw::mqtt::client_config c;
        c.host = "127.0.0.1";
        c.port = port_;
        c.client_id = id;
        c.max_pending_messages = 1000;
        return c;
    }

    test::temp_dir dir_;
    std::uint16_t port_;
    std::unique_ptr<test::process> mosquitto_;
    net::io_context ioc_;
    net::executor_work_guard<net::io_context::executor_type> work_{ioc_.get_executor()};
};

TEST_F(mqtt_client_lifetime, a_client_destroyed_while_messages_arrive_calls_nothing_afterwards)
{
    flooder flood(port_, "flood");
    // Shared with the handlers, so it outlives every client.
    auto after_destruction = std::make_shared<std::atomic<int>>(0);
    for (int round = 0; round < 8; ++round) {
        auto destroyed = std::make_shared<bool>(false);
        auto received = std::make_shared<int>(0);
        auto connected = std::make_shared<bool>(false);
        std::unique_ptr<gw::mqtt::mqtt_client> client;
        client = std::make_unique<gw::mqtt::mqtt_client>(
            ioc_, config("lifetime-" + std::to_string(round)),
            gw::mqtt::mqtt_client::handlers{
                [&client, connected] {
                    *connected = true;
                    client->subscribe({"flood"}, 0);
                    // A publish in flight when the client goes: its
                    // completion comes on a Paho thread.
                    client->publish("echo", "x", 1);
                },
                {},
                [destroyed, received, after_destruction](std::string_view topic,
                                                         std::string_view) {
                    if (*destroyed) {
                        after_destruction->fetch_add(1);
                    }
                    EXPECT_EQ(topic, "flood");
                    ++*received;
                }},
            nullptr);
        client->start();
        ASSERT_TRUE(run_until(ioc_, [&] { return *received >= 20; }, 10s))
            << "round " << round << ": connected " << *connected << ", received " << *received;
        // Destroyed with Paho's threads busy delivering to it.
        client.reset();
        *destroyed = true;
        // Whatever Paho had posted before the end runs now, and must find nothing.
        ioc_.poll();
    }
    // Handlers posted late by Paho's threads get their chance too (no
    // event says "Paho has nothing more": a wide window, not a short one).
    run_until(ioc_, [] { return false; }, 1s);
    EXPECT_EQ(after_destruction->load(), 0);
    EXPECT_GT(flood.sent(), 0u);
}

TEST_F(mqtt_client_lifetime, a_client_destroyed_while_connecting_calls_nothing_afterwards)
{
    // No wait for the connection: the connect completion (success or
    // failure) arrives on a Paho thread after the client is gone.
    auto called = std::make_shared<std::atomic<int>>(0);
    for (int round = 0; round < 20; ++round) {
        auto client = std::make_unique<gw::mqtt::mqtt_client>(
            ioc_, config("connecting-" + std::to_string(round)),
            gw::mqtt::mqtt_client::handlers{[called] { called->fetch_add(1); },
                                            [called] { called->fetch_add(1); },
                                            [called](std::string_view, std::string_view) {
                                                called->fetch_add(1);
                                            }},
            nullptr);
        client->start();
        ioc_.poll();
        const bool up_already = called->load() > 0;
        client.reset();
        if (up_already) {
            called->store(0);
        }
    }
    run_until(ioc_, [] { return false; }, 1s); // as above: a wide window
    EXPECT_EQ(called->load(), 0);
}

} // namespace
