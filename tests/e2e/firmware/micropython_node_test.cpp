// The MicroPython node's MQTT topics (PROTOCOL.md section 5), checked with
// an MQTT client playing the gateway against a real mosquitto.
#include "micropython_fixture.hpp"

#include <chrono>
#include <set>
#include <string>

namespace aiot::test {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

const std::string node_id = "test-node-1";
const std::string node_name = "K\xc3\xbc" "che \"1\"";

class FirmwareMicropythonNode : public micropython_fixture {
protected:
    explicit FirmwareMicropythonNode(int check_interval_s = 30)
        : check_interval_s_(check_interval_s)
    {
    }

    void SetUp() override
    {
        start_mosquitto();
        write_config(node_id, node_name, "2", check_interval_s_);
        gateway_ = std::make_unique<mqtt_peer>(mqtt_port_, "test-gateway");
        gateway_->subscribe("node/#");
        start_node();
        auto check = gateway_->expect_json("node/check", 15s);
        ASSERT_TRUE(check) << "no node/check from the node";
        ASSERT_EQ(*check, json({{"id", node_id}}));
    }

    void TearDown() override
    {
        gateway_.reset();
        micropython_fixture::TearDown();
    }

    std::string topic(const std::string& suffix) const { return "node/" + node_id + "/" + suffix; }
    std::string gw_topic(const std::string& suffix) const
    {
        return "gateway/" + node_id + "/" + suffix;
    }

    const int check_interval_s_;
    std::unique_ptr<mqtt_peer> gateway_;
};

class FirmwareMicropythonNodeFastCheck : public FirmwareMicropythonNode {
protected:
    FirmwareMicropythonNodeFastCheck() : FirmwareMicropythonNode(1) {}
};

TEST_F(FirmwareMicropythonNodeFastCheck, SendsCheckPeriodically)
{
    // CHECK_INTERVAL_S is 1 here
    auto second = gateway_->expect_json("node/check", 5s);
    ASSERT_TRUE(second);
    EXPECT_EQ(*second, json({{"id", node_id}}));
    EXPECT_TRUE(gateway_->expect_json("node/check", 5s));
    EXPECT_TRUE(node_->running());
}

TEST_F(FirmwareMicropythonNode, AnswersDiscoverResources)
{
    gateway_->publish(gw_topic("discover"), "resources");
    auto resources = gateway_->expect_json(topic("resources"));
    ASSERT_TRUE(resources);
    EXPECT_EQ(*resources, json({"name", "os", "board", "led", "position"}));
}

TEST_F(FirmwareMicropythonNode, AnswersDiscoverValues)
{
    gateway_->publish(gw_topic("discover"), "values");
    EXPECT_EQ(gateway_->expect_json(topic("name")), json({{"value", node_name}}));
    EXPECT_EQ(gateway_->expect_json(topic("os")), json({{"value", "micropython"}}));
    EXPECT_EQ(gateway_->expect_json(topic("board")), json({{"value", "host-test"}}));
    EXPECT_EQ(gateway_->expect_json(topic("led")), json({{"value", "0"}}));
    auto position = gateway_->expect_json(topic("position"));
    ASSERT_TRUE(position);
    EXPECT_DOUBLE_EQ(position->at("value").at("lat").get<double>(), 48.7145);
    EXPECT_DOUBLE_EQ(position->at("value").at("lng").get<double>(), 2.2058);
}

TEST_F(FirmwareMicropythonNode, FollowsLedWrites)
{
    gateway_->publish(gw_topic("led/set"), "1");
    EXPECT_EQ(gateway_->expect_json(topic("led")), json({{"value", "1"}}));
    // The pin itself: the board stand-in shows its writes in the log only.
    EXPECT_TRUE(node_->wait_for_log(led_log_line(true)));

    gateway_->publish(gw_topic("led/set"), "0");
    EXPECT_EQ(gateway_->expect_json(topic("led")), json({{"value", "0"}}));
    EXPECT_TRUE(node_->wait_for_log("aiot: LED off"));

    gateway_->publish(gw_topic("discover"), "values");
    EXPECT_EQ(gateway_->expect_json(topic("led")), json({{"value", "0"}}));
}

// Where ../shared/micropython/ exists (CI), the node runs on the real
// interpreter; elsewhere this says that CPython with stand-ins ran it.
TEST_F(FirmwareMicropythonNode, RunsOnTheRealInterpreterWhenPresent)
{
    if (!real_micropython()) {
        GTEST_SKIP() << "the node ran on " << micropython_interpreter();
    }
    // What ran the node shows in its own output only.
    EXPECT_TRUE(node_->wait_for_log("aiot-test: running on micropython")) << node_->log();
    EXPECT_EQ(node_->log().find("Traceback"), std::string::npos) << node_->log();
}

TEST_F(FirmwareMicropythonNode, AnswersGatewayCheck)
{
    // the periodic check is 30 s away: this one answers gateway/check
    gateway_->publish("gateway/check", "");
    auto check = gateway_->expect_json("node/check", 5s);
    ASSERT_TRUE(check);
    EXPECT_EQ(*check, json({{"id", node_id}}));
}

TEST_F(FirmwareMicropythonNode, FollowsNameWrites)
{
    gateway_->publish(gw_topic("name/set"), "Garage");
    EXPECT_EQ(gateway_->expect_json(topic("name")), json({{"value", "Garage"}}));
}

TEST_F(FirmwareMicropythonNode, IgnoresBadInputAndKeepsServing)
{
    gateway_->publish(gw_topic("led/set"), "banana");
    gateway_->publish(gw_topic("led/set"), "{\"value\": 1, \"x\": 2}");
    gateway_->publish(gw_topic("discover"), "everything");
    gateway_->publish(gw_topic("discover"), std::string("\xff\xfe\x00", 3));
    gateway_->publish("gateway/other-node/discover", "resources");
    // Each refusal's logged reason is under test (the LED is checked below).
    EXPECT_TRUE(node_->wait_for_log("ignored LED value 'banana'"));
    EXPECT_TRUE(node_->wait_for_log("ignored discover request 'everything'"));
    EXPECT_TRUE(node_->wait_for_log("not UTF-8"));

    // still serving, LED unchanged
    gateway_->publish(gw_topic("discover"), "values");
    EXPECT_EQ(gateway_->expect_json(topic("led")), json({{"value", "0"}}));
    EXPECT_TRUE(node_->running());
    EXPECT_EQ(node_->log().find("Traceback"), std::string::npos) << node_->log();
}

TEST_F(FirmwareMicropythonNode, ReconnectsAfterTheBrokerRestarts)
{
    const auto port = mqtt_port_;
    gateway_.reset();
    mosquitto_->terminate();
    // Only the node's log shows that it noticed (mosquitto is gone).
    EXPECT_TRUE(node_->wait_for_log("connection lost", 10s));
    EXPECT_TRUE(node_->running());

    // same port again; the node retries every 5 s
    mosquitto_ = std::make_unique<process>(
        AIOT_MOSQUITTO, std::vector<std::string>{"-p", std::to_string(port)},
        dir_ / "mosquitto2.log");
    ASSERT_TRUE(mosquitto_->wait_for_tcp_port(port));
    gateway_ = std::make_unique<mqtt_peer>(port, "test-gateway-2");
    gateway_->subscribe("node/#");
    auto check = gateway_->expect_json("node/check", 15s);
    ASSERT_TRUE(check);
    EXPECT_EQ(*check, json({{"id", node_id}}));
    gateway_->publish(gw_topic("led/set"), "1");
    EXPECT_EQ(gateway_->expect_json(topic("led")), json({{"value", "1"}}));
}

} // namespace
} // namespace aiot::test
