#include "gateways/core/gateway_core.hpp"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

using namespace aiot::gw;
using namespace std::chrono_literals;

namespace {

const time_point t0{};

json parse(const std::string& text)
{
    return json::parse(text);
}

class core_test : public ::testing::Test {
protected:
    core_test() : core_test(make_config()) {}

    explicit core_test(core_config config)
        : log_(std::make_shared<spdlog::logger>(
              "gw.test", std::make_shared<spdlog::sinks::ostream_sink_st>(log_text_))),
          core_(std::move(config), log_)
    {
        log_->set_level(spdlog::level::debug);
        log_->set_pattern("%l %v");
    }

    static core_config make_config()
    {
        core_config c;
        c.protocol = "CoAP";
        return c;
    }

    // The broker messages decided since the last call, parsed.
    std::vector<json> sent()
    {
        std::vector<json> result;
        for (const auto& text : core_.take_output().to_broker) {
            result.push_back(parse(text));
        }
        return result;
    }

    std::string log() const { return log_text_.str(); }

    void connected()
    {
        core_.broker_connected(t0);
        core_.take_output();
    }

    std::ostringstream log_text_;
    std::shared_ptr<spdlog::logger> log_;
    gateway_core core_;
};

json new_msg(const std::string& uid, const std::string& dst)
{
    return {{"type", "new"}, {"uid", uid}, {"dst", dst}};
}

json update_msg(const std::string& uid, const std::string& endpoint, const json& data,
                const std::string& dst)
{
    return {{"type", "update"}, {"uid", uid}, {"endpoint", endpoint}, {"data", data}, {"dst", dst}};
}

const json keepalive = {{"type", "update"}, {"uid", "alive"}};

} // namespace

TEST_F(core_test, announces_new_before_its_resources_with_protocol_first)
{
    connected();
    EXPECT_EQ(core_.node_added("n1", t0, {{"ip", "::1"}, {"protocol", "fake"}}),
              registry_status::ok);
    const std::vector<json> expected = {new_msg("n1", "all"),
                                        update_msg("n1", "protocol", "CoAP", "all"),
                                        update_msg("n1", "ip", "::1", "all")};
    EXPECT_EQ(sent(), expected);
    EXPECT_EQ(core_.node_added("n1", t0), registry_status::exists);
    EXPECT_TRUE(sent().empty());
}

TEST_F(core_test, forwards_every_resource_value_as_update)
{
    connected();
    core_.node_added("n1", t0);
    sent();
    EXPECT_EQ(core_.resource_changed("n1", "temperature", "23°C", t0), registry_status::ok);
    EXPECT_EQ(core_.resource_changed("n1", "temperature", "23°C", t0), registry_status::ok);
    const std::vector<json> expected(2, update_msg("n1", "temperature", "23°C", "all"));
    EXPECT_EQ(sent(), expected);
    // The gateway owns `protocol`.
    core_.resource_changed("n1", "protocol", "MQTT", t0);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(*core_.registry().find("n1")->find("protocol"), "CoAP");
    // Unknown node.
    EXPECT_EQ(core_.resource_changed("n2", "x", 1, t0), registry_status::unknown_node);
    EXPECT_TRUE(sent().empty());
}

TEST_F(core_test, drops_broker_messages_while_disconnected_and_reannounces_on_connect)
{
    core_.node_added("n1", t0, {{"name", "a"}});
    core_.node_added("n2", t0);
    EXPECT_TRUE(sent().empty());

    core_.broker_connected(t0);
    std::vector<json> expected = {new_msg("n1", "all"), update_msg("n1", "protocol", "CoAP", "all"),
                                  update_msg("n1", "name", "a", "all"), new_msg("n2", "all"),
                                  update_msg("n2", "protocol", "CoAP", "all")};
    EXPECT_EQ(sent(), expected);

    // Lost: changes are kept in the cache, not queued.
    core_.broker_disconnected();
    core_.resource_changed("n2", "led", "1", t0);
    core_.node_removed("n1");
    core_.tick(t0 + 60s);
    EXPECT_TRUE(sent().empty());

    core_.broker_connected(t0 + 61s);
    expected = {new_msg("n2", "all"), update_msg("n2", "protocol", "CoAP", "all"),
                update_msg("n2", "led", "1", "all")};
    EXPECT_EQ(sent(), expected);
}

TEST_F(core_test, replays_the_cache_to_a_new_client)
{
    connected();
    core_.node_added("n1", t0, {{"temperature", "20°C"}});
    core_.node_added("n2", t0);
    sent();
    core_.broker_message(R"({"type":"new","data":"client","src":"c-1"})");
    const std::vector<json> expected = {
        new_msg("n1", "c-1"), update_msg("n1", "protocol", "CoAP", "c-1"),
        update_msg("n1", "temperature", "20°C", "c-1"), new_msg("n2", "c-1"),
        update_msg("n2", "protocol", "CoAP", "c-1")};
    EXPECT_EQ(sent(), expected);

    core_.broker_message(R"({"type":"new","data":"client"})");
    EXPECT_TRUE(sent().empty());
    EXPECT_NE(log().find("without a client id"), std::string::npos);
}

TEST_F(core_test, routes_writes_for_its_own_nodes_only)
{
    connected();
    core_.node_added("n1", t0);
    sent();
    core_.broker_message(
        R"({"type":"update","data":{"uid":"n1","endpoint":"led","payload":"1"},"src":"c-1"})");
    core_.broker_message(
        R"({"type":"update","data":{"uid":"n1","endpoint":"robot","payload":{"d":"u"}}})");
    auto out = core_.take_output();
    EXPECT_TRUE(out.to_broker.empty());
    ASSERT_EQ(out.writes.size(), 2u);
    EXPECT_EQ(out.writes[0].uid, "n1");
    EXPECT_EQ(out.writes[0].endpoint, "led");
    EXPECT_EQ(out.writes[0].payload, "1");
    EXPECT_EQ(out.writes[0].src, "c-1");
    EXPECT_EQ(out.writes[1].payload, R"({"d": "u"})");

    // Another gateway's node: ignored quietly.
    core_.broker_message(
        R"({"type":"update","data":{"uid":"other","endpoint":"led","payload":"1"},"src":"c"})");
    EXPECT_TRUE(core_.take_output().empty());
    EXPECT_NE(log().find("not ours"), std::string::npos);

    // Not a write request (extra key, missing key, wrong type).
    for (const char* text :
         {R"({"type":"update","data":{"uid":"n1","endpoint":"led","payload":"1","x":1}})",
          R"({"type":"update","data":{"uid":"n1","endpoint":"led"}})",
          R"({"type":"update","data":{"uid":1,"endpoint":"led","payload":"1"}})",
          R"({"type":"update","uid":"n1"})"}) {
        core_.broker_message(text);
        EXPECT_TRUE(core_.take_output().empty()) << text;
    }
    EXPECT_NE(log().find("not a write request"), std::string::npos);
}

TEST_F(core_test, ignores_invalid_broker_messages)
{
    connected();
    core_.node_added("n1", t0);
    sent();
    for (const char* text : {"not json", "[1]", R"({"uid":"n1"})", R"({"type":"bogus"})",
                             R"({"type":"out","uid":"n1"})", R"({"type":"reset","uid":"n1"})", ""}) {
        core_.broker_message(text);
        EXPECT_TRUE(core_.take_output().empty()) << text;
    }
    EXPECT_TRUE(core_.registry().contains("n1"));
    EXPECT_NE(log().find("warning broker message ignored: Invalid message 'not json'."),
              std::string::npos)
        << log();
    EXPECT_NE(log().find("Invalid message type 'bogus'."), std::string::npos);
}

TEST_F(core_test, expires_nodes_after_max_time)
{
    connected();
    core_.node_added("quiet", t0);
    core_.node_added("alive", t0);
    core_.node_added("talking", t0);
    sent();
    core_.node_seen("alive", t0 + 100s);
    core_.resource_changed("talking", "temperature", "1", t0 + 100s);
    sent();

    core_.tick(t0 + 120s);
    EXPECT_EQ(sent(), std::vector<json>{keepalive}); // and no `out`

    core_.tick(t0 + 121s);
    auto out = core_.take_output();
    ASSERT_EQ(out.to_broker.size(), 1u);
    EXPECT_EQ(parse(out.to_broker[0]), json({{"type", "out"}, {"uid", "quiet"}}));
    EXPECT_EQ(out.expired, std::vector<std::string>{"quiet"});
    EXPECT_FALSE(core_.registry().contains("quiet"));

    core_.tick(t0 + 221s);
    out = core_.take_output();
    EXPECT_EQ(out.expired, (std::vector<std::string>{"alive", "talking"}));
    EXPECT_EQ(core_.registry().size(), 0u);
}

TEST_F(core_test, expired_nodes_are_reported_even_while_disconnected)
{
    core_.node_added("n1", t0);
    core_.tick(t0 + 200s);
    auto out = core_.take_output();
    EXPECT_TRUE(out.to_broker.empty());
    EXPECT_EQ(out.expired, std::vector<std::string>{"n1"});
}

TEST_F(core_test, sends_keepalive_every_30_seconds_while_connected)
{
    core_.tick(t0 + 40s);
    EXPECT_TRUE(sent().empty()); // not connected

    connected();
    std::vector<time_point> at;
    for (auto now = t0; now <= t0 + 95s; now += 1s) {
        core_.tick(now);
        for (const auto& m : sent()) {
            EXPECT_EQ(m, keepalive);
            at.push_back(now);
        }
    }
    EXPECT_EQ(at, (std::vector<time_point>{t0 + 30s, t0 + 60s, t0 + 90s}));

    // A long pause gives one keep-alive, not a burst.
    core_.tick(t0 + 500s);
    EXPECT_EQ(sent().size(), 1u);
    core_.tick(t0 + 501s);
    EXPECT_TRUE(sent().empty());

    // Reconnecting restarts the cadence.
    core_.broker_disconnected();
    core_.tick(t0 + 530s);
    EXPECT_TRUE(sent().empty());
    core_.broker_connected(t0 + 520s);
    core_.tick(t0 + 549s);
    EXPECT_TRUE(sent().empty());
    core_.tick(t0 + 550s);
    EXPECT_EQ(sent(), std::vector<json>{keepalive});
}

TEST_F(core_test, reset_keeps_protocol_and_the_kept_resources)
{
    connected();
    core_.node_added("n1", t0, {{"ip", "::1"}, {"name", "riot"}, {"led", "0"}});
    sent();
    EXPECT_EQ(core_.node_reset("n1", t0 + 10s, {"ip"}), registry_status::ok);
    EXPECT_EQ(sent(), std::vector<json>{json({{"type", "reset"}, {"uid", "n1"}})});
    const auto* n = core_.registry().find("n1");
    ASSERT_EQ(n->resources.size(), 2u);
    EXPECT_EQ(n->resources[0].name, "protocol");
    EXPECT_EQ(n->resources[1].name, "ip");
    EXPECT_EQ(n->last_seen, t0 + 10s);
    EXPECT_EQ(core_.node_reset("nope", t0), registry_status::unknown_node);
    EXPECT_TRUE(sent().empty());
}

TEST_F(core_test, removal_sends_out_once)
{
    connected();
    core_.node_added("n1", t0);
    sent();
    EXPECT_TRUE(core_.node_removed("n1"));
    EXPECT_EQ(sent(), std::vector<json>{json({{"type", "out"}, {"uid", "n1"}})});
    EXPECT_FALSE(core_.node_removed("n1"));
    EXPECT_TRUE(sent().empty());
    // Removed by the adapter: not reported as expired.
    EXPECT_TRUE(core_.take_output().expired.empty());
}

TEST_F(core_test, applies_an_adapters_node_events)
{
    connected();
    EXPECT_EQ(core_.apply(node_event::added("n1", {{"ip", "::1"}}), t0), registry_status::ok);
    EXPECT_EQ(core_.apply(node_event::added("n1"), t0), registry_status::exists);
    EXPECT_EQ(core_.apply(node_event::changed("n1", "temp", 21), t0), registry_status::ok);
    EXPECT_EQ(core_.apply(node_event::seen("n1"), t0 + 5s), registry_status::ok);
    EXPECT_EQ(core_.registry().find("n1")->last_seen, t0 + 5s);
    EXPECT_EQ(core_.apply(node_event::was_reset("n1", {"ip"}), t0), registry_status::ok);
    EXPECT_EQ(core_.registry().find("n1")->find("temp"), nullptr);
    EXPECT_NE(core_.registry().find("n1")->find("ip"), nullptr);
    EXPECT_EQ(core_.apply(node_event::removed("n1"), t0), registry_status::ok);
    EXPECT_EQ(core_.apply(node_event::removed("n1"), t0), registry_status::unknown_node);
    std::vector<std::string> types;
    for (const auto& m : sent()) {
        types.push_back(m["type"]);
    }
    EXPECT_EQ(types, (std::vector<std::string>{"new", "update", "update", "update", "reset",
                                               "out"}));
}

class limited_core_test : public core_test {
protected:
    limited_core_test() : core_test(make_limited()) {}
    static core_config make_limited()
    {
        auto c = make_config();
        c.limits.max_nodes = 1;
        c.limits.max_resources = 3; // protocol + 2
        c.limits.max_value_bytes = 32;
        return c;
    }
};

TEST_F(limited_core_test, refuses_and_logs_beyond_the_limits)
{
    connected();
    EXPECT_EQ(core_.node_added("n1", t0, {{"a", "1"}, {"big", std::string(100, 'x')}}),
              registry_status::ok);
    auto msgs = sent();
    EXPECT_EQ(msgs.size(), 3u); // new, protocol, a
    EXPECT_EQ(core_.node_added("n2", t0), registry_status::too_many_nodes);
    EXPECT_TRUE(sent().empty());
    EXPECT_NE(log().find("warning node 'n2': new node refused: too many nodes"), std::string::npos)
        << log();
    EXPECT_NE(log().find("resource 'big' refused: value too large"), std::string::npos);

    EXPECT_EQ(core_.resource_changed("n1", "b", "2", t0), registry_status::ok);
    EXPECT_EQ(core_.resource_changed("n1", "c", "3", t0), registry_status::too_many_resources);
    EXPECT_EQ(core_.resource_changed("n1", "a", std::string(100, 'x'), t0),
              registry_status::value_too_large);
    EXPECT_EQ(sent().size(), 1u); // only b
    EXPECT_EQ(*core_.registry().find("n1")->find("a"), "1");
}

TEST(core_config_test, zero_max_time_never_expires)
{
    core_config c;
    c.protocol = "WebSocket";
    c.max_time = 0s;
    gateway_core core(c, nullptr);
    core.node_added("n1", t0);
    core.tick(t0 + 100000s);
    EXPECT_TRUE(core.registry().contains("n1"));
    EXPECT_TRUE(core.take_output().empty());
}
