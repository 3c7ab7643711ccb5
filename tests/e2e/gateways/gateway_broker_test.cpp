// gateway_service against the real aiot-broker: a web client sees the
// gateway's node; after the broker is killed and restarted, the gateway
// reconnects and announces it again; a client's write reaches on_write.
// The service runs on its own thread; the test talks to it through post().
#include "common/net.hpp"
#include "gateways/core/gateway_service.hpp"
#include "support/process.hpp"
#include "support/system_helpers.hpp"
#include "support/ws_client.hpp"

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <thread>

using namespace aiot;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

const std::string key_file = std::string(AIOT_TEST_DATA_DIR) + "/keys.ini";

class gateway_broker_test : public ::testing::Test {
protected:
    gateway_broker_test()
    {
        config_.common.broker_host = "127.0.0.1";
        config_.common.key_file = key_file;
        config_.retry = {0ms, 200ms, 200ms};
    }

    ~gateway_broker_test() override
    {
        if (service_) {
            on_io([this] { service_->stop(); });
        }
        if (io_thread_.joinable()) {
            io_thread_.join();
        }
    }

    std::unique_ptr<test::process> start_broker(const std::string& log_name)
    {
        auto p = std::make_unique<test::process>(
            AIOT_BROKER_EXE,
            std::vector<std::string>{"--broker-port", std::to_string(port_), "--bind",
                                     "127.0.0.1", "--key-file", key_file},
            dir_ / log_name);
        // Port 0 the first time; a restarted broker takes the same port.
        const auto port = p->wait_for_bound_port("listening on");
        EXPECT_NE(port, 0) << p->log();
        if (port_ == 0) {
            port_ = port;
            config_.common.broker_port = port;
        }
        return p;
    }

    void start_service()
    {
        service_ = std::make_unique<gw::gateway_service>(ioc_, config_, "CoAP", nullptr);
        service_->on_write([this](const gw::write_command& w) {
            std::lock_guard lock(mutex_);
            writes_.push_back(w);
        });
        service_->start();
        io_thread_ = std::thread([this] { ioc_.run(); });
    }

    // Runs f on the service's thread and returns its result.
    template <class F>
    auto on_io(F f) -> decltype(f())
    {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto result = task.get_future();
        net::post(ioc_, [&task] { task(); });
        return result.get();
    }

    bool connected()
    {
        return on_io([this] { return service_->broker_connected(); });
    }

    std::size_t write_count()
    {
        std::lock_guard lock(mutex_);
        return writes_.size();
    }

    // A dashboard-like client: connects to /ws and sends `new`.
    std::unique_ptr<test::ws_client> open_client()
    {
        auto c = std::make_unique<test::ws_client>();
        const auto r = c->connect("127.0.0.1", port_, "/ws");
        EXPECT_TRUE(r) << r.error;
        EXPECT_TRUE(c->send(R"({"type":"new","data":"client"})"));
        return c;
    }

    static bool is(const json& m, const std::string& type, const std::string& uid)
    {
        return m.value("type", "") == type && m.value("uid", "") == uid;
    }

    test::temp_dir dir_;
    std::uint16_t port_ = 0; // bound by the first start_broker()
    net::io_context ioc_;
    gw::gateway_config config_;
    std::unique_ptr<gw::gateway_service> service_;
    std::thread io_thread_;
    std::mutex mutex_;
    std::vector<gw::write_command> writes_;
};

} // namespace

TEST_F(gateway_broker_test, node_reaches_clients_and_survives_a_broker_restart)
{
    auto broker = start_broker("broker1.log");
    start_service();
    on_io([this] { return service_->add_node("n1", {{"ip", "::1"}}); });
    ASSERT_TRUE(test::eventually([&] { return connected(); }, 5s)) << broker->log();

    // A client that opens later gets the cache replayed.
    auto client = open_client();
    ASSERT_TRUE(client->wait_for([](const json& m) { return is(m, "new", "n1"); }));
    const auto protocol = client->wait_for([](const json& m) {
        return is(m, "update", "n1") && m.value("endpoint", "") == "protocol";
    });
    ASSERT_TRUE(protocol);
    EXPECT_EQ(protocol->at("data"), "CoAP");

    // Live updates are broadcast.
    on_io([this] { return service_->set_resource("n1", "temperature", "23°C"); });
    const auto temperature = client->wait_for([](const json& m) {
        return is(m, "update", "n1") && m.value("endpoint", "") == "temperature";
    });
    ASSERT_TRUE(temperature);
    EXPECT_EQ(temperature->at("data"), "23°C");

    // A client's write is routed to the adapter.
    ASSERT_TRUE(client->send(R"({"type":"update","data":{"uid":"n1","endpoint":"led","payload":"1"}})"));
    ASSERT_TRUE(test::eventually([&] { return write_count() == 1; }, 5s));
    {
        std::lock_guard lock(mutex_);
        EXPECT_EQ(writes_[0].endpoint, "led");
        EXPECT_EQ(writes_[0].payload, "1");
        EXPECT_FALSE(writes_[0].src.empty()); // the broker's client id
    }

    // The broker dies; the gateway notices and keeps retrying.
    broker->signal(SIGKILL);
    broker->terminate();
    ASSERT_TRUE(test::eventually([&] { return !connected(); }, 5s));
    on_io([this] { return service_->set_resource("n1", "led", "1"); });

    // A new broker on the same port: the gateway announces n1 again.
    broker = start_broker("broker2.log");
    auto watcher = open_client(); // registered before the gateway is back
    ASSERT_TRUE(test::eventually([&] { return connected(); }, 5s)) << broker->log();
    ASSERT_TRUE(watcher->wait_for([](const json& m) { return is(m, "new", "n1"); }));
    const auto led = watcher->wait_for([](const json& m) {
        return is(m, "update", "n1") && m.value("endpoint", "") == "led";
    });
    ASSERT_TRUE(led);
    EXPECT_EQ(led->at("data"), "1");

    // Removing the node is broadcast as out.
    on_io([this] { return service_->remove_node("n1"); });
    EXPECT_TRUE(watcher->wait_for([](const json& m) { return is(m, "out", "n1"); }));
}
