// mqtt_logic without a broker: events in, MQTT actions and node events
// out, and the log lines for refused input.
#include "gateways/mqtt/mqtt_logic.hpp"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <algorithm>
#include <sstream>

using namespace aiot::gw;
using namespace aiot::gw::mqtt;
using namespace std::chrono_literals;

namespace {

const time_point t0{};

// Takes the node events the logic returns, records them as text and
// answers each (add_status for an add, ok otherwise), as the gateway's
// loop does with the real cache.
class recording_sink {
public:
    void settle(mqtt_logic& logic)
    {
        for (auto events = logic.take_node_events(); !events.empty();
             events = logic.take_node_events()) {
            std::vector<registry_status> statuses;
            for (const auto& e : events) {
                statuses.push_back(record(e));
            }
            logic.applied(statuses);
        }
    }

    std::vector<std::string> take() { return std::exchange(calls, {}); }

    std::vector<std::string> calls;
    registry_status add_status = registry_status::ok;

private:
    registry_status record(const node_event& e)
    {
        switch (e.what) {
        case node_event::kind::add: {
            if (add_status != registry_status::ok) {
                return add_status;
            }
            json init = json::object();
            for (const auto& r : e.initial) {
                init[r.name] = r.value;
            }
            calls.push_back("add " + e.uid + " " + init.dump());
            return add_status;
        }
        case node_event::kind::set:
            calls.push_back("set " + e.uid + " " + e.name + " " + e.value.dump());
            break;
        case node_event::kind::touch: calls.push_back("touch " + e.uid); break;
        case node_event::kind::reset: calls.push_back("reset " + e.uid); break;
        case node_event::kind::remove: calls.push_back("remove " + e.uid); break;
        }
        return registry_status::ok;
    }
};

std::string describe(const action& a)
{
    return std::visit(
        [](const auto& x) -> std::string {
            using T = std::decay_t<decltype(x)>;
            std::string text;
            if constexpr (std::is_same_v<T, publish_message>) {
                return "pub " + x.topic + " '" + x.payload + "'";
            } else {
                if constexpr (std::is_same_v<T, subscribe_topics>) {
                    text = x.qos == 1 ? "sub" : "sub(qos " + std::to_string(x.qos) + ")";
                } else {
                    text = "unsub";
                }
                for (const auto& t : x.topics) {
                    text += " " + t;
                }
                return text;
            }
        },
        a);
}

using strings = std::vector<std::string>;

class mqtt_logic_test : public ::testing::Test {
protected:
    explicit mqtt_logic_test(logic_config config = {})
        : log_(std::make_shared<spdlog::logger>(
              "gw.mqtt.test", std::make_shared<spdlog::sinks::ostream_sink_st>(log_text_))),
          logic_(config, log_, [this] { return "uid-" + std::to_string(++uids_); })
    {
        log_->set_level(spdlog::level::debug);
        log_->set_pattern("%l %v");
    }

    // A message in, its node events settled (as the gateway does).
    void message(std::string_view topic, std::string_view payload)
    {
        logic_.message(topic, payload);
        sink_.settle(logic_);
    }

    strings actions()
    {
        strings out;
        for (const auto& a : logic_.take_actions()) {
            out.push_back(describe(a));
        }
        return out;
    }

    void connect()
    {
        logic_.connected(t0);
        actions();
    }

    // A node with resources, everything taken.
    void discovered(const std::string& id, const std::string& resources)
    {
        message("node/check", R"({"id":")" + id + R"("})");
        message("node/" + id + "/resources", resources);
        actions();
        sink_.take();
    }

    std::string log() const { return log_text_.str(); }
    std::size_t count_in_log(const std::string& text) const
    {
        std::size_t n = 0;
        const auto all = log();
        for (auto pos = all.find(text); pos != std::string::npos; pos = all.find(text, pos + 1)) {
            ++n;
        }
        return n;
    }

    std::ostringstream log_text_;
    std::shared_ptr<spdlog::logger> log_;
    recording_sink sink_;
    int uids_ = 0;
    mqtt_logic logic_;
};

class small_limits_test : public mqtt_logic_test {
protected:
    static logic_config limits()
    {
        logic_config c;
        c.max_nodes = 5;
        c.max_resources = 3;
        c.max_payload_bytes = 1000;
        return c;
    }
    small_limits_test() : mqtt_logic_test(limits()) {}
};

class values_qos0_test : public mqtt_logic_test {
protected:
    static logic_config qos0()
    {
        logic_config c;
        c.values_qos = 0;
        return c;
    }
    values_qos0_test() : mqtt_logic_test(qos0()) {}
};

} // namespace

TEST_F(mqtt_logic_test, connect_subscribes_node_check_and_asks_nodes_to_check_in)
{
    logic_.connected(t0);
    EXPECT_EQ(actions(), (strings{"sub node/check", "pub gateway/check ''"}));
    EXPECT_TRUE(logic_.is_connected());
}

TEST_F(mqtt_logic_test, a_new_node_is_announced_subscribed_and_discovered)
{
    connect();
    message("node/check", R"({"id":"n1"})");
    EXPECT_EQ(sink_.take(), (strings{R"(add uid-1 {"id":"n1"})"}));
    EXPECT_EQ(actions(),
              (strings{"sub node/n1/resources", "pub gateway/n1/discover 'resources'"}));
    ASSERT_NE(logic_.find("n1"), nullptr);
    EXPECT_EQ(logic_.find("n1")->uid, "uid-1");

    message("node/n1/resources", R"(["name","led","temperature"])");
    EXPECT_EQ(actions(), (strings{"sub node/n1/name node/n1/led node/n1/temperature",
                                  "pub gateway/n1/discover 'values'"}));
    EXPECT_TRUE(logic_.find("n1")->discovered);

    message("node/n1/temperature", R"({"value":"23°C"})");
    EXPECT_EQ(sink_.take(), (strings{R"(set uid-1 temperature "23°C")"}));
}

TEST_F(mqtt_logic_test, a_known_node_checking_in_is_refreshed_only)
{
    connect();
    discovered("n1", R"(["led"])");
    message("node/check", R"({"id":"n1"})");
    EXPECT_EQ(sink_.take(), (strings{"touch uid-1"}));
    EXPECT_TRUE(actions().empty());
    EXPECT_EQ(logic_.size(), 1u);
}

TEST_F(mqtt_logic_test, an_undiscovered_node_is_asked_again_at_a_check_with_backoff)
{
    connect();
    message("node/check", R"({"id":"n1"})");
    actions();
    // Under a burst the answer may be queued: a check soon after asks nothing.
    logic_.tick(t0 + 4s);
    message("node/check", R"({"id":"n1"})");
    EXPECT_TRUE(actions().empty());
    logic_.tick(t0 + 5s);
    message("node/check", R"({"id":"n1"})");
    EXPECT_EQ(actions(), (strings{"pub gateway/n1/discover 'resources'"}));
    message("node/check", R"({"id":"n1"})");
    EXPECT_TRUE(actions().empty()) << "at most once per interval";
    // Then 10 s, 20 s, and 40 s at most.
    logic_.tick(t0 + 14s);
    message("node/check", R"({"id":"n1"})");
    EXPECT_TRUE(actions().empty());
    logic_.tick(t0 + 15s);
    message("node/check", R"({"id":"n1"})");
    EXPECT_EQ(actions(), (strings{"pub gateway/n1/discover 'resources'"}));
    logic_.tick(t0 + 35s); // 20 s after the last request
    actions();             // gateway/check
    message("node/check", R"({"id":"n1"})");
    EXPECT_EQ(actions(), (strings{"pub gateway/n1/discover 'resources'"}));
    logic_.tick(t0 + 75s);
    actions();
    message("node/check", R"({"id":"n1"})");
    EXPECT_EQ(actions(), (strings{"pub gateway/n1/discover 'resources'"}));
    logic_.tick(t0 + 114s);
    actions();
    message("node/check", R"({"id":"n1"})");
    EXPECT_TRUE(actions().empty()) << "40 s at most, not 80";
    logic_.tick(t0 + 115s);
    actions();
    message("node/check", R"({"id":"n1"})");
    EXPECT_EQ(actions(), (strings{"pub gateway/n1/discover 'resources'"}));
}

TEST_F(mqtt_logic_test, values_keep_their_json_type)
{
    connect();
    discovered("n1", R"(["a","b","c","d"])");
    message("node/n1/a", R"({"value":21.5})");
    message("node/n1/b", R"({"value":{"lat":1,"lng":2}})");
    message("node/n1/c", R"({"value":[1,2]})");
    message("node/n1/d", R"({"value":null})");
    EXPECT_EQ(sink_.take(), (strings{"set uid-1 a 21.5", R"(set uid-1 b {"lat":1,"lng":2})",
                                     "set uid-1 c [1,2]", "set uid-1 d null"}));
}

TEST_F(mqtt_logic_test, non_json_payloads_are_ignored_and_logged)
{
    connect();
    discovered("n1", R"(["led"])");
    message("node/check", "hello");
    message("node/check", "");
    message("node/n1/resources", "{not json");
    message("node/n1/led", "1");
    message("node/n1/led", "\x01\x02\x03");
    EXPECT_TRUE(sink_.take().empty());
    EXPECT_TRUE(actions().empty());
    EXPECT_EQ(logic_.rejected(), 5u);
    EXPECT_NE(log().find("node/check ignored: invalid JSON: 'hello'"), std::string::npos)
        << log();
    EXPECT_NE(log().find("node 'n1': resource list ignored"), std::string::npos);
    EXPECT_NE(log().find(R"(node 'n1': led ignored: expected {"value": ...}, got '1')"),
              std::string::npos);
    EXPECT_NE(log().find(R"(got '\x01\x02\x03')"), std::string::npos)
        << "control bytes are not logged raw";
}

TEST_F(mqtt_logic_test, logged_excerpts_are_short_printable_utf8)
{
    connect();
    message("node/check", "\xff\xfe caf\xc3\xa9 \xe2\x82");
    EXPECT_NE(log().find("invalid JSON: '\xef\xbf\xbd\xef\xbf\xbd café \xef\xbf\xbd\xef\xbf\xbd'"),
              std::string::npos)
        << log();
    message("node/check", std::string(100, 'z'));
    EXPECT_NE(log().find("'" + std::string(40, 'z') + "...'"), std::string::npos) << log();
}

TEST_F(mqtt_logic_test, payloads_nested_too_deep_are_dropped_and_logged)
{
    connect();
    discovered("n1", R"(["led"])");
    for (const std::size_t depth : {65u, 10'000u, 100'000u}) {
        const auto deep = std::string(depth, '[') + std::string(depth, ']');
        message("node/check", R"({"id":)" + deep + "}");
        message("node/n1/resources", deep);
        message("node/n1/led", R"({"value":)" + deep + "}");
    }
    EXPECT_TRUE(sink_.take().empty());
    EXPECT_EQ(logic_.rejected(), 9u);
    EXPECT_NE(log().find("JSON nested too deep"), std::string::npos) << log();
    // 64 levels are fine.
    message("node/n1/led",
                   R"({"value":)" + std::string(63, '[') + std::string(63, ']') + "}");
    EXPECT_EQ(sink_.take().size(), 1u);
}

TEST_F(mqtt_logic_test, wrong_json_shapes_are_ignored)
{
    connect();
    discovered("n1", R"(["led"])");
    for (const auto* p : {R"([])", R"({"ID":"x"})", R"({"id":5})", R"({"id":null})", R"("n2")"}) {
        message("node/check", p);
    }
    message("node/n1/led", R"({"val":"1"})");
    message("node/n1/led", R"(["1"])");
    message("node/n1/resources", R"({"name":1})");
    message("node/n1/resources", R"("led")");
    EXPECT_TRUE(sink_.take().empty());
    EXPECT_TRUE(actions().empty());
    EXPECT_EQ(logic_.size(), 1u);
    EXPECT_EQ(logic_.rejected(), 9u);
}

TEST_F(mqtt_logic_test, topics_of_unexpected_depth_or_root_are_ignored)
{
    connect();
    discovered("n1", R"(["led"])");
    for (const auto* topic : {"node", "node/", "node/n1", "node/n1/led/extra", "node/n1/led/a/b/c",
                              "gateway/n1/led", "nodes/n1/led", "/node/n1/led", "node/check/x"}) {
        message(topic, R"({"value":"1"})");
    }
    EXPECT_TRUE(sink_.take().empty());
    EXPECT_EQ(logic_.rejected(), 9u);
    EXPECT_NE(log().find("topic 'node/n1/led/extra' ignored: expected node/check or "
                         "node/<id>/<resource>"),
              std::string::npos)
        << log();
}

TEST_F(mqtt_logic_test, unknown_node_ids_are_ignored)
{
    connect();
    message("node/ghost/resources", R"(["led"])");
    message("node/ghost/led", R"({"value":"1"})");
    EXPECT_TRUE(sink_.take().empty());
    EXPECT_TRUE(actions().empty());
    EXPECT_NE(log().find("topic 'node/ghost/led' ignored: unknown node id"), std::string::npos);
}

TEST_F(mqtt_logic_test, node_ids_that_cannot_be_a_topic_level_are_refused)
{
    connect();
    for (const auto* id : {"a/b", "a+", "#", "", "tab\\t", "nul\\u0000"}) {
        message("node/check", std::string(R"({"id":")") + id + R"("})");
    }
    message("node/check", R"({"id":")" + std::string(65, 'x') + R"("})");
    EXPECT_TRUE(sink_.take().empty());
    EXPECT_TRUE(actions().empty());
    EXPECT_EQ(logic_.size(), 0u);
    EXPECT_EQ(logic_.rejected(), 7u);
    EXPECT_NE(log().find("node id 'a/b' is empty, longer than 64 bytes or contains '/', '+', "
                         "'#' or a control character"),
              std::string::npos)
        << log();
    // UTF-8 ids are fine.
    message("node/check", R"({"id":"nœud-1"})");
    EXPECT_EQ(logic_.size(), 1u);
}

TEST_F(small_limits_test, resource_lists_are_filtered_and_capped)
{
    connect();
    message("node/check", R"({"id":"n1"})");
    actions();
    message("node/n1/resources",
                   R"(["a", 1, "a", "", "x/y", "+", "protocol", "resources", "b", "c", "d", "e"])");
    EXPECT_EQ(actions(), (strings{"sub node/n1/a node/n1/b node/n1/c",
                                  "pub gateway/n1/discover 'values'"}));
    EXPECT_EQ(logic_.find("n1")->resources, (strings{"a", "b", "c"}));
    EXPECT_NE(log().find("node 'n1': 6 resource names refused"), std::string::npos) << log();
    EXPECT_NE(log().find("node 'n1': 2 resources beyond the limit of 3 ignored"),
              std::string::npos);

    // A later list subscribes only what is new (none fits: still capped).
    message("node/n1/resources", R"(["c","b","z"])");
    EXPECT_EQ(actions(), (strings{"pub gateway/n1/discover 'values'"}));
}

TEST_F(small_limits_test, a_huge_resource_list_is_capped_and_oversized_payloads_are_ignored)
{
    connect();
    message("node/check", R"({"id":"n1"})");
    actions();
    json names = json::array();
    for (int i = 0; i < 100; ++i) {
        names.push_back("r" + std::to_string(i));
    }
    message("node/n1/resources", names.dump());
    EXPECT_EQ(logic_.find("n1")->resources.size(), 3u);
    sink_.take();

    const std::string big = R"({"value":")" + std::string(2000, 'x') + R"("})";
    message("node/n1/r0", big);
    EXPECT_TRUE(sink_.take().empty());
    EXPECT_NE(log().find("payload of 2012 bytes ignored (limit 1000)"), std::string::npos)
        << log();
}

TEST_F(small_limits_test, a_flood_of_new_ids_stops_at_max_nodes_with_one_warning)
{
    connect();
    // Five real nodes that answer discovery fill the table.
    for (int i = 0; i < 5; ++i) {
        discovered("n" + std::to_string(i), R"(["led"])");
    }
    for (int i = 5; i < 100; ++i) {
        message("node/check", R"({"id":"n)" + std::to_string(i) + R"("})");
    }
    EXPECT_EQ(logic_.size(), 5u);
    EXPECT_TRUE(sink_.take().empty());
    EXPECT_EQ(count_in_log("refusing new nodes until one leaves"), 1u);
    EXPECT_EQ(logic_.rejected(), 95u);
    EXPECT_EQ(logic_.evicted(), 0u);

    // Once a node leaves, a new one fits again.
    logic_.node_expired("uid-1");
    message("node/check", R"({"id":"late"})");
    EXPECT_NE(logic_.find("late"), nullptr);
}

// Issue 9 item 8: anyone who may publish on the MQTT broker filled the
// table with ids that never answer discovery and locked real nodes out.
TEST_F(small_limits_test, fake_ids_that_never_answer_discovery_make_room_for_real_nodes)
{
    connect();
    discovered("real1", R"(["led"])");
    for (int i = 0; i < 1000; ++i) {
        message("node/check", R"({"id":"fake)" + std::to_string(i) + R"("})");
    }
    EXPECT_EQ(logic_.size(), 5u);
    EXPECT_EQ(logic_.evicted(), 996u);
    // The oldest waiting id went first each time; the discovered node stayed.
    EXPECT_NE(logic_.find("real1"), nullptr);
    EXPECT_EQ(logic_.find("fake995"), nullptr);
    EXPECT_NE(logic_.find("fake996"), nullptr);
    // Every evicted node went out of the cache and off the subscriptions.
    const auto calls = sink_.take();
    EXPECT_EQ(std::count_if(calls.begin(), calls.end(),
                            [](const std::string& c) { return c.rfind("remove ", 0) == 0; }),
              996);
    const auto acts = actions();
    EXPECT_NE(std::find(acts.begin(), acts.end(), "unsub node/fake0/resources"), acts.end());
    // Ten warnings this tick (the budget), then one summary.
    EXPECT_EQ(count_in_log("never sent its resource list"), 10u);
    logic_.tick(t0 + 1s);
    EXPECT_NE(log().find("986 more undiscovered nodes removed"), std::string::npos) << log();

    // A real node arriving now gets in and, once discovered, is kept.
    message("node/check", R"({"id":"real2"})");
    message("node/real2/resources", R"(["temperature"])");
    for (int i = 1000; i < 1100; ++i) {
        message("node/check", R"({"id":"fake)" + std::to_string(i) + R"("})");
    }
    EXPECT_NE(logic_.find("real1"), nullptr);
    EXPECT_NE(logic_.find("real2"), nullptr);
    EXPECT_EQ(logic_.size(), 5u);
    // An expired undiscovered node leaves the eviction order too.
    const auto* last = logic_.find("fake1099");
    ASSERT_NE(last, nullptr);
    logic_.node_expired(last->uid);
    EXPECT_EQ(logic_.size(), 4u);
    message("node/check", R"({"id":"real3"})");
    EXPECT_EQ(logic_.size(), 5u);
}

TEST_F(mqtt_logic_test, a_new_node_is_admitted_once_the_cache_took_it)
{
    connect();
    logic_.message("node/check", R"({"id":"n1"})");
    EXPECT_EQ(logic_.size(), 0u); // waits for the cache's answer
    EXPECT_TRUE(logic_.take_actions().empty());
    const auto events = logic_.take_node_events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].what, node_event::kind::add);
    EXPECT_EQ(events[0].uid, "uid-1");
    logic_.applied({registry_status::ok});
    EXPECT_EQ(logic_.size(), 1u);
    EXPECT_EQ(actions(), (strings{"sub node/n1/resources", "pub gateway/n1/discover 'resources'"}));
}

TEST_F(mqtt_logic_test, a_node_refused_by_the_cache_is_not_kept)
{
    connect();
    sink_.add_status = registry_status::too_many_nodes;
    message("node/check", R"({"id":"n1"})");
    EXPECT_EQ(logic_.size(), 0u);
    EXPECT_TRUE(actions().empty());
    EXPECT_NE(log().find("node 'n1' refused by the node cache: too many nodes"), std::string::npos)
        << log();
}

TEST_F(mqtt_logic_test, values_for_unlisted_resources_are_ignored)
{
    connect();
    discovered("n1", R"(["led"])");
    message("node/n1/temperature", R"({"value":"1"})");
    EXPECT_TRUE(sink_.take().empty());
    EXPECT_NE(log().find("value for unlisted resource 'temperature'"), std::string::npos);
}

TEST_F(mqtt_logic_test, gateway_check_every_interval_only_while_connected)
{
    logic_.tick(t0 + 100s);
    EXPECT_TRUE(actions().empty());
    connect(); // publishes one at t0, next due at t0 + 30 s
    logic_.tick(t0 + 29s);
    EXPECT_TRUE(actions().empty());
    logic_.tick(t0 + 30s);
    EXPECT_EQ(actions(), (strings{"pub gateway/check ''"}));
    logic_.tick(t0 + 31s);
    EXPECT_TRUE(actions().empty());
    // Ticks stopped for minutes: one check, not a burst.
    logic_.tick(t0 + 600s);
    EXPECT_EQ(actions(), (strings{"pub gateway/check ''"}));
    logic_.tick(t0 + 601s);
    EXPECT_TRUE(actions().empty());
    logic_.disconnected();
    logic_.tick(t0 + 700s);
    EXPECT_TRUE(actions().empty());
}

TEST_F(mqtt_logic_test, writes_publish_to_the_set_topic)
{
    connect();
    discovered("n1", R"(["led"])");
    logic_.write({"uid-1", "led", "1", "client-1"});
    EXPECT_EQ(actions(), (strings{"pub gateway/n1/led/set '1'"}));

    logic_.write({"uid-9", "led", "1", "c"});
    logic_.write({"uid-1", "led/x", "1", "c"});
    logic_.write({"uid-1", "#", "1", "c"});
    EXPECT_TRUE(actions().empty());
    EXPECT_NE(log().find("write to 'led' of node 'uid-9' dropped"), std::string::npos) << log();
    EXPECT_NE(log().find("endpoint 'led/x' cannot be a topic level"), std::string::npos);

    logic_.disconnected();
    logic_.write({"uid-1", "led", "0", "c"});
    EXPECT_TRUE(actions().empty());
    EXPECT_NE(log().find("not connected to the MQTT broker"), std::string::npos);
}

TEST_F(mqtt_logic_test, an_expired_node_is_unsubscribed_and_forgotten)
{
    connect();
    discovered("n1", R"(["led","temperature"])");
    logic_.node_expired("uid-1");
    EXPECT_EQ(actions(),
              (strings{"unsub node/n1/resources node/n1/led node/n1/temperature"}));
    EXPECT_EQ(logic_.find("n1"), nullptr);
    message("node/n1/led", R"({"value":"1"})");
    EXPECT_TRUE(sink_.take().empty());

    // It comes back as a new node with a new uid.
    message("node/check", R"({"id":"n1"})");
    EXPECT_EQ(sink_.take(), (strings{R"(add uid-2 {"id":"n1"})"}));
    logic_.node_expired("uid-unknown"); // harmless
}

TEST_F(mqtt_logic_test, a_new_session_resubscribes_everything)
{
    connect();
    discovered("n1", R"(["led"])");
    message("node/check", R"({"id":"n2"})"); // never answers discovery
    actions();
    logic_.disconnected();
    // While down nothing is published or subscribed, but state is kept.
    message("node/n1/led", R"({"value":"1"})");
    message("node/check", R"({"id":"n3"})");
    EXPECT_TRUE(actions().empty());
    EXPECT_EQ(logic_.size(), 3u);

    logic_.connected(t0 + 5s);
    EXPECT_EQ(actions(), (strings{"sub node/check node/n1/resources node/n2/resources "
                                  "node/n3/resources",
                                  "sub node/n1/led", "pub gateway/check ''", "pub gateway/n2/discover 'resources'",
                                  "pub gateway/n3/discover 'resources'"}));
}

TEST_F(mqtt_logic_test, rejections_beyond_the_budget_are_summed_up_at_the_tick)
{
    connect();
    for (int i = 0; i < 50; ++i) {
        message("node/check", "garbage");
    }
    EXPECT_EQ(count_in_log("warning node/check ignored"), 10u) << log();
    logic_.tick(t0 + 1s);
    EXPECT_NE(log().find("warning 40 more invalid MQTT messages ignored"), std::string::npos)
        << log();
    // A fresh budget.
    message("node/check", "garbage");
    EXPECT_EQ(count_in_log("warning node/check ignored"), 11u);
}

TEST_F(values_qos0_test, value_topics_are_subscribed_at_their_own_qos_and_discovery_at_qos_1)
{
    connect();
    message("node/check", R"({"id":"n1"})");
    EXPECT_EQ(actions(),
              (strings{"sub node/n1/resources", "pub gateway/n1/discover 'resources'"}));
    message("node/n1/resources", R"(["led","temperature"])");
    EXPECT_EQ(actions(), (strings{"sub(qos 0) node/n1/led node/n1/temperature",
                                  "pub gateway/n1/discover 'values'"}));
    message("node/check", R"({"id":"n2"})");
    actions();

    // A new session: node/check and the resource lists at QoS 1, values apart.
    logic_.disconnected();
    logic_.connected(t0 + 5s);
    EXPECT_EQ(actions(), (strings{"sub node/check node/n1/resources node/n2/resources",
                                  "sub(qos 0) node/n1/led node/n1/temperature",
                                  "pub gateway/check ''", "pub gateway/n2/discover 'resources'"}));

    // Forgetting a node unsubscribes all its topics at once, whatever their QoS.
    logic_.node_expired("uid-1");
    EXPECT_EQ(actions(),
              (strings{"unsub node/n1/resources node/n1/led node/n1/temperature"}));
}

TEST_F(mqtt_logic_test, discovery_requests_go_at_qos_0_and_checks_and_writes_at_qos_1)
{
    logic_.connected(t0);
    message("node/check", R"({"id":"n1"})");
    message("node/n1/resources", R"(["led"])");
    logic_.write({"uid-1", "led", "1", "client"});
    std::vector<std::pair<std::string, int>> published;
    for (const auto& a : logic_.take_actions()) {
        if (const auto* p = std::get_if<publish_message>(&a)) {
            published.emplace_back(p->topic, p->qos);
        }
    }
    EXPECT_EQ(published, (std::vector<std::pair<std::string, int>>{{"gateway/check", 1},
                                                                   {"gateway/n1/discover", 0},
                                                                   {"gateway/n1/discover", 0},
                                                                   {"gateway/n1/led/set", 1}}));
}
