#include "dashboard/history/recorder.hpp"

#include <gtest/gtest.h>

using namespace aiot::dashboard::history;
using nlohmann::json;

namespace {

json update(const std::string& uid, const std::string& endpoint, json data)
{
    return {{"type", "update"}, {"uid", uid}, {"endpoint", endpoint}, {"data", data}};
}
json kind(const std::string& type, const std::string& uid)
{
    return {{"type", type}, {"uid", uid}};
}

} // namespace

TEST(history_recorder, a_coap_node_is_keyed_by_its_uid_at_once)
{
    recorder r;
    EXPECT_FALSE(r.on_message(kind("new", "AB12"), 10));
    EXPECT_FALSE(r.on_message(update("AB12", "protocol", "CoAP"), 11));
    EXPECT_FALSE(r.on_message(update("AB12", "temperature", "23.5°C"), 12));
    const auto b = r.take();
    ASSERT_EQ(b.samples.size(), 2u);
    EXPECT_EQ(b.samples[1].node, "coap:AB12");
    EXPECT_EQ(b.samples[1].resource, "temperature");
    EXPECT_EQ(b.samples[1].at, 12);
    EXPECT_EQ(b.samples[1].number, 23.5);
    ASSERT_EQ(b.events.size(), 1u);
    EXPECT_EQ(b.events[0].kind, "new");
    EXPECT_EQ(b.events[0].node, "coap:AB12");
    const auto* n = r.find("AB12");
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->resources.at("temperature").value, "23.5°C");
    EXPECT_EQ(n->last_seen, 12);
}

TEST(history_recorder, an_mqtt_node_waits_for_its_id_and_keeps_it_across_uids)
{
    recorder r;
    r.on_message(kind("new", "u-1"), 1);
    r.on_message(update("u-1", "protocol", "MQTT"), 2);
    r.on_message(update("u-1", "temperature", "20"), 3);
    EXPECT_TRUE(r.take().samples.empty()); // no key yet
    r.on_message(update("u-1", "id", "kitchen-1"), 4);
    const auto b = r.take();
    ASSERT_EQ(b.samples.size(), 3u);
    for (const auto& s : b.samples) {
        EXPECT_EQ(s.node, "mqtt:kitchen-1");
    }
    ASSERT_EQ(b.events.size(), 1u);
    EXPECT_EQ(b.events[0].node, "mqtt:kitchen-1");
    // The gateway restarted: a new uid, the same key.
    r.on_message(kind("out", "u-1"), 5);
    r.on_message(kind("new", "u-2"), 6);
    r.on_message(update("u-2", "protocol", "MQTT"), 6);
    r.on_message(update("u-2", "id", "kitchen-1"), 6);
    r.on_message(update("u-2", "temperature", "21"), 7);
    const auto b2 = r.take();
    ASSERT_FALSE(b2.samples.empty());
    EXPECT_EQ(b2.samples.back().node, "mqtt:kitchen-1");
    EXPECT_EQ(r.find("u-1"), nullptr);
}

TEST(history_recorder, a_websocket_node_without_a_name_falls_back_to_its_uid)
{
    recorder r;
    r.on_message(kind("new", "w"), 0);
    r.on_message(update("w", "protocol", "WebSocket"), 0);
    r.on_message(update("w", "temperature", "20"), 1);
    r.tick(recorder::key_wait - 1);
    EXPECT_TRUE(r.take().samples.empty());
    r.tick(recorder::key_wait);
    const auto b = r.take();
    ASSERT_EQ(b.samples.size(), 2u);
    EXPECT_EQ(b.samples[0].node, "uid:w");

    r.on_message(kind("new", "w2"), 0);
    r.on_message(update("w2", "protocol", "WebSocket"), 0);
    r.on_message(update("w2", "name", "Robot"), 0);
    EXPECT_EQ(r.take().samples.back().node, "ws:Robot");
}

TEST(history_recorder, waiting_values_are_bounded)
{
    recorder r;
    r.on_message(kind("new", "x"), 0);
    for (std::size_t i = 0; i < recorder::pending_limit; ++i) {
        r.on_message(update("x", "v", static_cast<int>(i)), 1);
    }
    const auto b = r.take();
    ASSERT_EQ(b.samples.size(), recorder::pending_limit);
    EXPECT_EQ(b.samples[0].node, "uid:x");
    EXPECT_EQ(b.samples[5].number, 5.0);
    EXPECT_EQ(b.samples[5].text, "5");
}

TEST(history_recorder, reset_clears_resources_but_what_the_gateway_knows)
{
    recorder r;
    r.on_message(kind("new", "A"), 0);
    r.on_message(update("A", "protocol", "CoAP"), 0);
    r.on_message(update("A", "ip", "fe80::1"), 0);
    r.on_message(update("A", "led", "1"), 0);
    r.on_message(kind("reset", "A"), 1);
    const auto* n = r.find("A");
    ASSERT_NE(n, nullptr);
    EXPECT_TRUE(n->resources.contains("ip"));
    EXPECT_FALSE(n->resources.contains("led"));
    const auto b = r.take();
    EXPECT_EQ(b.events.back().kind, "reset");
}

TEST(history_recorder, refuses_what_a_web_client_should_not_receive)
{
    recorder r;
    EXPECT_TRUE(r.on_message(json::array(), 0));
    EXPECT_TRUE(r.on_message(json{{"type", "new"}}, 0));
    EXPECT_TRUE(r.on_message(update("never-announced", "led", "1"), 0));
    EXPECT_TRUE(r.on_message(kind("bogus", "x"), 0));
    r.on_message(kind("new", "A"), 0);
    EXPECT_TRUE(r.on_message(json{{"type", "update"}, {"uid", "A"}}, 0));
    EXPECT_TRUE(r.take().samples.empty());
}

TEST(history_recorder, a_lost_broker_empties_the_live_table_and_keeps_the_rows)
{
    recorder r;
    r.on_message(kind("new", "w"), 0);
    r.on_message(update("w", "temperature", "1"), 0);
    r.on_disconnect();
    EXPECT_TRUE(r.nodes().empty());
    EXPECT_EQ(r.take().samples.size(), 1u);
}
