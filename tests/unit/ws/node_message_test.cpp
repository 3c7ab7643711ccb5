// The websocket node message format: what is accepted, and the close
// reason for what is not.
#include "gateways/ws/node_message.hpp"

#include <gtest/gtest.h>

using namespace aiot::gw;
using namespace aiot::gw::ws;

TEST(ws_node_message, an_update_gives_each_pair_with_its_json_value)
{
    const auto m = parse_node_message(
        R"({"type":"update","data":{"name":"Node","temperature":"23°C","count":3,"imu":{"x":1}}})");
    ASSERT_TRUE(m.valid()) << m.error;
    ASSERT_EQ(m.updates.size(), 4u);
    std::map<std::string, json> got;
    for (const auto& r : m.updates) {
        got[r.name] = r.value;
    }
    EXPECT_EQ(got["name"], "Node");
    EXPECT_EQ(got["temperature"], "23°C");
    EXPECT_EQ(got["count"], 3);
    EXPECT_EQ(got["imu"], (json{{"x", 1}}));
}

TEST(ws_node_message, an_empty_update_is_valid)
{
    const auto m = parse_node_message(R"({"type":"update","data":{}})");
    EXPECT_TRUE(m.valid());
    EXPECT_TRUE(m.updates.empty());
}

TEST(ws_node_message, invalid_messages_give_a_close_reason)
{
    EXPECT_EQ(parse_node_message("hello").error, "Invalid message 'hello'.");
    EXPECT_EQ(parse_node_message("[1,2]").error, "Invalid message '[1,2]'.");
    EXPECT_EQ(parse_node_message(R"({"data":{}})").error, R"(Invalid message '{"data":{}}'.)");
    EXPECT_EQ(parse_node_message(R"({"type":"new","data":{}})").error,
              "Invalid message type 'new'.");
    EXPECT_EQ(parse_node_message(R"({"type":"update","data":"x"})").error,
              "Invalid message: 'data' must be an object of resource values.");
    EXPECT_EQ(parse_node_message(R"({"type":"update"})").error,
              "Invalid message: 'data' must be an object of resource values.");
}

TEST(ws_node_message, a_close_reason_fits_a_close_frame)
{
    const std::string long_text(1000, 'x');
    const auto m = parse_node_message(long_text);
    EXPECT_FALSE(m.valid());
    EXPECT_LE(m.error.size(), 123u);
    EXPECT_EQ(m.error.rfind("Invalid message 'xxx", 0), 0u);
    // Cut at a UTF-8 boundary: "é" is two bytes.
    std::string accents;
    for (int i = 0; i < 100; ++i) {
        accents += "é";
    }
    const auto e = parse_node_message(accents).error;
    EXPECT_LE(e.size(), 123u);
    EXPECT_TRUE(json::accept(json(e).dump())) << "still valid UTF-8";
}

TEST(ws_node_message, pairs_beyond_the_limit_are_counted_not_taken)
{
    json data = json::object();
    for (int i = 0; i < 10; ++i) {
        data["r" + std::to_string(i)] = i;
    }
    const auto m = parse_node_message(json{{"type", "update"}, {"data", data}}.dump(), 4);
    ASSERT_TRUE(m.valid());
    EXPECT_EQ(m.updates.size(), 4u);
    EXPECT_EQ(m.skipped, 6u);
}

TEST(ws_node_message, gateway_messages)
{
    EXPECT_EQ(json::parse(make_discover_request()), (json{{"request", "discover"}}));
    EXPECT_EQ(json::parse(make_node_write("led", "1")), (json{{"endpoint", "led"}, {"payload", "1"}}));
    EXPECT_NE(make_node_write("name", "°C").find("°C"), std::string::npos) << "UTF-8 kept";
}
