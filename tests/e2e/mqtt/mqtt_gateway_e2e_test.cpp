// aiot-mqtt-gateway with real peers: mosquitto, aiot-broker, mqtt-test-node
// and a web client on the broker. Every wait polls with a deadline.
#include "support/gateway_e2e.hpp"
#include "support/mosquitto.hpp"
#include "support/mqtt_fleet.hpp"

#include <mqtt/async_client.h>

#include <set>
#include <unordered_set>

using namespace aiot;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

class mqtt_gateway_e2e : public test::gateway_e2e {
protected:
    mqtt_gateway_e2e()
        : gateway_e2e(AIOT_BROKER_EXE, std::string(AIOT_TEST_DATA_DIR) + "/keys.ini"),
          mqtt_port_(test::free_tcp_port()) // mosquitto needs its port up front
    {
    }

    void start_mosquitto()
    {
        mosquitto_ = test::start_mosquitto(AIOT_MOSQUITTO_EXE, mqtt_port_, dir_.path(),
                                           "mosquitto" + std::to_string(++mosquitto_runs_));
    }

    void start_gateway(int max_time)
    {
        auto args = broker_options();
        args.insert(args.end(), {"--mqtt-host", "127.0.0.1", "--mqtt-port",
                                 std::to_string(mqtt_port_), "--max-time",
                                 std::to_string(max_time), "--debug"});
        gateway_ = start(AIOT_MQTT_GATEWAY_EXE, args, "gateway");
    }

    std::unique_ptr<test::process> start_node(const std::string& id)
    {
        return start(AIOT_MQTT_TEST_NODE_EXE,
                     {"--mqtt-host", "127.0.0.1", "--mqtt-port", std::to_string(mqtt_port_),
                      "--node-id", id, "--temperature-interval", "0.2", "--pressure-interval",
                      "0.5"},
                     id);
    }

    // Everything up and node n1 seen by a web client with all its
    // resources; returns its uid.
    std::string start_all(int max_time = 120)
    {
        start_mosquitto();
        start_broker();
        client_ = open_client();
        start_gateway(max_time);
        node_ = start_node("n1");
        std::string uid;
        const bool seen = view_.watch(
            *client_,
            [&](const test::node_view& v) {
                const auto u = v.find("id", "n1");
                if (!u) {
                    return false;
                }
                uid = *u;
                for (const auto* r : {"protocol", "name", "os", "board", "ip", "led",
                                      "temperature", "pressure"}) {
                    if (!v.resource(uid, r)) {
                        return false;
                    }
                }
                return true;
            },
            15s);
        EXPECT_TRUE(seen) << diagnostics();
        return uid;
    }

    std::uint16_t mqtt_port_;
    int mosquitto_runs_ = 0;
    std::unique_ptr<test::process> mosquitto_;
    std::unique_ptr<test::process> gateway_;
    std::unique_ptr<test::process> node_;
};

} // namespace

TEST_F(mqtt_gateway_e2e, a_web_client_sees_the_node_and_toggles_its_led)
{
    const auto uid = start_all();
    ASSERT_FALSE(uid.empty());
    EXPECT_EQ(*view_.resource(uid, "protocol"), "MQTT");
    EXPECT_EQ(*view_.resource(uid, "name"), "MQTT test node");
    EXPECT_EQ(*view_.resource(uid, "led"), "0");
    const auto temperature = view_.resource(uid, "temperature")->get<std::string>();
    EXPECT_NE(temperature.find("°C"), std::string::npos) << temperature;
    EXPECT_TRUE(view_.wait_updates(*client_, uid, "temperature")) << "values keep flowing";

    EXPECT_TRUE(toggle_led(uid, "1")) << diagnostics(); // the node's own echo

    // A client opening later gets the cache, LED state included.
    auto late = open_client();
    test::node_view late_view;
    EXPECT_TRUE(late_view.watch(*late, [&](const test::node_view& v) {
        const auto* led = v.resource(uid, "led");
        return led && *led == "1" && v.resource(uid, "name");
    }));
}

TEST_F(mqtt_gateway_e2e, a_node_that_goes_away_is_out_after_max_time)
{
    const auto uid = start_all(2);
    ASSERT_FALSE(uid.empty());
    // Values keep it alive well past max-time.
    EXPECT_TRUE(view_.wait_updates(*client_, uid, "temperature", 12));
    EXPECT_FALSE(view_.is_out(uid));

    node_->signal(SIGKILL);
    node_->terminate();
    const auto killed = std::chrono::steady_clock::now();
    ASSERT_TRUE(view_.watch(*client_, [&](const test::node_view& v) { return v.is_out(uid); }))
        << diagnostics();
    EXPECT_GE(std::chrono::steady_clock::now() - killed, 1s);
    // Unsubscribing shows nowhere else than in the gateway's log.
    EXPECT_TRUE(gateway_->wait_for_log("expired, unsubscribing its topics"));

    // The same node id coming back is a new node.
    node_ = start_node("n1");
    EXPECT_TRUE(view_.watch(*client_, [&](const test::node_view& v) {
        const auto u = v.find("id", "n1");
        return u && *u != uid;
    })) << diagnostics();
}

TEST_F(mqtt_gateway_e2e, a_mosquitto_restart_is_survived)
{
    const auto uid = start_all();
    ASSERT_FALSE(uid.empty());

    mosquitto_->terminate();
    // The gateway must have seen the loss before mosquitto comes back; no
    // peer can observe it, so its log line is the event to wait for.
    ASSERT_TRUE(gateway_->wait_for_log("lost the MQTT broker")) << diagnostics();
    start_mosquitto();

    // Both the gateway and the node reconnect: values flow again, and a
    // write reaches the node through the new session. The client may still
    // hold unread values from before the restart, so they do not tell
    // that the gateway's new session is up; its log does (the first
    // session knew no node).
    ASSERT_TRUE(gateway_->wait_for_log("MQTT session up: subscribing for 1 known nodes", 20s))
        << diagnostics();
    ASSERT_TRUE(view_.wait_updates(*client_, uid, "temperature", 3, 20s)) << diagnostics();
    EXPECT_TRUE(view_.has(uid)) << "same node, not re-created";
    // The node's own session may come back after the gateway's: a write
    // it misses meanwhile is lost (QoS 0), as a page's would be; the write
    // is repeated until it lands, within 20 s.
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    bool led_on = false;
    while (!led_on && std::chrono::steady_clock::now() < deadline) {
        ASSERT_TRUE(client_->send_json(test::write_request(uid, "led", "1")));
        led_on = view_.wait_value(*client_, uid, "led", "1", 2s);
    }
    EXPECT_TRUE(led_on) << diagnostics();
    EXPECT_TRUE(gateway_->running());
}

TEST_F(mqtt_gateway_e2e, a_broker_restart_is_survived)
{
    const auto uid = start_all();
    ASSERT_FALSE(uid.empty());
    check_broker_restart(uid);
}

TEST_F(mqtt_gateway_e2e, bad_mqtt_input_leaves_the_gateway_serving)
{
    const auto uid = start_all();
    ASSERT_FALSE(uid.empty());

    ::mqtt::async_client rogue("tcp://127.0.0.1:" + std::to_string(mqtt_port_), "aiot-test-rogue");
    rogue.connect()->wait_for(5s);
    ASSERT_TRUE(rogue.is_connected());
    const std::string huge(200 * 1024, '[');
    json many = json::array();
    for (int i = 0; i < 5000; ++i) {
        many.push_back("r" + std::to_string(i));
    }
    std::vector<std::pair<std::string, std::string>> messages = {
        {"node/check", "not json"},
        {"node/check", ""},
        {"node/check", R"({"id":"a/b"})"},
        {"node/check", R"({"id":"x#"})"},
        {"node/check", R"({"id":42})"},
        {"node/check", "\xff\xfe"},
        {"node/n1/resources", "[[["},
        {"node/n1/resources", R"({"not":"a list"})"},
        {"node/n1/resources", many.dump()},
        {"node/n1/temperature", "garbage"},
        {"node/n1/temperature", R"({"novalue":1})"},
        {"node/n1/temperature", huge},
        {"node/ghost/temperature", R"({"value":"1"})"},
    };
    // New ids checking in are each announced like any node (their number
    // is bounded by the node limit, see the unit tests).
    for (int i = 0; i < 20; ++i) {
        messages.emplace_back("node/check", json{{"id", "flood-" + std::to_string(i)}}.dump());
    }
    for (const auto& [topic, payload] : messages) {
        ASSERT_TRUE(rogue.publish(topic, payload.data(), payload.size(), 1, false)->wait_for(5s));
    }
    rogue.disconnect()->wait_for(5s);

    // Each refusal's logged reason is the behaviour under test.
    ASSERT_TRUE(gateway_->wait_for_log("node/check ignored: invalid JSON")) << diagnostics();
    EXPECT_TRUE(gateway_->wait_for_log("node id 'a/b'"));
    EXPECT_TRUE(gateway_->wait_for_log("resource list ignored"));
    EXPECT_TRUE(gateway_->wait_for_log("bytes ignored (limit"));
    EXPECT_TRUE(gateway_->wait_for_log("resources beyond the limit of 60 ignored"));
    EXPECT_TRUE(gateway_->running());

    // Still serving: values flow, writes reach the node, new nodes appear.
    EXPECT_TRUE(view_.wait_updates(*client_, uid, "temperature"));
    EXPECT_TRUE(toggle_led(uid, "1")) << diagnostics();
    EXPECT_TRUE(view_.watch(*client_, [&](const test::node_view& v) {
        return v.find("id", "flood-19").has_value();
    }));
}

// Issue 16: 500 nodes, each its own MQTT connection, publish node/check at
// the same moment; every one is announced and discovered, and none of the
// values they send once discovered is lost. The bound is generous: CI runs
// this under ASan and UBSan on a loaded machine (a Release build on a busy
// 2-core machine needs about a second).
TEST_F(mqtt_gateway_e2e, a_burst_of_500_nodes_is_announced_and_loses_no_value)
{
    constexpr int nodes = 500;
    constexpr int values = 3;
    start_mosquitto();
    start_broker();
    client_ = open_client();
    start_gateway(120);
    ASSERT_TRUE(gateway_->wait_for_log("MQTT session up")) << diagnostics();

    test::mqtt_fleet_config config;
    config.port = mqtt_port_;
    config.nodes = nodes;
    config.values = values;
    config.value_interval = 200ms;
    config.check_interval = 0ms;
    test::mqtt_fleet fleet(config);
    ASSERT_EQ(fleet.connect(30s), static_cast<std::size_t>(nodes)) << fleet.error();
    fleet.start();

    std::unordered_set<std::string> announced;
    std::unordered_set<std::string> discovered; // their `init` value came
    std::set<std::pair<int, int>> seen;         // (node, value index)
    const auto deadline = std::chrono::steady_clock::now() + 90s;
    while ((discovered.size() < nodes || seen.size() < nodes * values) &&
           std::chrono::steady_clock::now() < deadline && client_->is_open()) {
        const auto m = client_->receive_json(1s);
        if (!m || !m->is_object()) {
            continue;
        }
        const auto type = m->value("type", "");
        const auto uid = m->value("uid", "");
        if (type == "new") {
            announced.insert(uid);
        } else if (type == "update" && m->value("endpoint", "") == "temperature" &&
                   m->contains("data") && (*m)["data"].is_string()) {
            const auto& data = (*m)["data"].get_ref<const std::string&>();
            if (data == "init") {
                discovered.insert(uid);
            } else if (const auto v = test::parse_value(data)) {
                seen.emplace(v->node, v->index);
            }
        }
    }
    EXPECT_TRUE(client_->is_open()) << "the broker dropped the web client";
    EXPECT_EQ(announced.size(), static_cast<std::size_t>(nodes)) << diagnostics();
    EXPECT_EQ(discovered.size(), static_cast<std::size_t>(nodes));
    EXPECT_EQ(fleet.values_sent.load(), static_cast<std::uint64_t>(nodes * values));
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(nodes * values)) << "values lost";
    EXPECT_EQ(fleet.connections_lost.load(), 0u);
    fleet.stop();
    EXPECT_TRUE(gateway_->running());
}
