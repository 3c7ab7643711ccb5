// The MicroPython node behind the real aiot-mqtt-gateway and aiot-broker:
// a dashboard-like websocket client on the broker's /ws sees the node with
// its resources, its LED follows the client's writes, and the node leaves
// once it stops.
#include "micropython_fixture.hpp"
#include "support/ws_client.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <string>

namespace aiot::test {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

const std::string node_id = "test-node-2";
const std::string node_name = "Gar\xc3\xa7on's node";

// What a web client has seen of the nodes.
struct client_view {
    std::set<std::string> announced;                          // uids seen in "new"
    std::set<std::string> gone;                               // uids seen in "out"
    std::map<std::string, std::map<std::string, json>> data;  // uid -> endpoint -> value

    void add(const json& m)
    {
        const auto type = m.value("type", "");
        const auto uid = m.value("uid", "");
        if (type == "new") {
            announced.insert(uid);
        }
        else if (type == "out") {
            gone.insert(uid);
        }
        else if (type == "update" && m.contains("endpoint") && m.contains("data")) {
            data[uid][m["endpoint"].get<std::string>()] = m["data"];
        }
    }

    // The uid of the node whose "id" resource is `id`, or "".
    std::string uid_of(const std::string& id) const
    {
        for (const auto& [uid, values] : data) {
            auto it = values.find("id");
            if (it != values.end() && it->second == id) {
                return uid;
            }
        }
        return {};
    }
};

class FirmwareMicropythonGateway : public micropython_fixture {
protected:
    void SetUp() override
    {
        const std::string keys = std::string(AIOT_TEST_DATA_DIR) + "/keys.ini";
        start_mosquitto();
        broker_ = std::make_unique<process>(
            AIOT_BROKER_BIN,
            std::vector<std::string>{"--key-file", keys, "--bind", "127.0.0.1", "--broker-port",
                                     "0"},
            dir_ / "broker.log");
        broker_port_ = broker_->wait_for_bound_port("listening on");
        ASSERT_NE(broker_port_, 0) << broker_->log();
        gateway_ = std::make_unique<process>(
            AIOT_MQTT_GATEWAY_BIN,
            std::vector<std::string>{"--key-file", keys, "--broker-host", "127.0.0.1",
                                     "--broker-port", std::to_string(broker_port_),
                                     "--mqtt-host", "127.0.0.1", "--mqtt-port",
                                     std::to_string(mqtt_port_), "--max-time", "4", "--debug"},
            dir_ / "gateway.log");
        ASSERT_TRUE(client_.connect("127.0.0.1", broker_port_, "/ws"));
        ASSERT_TRUE(client_.send_json({{"type", "new"}, {"data", "client"}}));
        // the node's LED is the Pycom RGB LED stand-in here (LED_PIN None)
        write_config(node_id, node_name, "", 1);
        start_node();
    }

    void TearDown() override
    {
        if (HasFailure()) {
            for (auto* p : {broker_.get(), gateway_.get()}) {
                if (p) {
                    std::cerr << "---- " << p->log_path().filename() << " ----\n" << p->log();
                }
            }
        }
        client_.close(2s);
        micropython_fixture::TearDown();
        gateway_.reset();
        broker_.reset();
    }

    // Reads client messages into view_ until pred(view_) holds.
    bool watch_until(const std::function<bool(const client_view&)>& pred,
                     std::chrono::milliseconds timeout)
    {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!pred(view_)) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                return false;
            }
            if (auto m = client_.receive_json(left)) {
                view_.add(*m);
            }
        }
        return true;
    }

    std::uint16_t broker_port_ = 0;
    std::unique_ptr<process> broker_;
    std::unique_ptr<process> gateway_;
    ws_client client_;
    client_view view_;
};

TEST_F(FirmwareMicropythonGateway, NodeAppearsWithItsResourcesAndFollowsLedWrites)
{
    const std::set<std::string> resources = {"name", "os", "board", "led", "position"};
    std::string uid;
    ASSERT_TRUE(watch_until(
        [&](const client_view& v) {
            uid = v.uid_of(node_id);
            if (uid.empty() || !v.announced.contains(uid)) {
                return false;
            }
            const auto& values = v.data.at(uid);
            for (const auto& r : resources) {
                if (!values.contains(r)) {
                    return false;
                }
            }
            return true;
        },
        30s))
        << "the node did not appear with all its resources on the broker";

    const auto& values = view_.data.at(uid);
    EXPECT_EQ(values.at("name"), node_name);
    EXPECT_EQ(values.at("os"), "micropython");
    EXPECT_EQ(values.at("board"), "host-test");
    EXPECT_EQ(values.at("led"), "0");
    EXPECT_DOUBLE_EQ(values.at("position").at("lat").get<double>(), 48.7145);
    if (values.contains("protocol")) {
        EXPECT_EQ(values.at("protocol"), "MQTT");
    }

    // a dashboard's LED toggle
    ASSERT_TRUE(client_.send_json(
        {{"type", "update"}, {"data", {{"uid", uid}, {"endpoint", "led"}, {"payload", "1"}}}}));
    EXPECT_TRUE(watch_until(
        [&](const client_view& v) { return v.data.at(uid).at("led") == "1"; }, 10s));
    // the Pycom RGB LED stand-in under CPython; only the value on real
    // MicroPython (no pycom module in its unix port)
    EXPECT_TRUE(node_->wait_for_log(real_micropython() ? "aiot: LED on" : "[pycom] rgbled 0x7f0000"));

    ASSERT_TRUE(client_.send_json(
        {{"type", "update"}, {"data", {{"uid", uid}, {"endpoint", "led"}, {"payload", "0"}}}}));
    EXPECT_TRUE(watch_until(
        [&](const client_view& v) { return v.data.at(uid).at("led") == "0"; }, 10s));

    // a node that stops checking in leaves after --max-time (4 s)
    node_->terminate();
    EXPECT_TRUE(watch_until([&](const client_view& v) { return v.gone.contains(uid); }, 15s))
        << "no out for the stopped node";
    EXPECT_TRUE(broker_->running());
    EXPECT_TRUE(gateway_->running());
}

} // namespace
} // namespace aiot::test
