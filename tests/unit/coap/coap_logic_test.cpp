// coap_logic against a real gateway_core: what a node's POSTs, the answers
// to our requests and web writes turn into (node events, broker messages,
// requests, replies, log lines). The fixture applies the logic's node
// events to the core as the gateway does. No sockets, no clock.
#include "gateways/coap/coap_logic.hpp"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

using namespace aiot::gw;
using namespace aiot::gw::coap;

namespace {

const peer node_a{"127.0.0.2"};
const peer node_b{"127.0.0.3"};

coap_result answer(std::uint8_t c, std::string payload = {})
{
    return {true, c, std::move(payload), {}};
}

coap_result no_answer()
{
    return {false, 0, {}, "no answer within 10000 ms"};
}

class coap_logic_test : public ::testing::Test {
protected:
    coap_logic_test() : coap_logic_test(logic_config{}) {}

    explicit coap_logic_test(logic_config config)
        : log_(std::make_shared<spdlog::logger>(
              "gw.coap", std::make_shared<spdlog::sinks::ostream_sink_st>(log_text_))),
          core_(core_config{"CoAP"}, log_),
          logic_(config, log_, [this] { return now_; })
    {
        log_->set_level(spdlog::level::debug);
        log_->set_pattern("%l %v");
        core_.broker_connected(time_point{});
        core_.take_output();
    }

    // Applies the logic's node events to the core until it has none left
    // (as the gateway does); the reply that replaces the POST's, if any.
    std::optional<coap_reply> settle()
    {
        std::optional<coap_reply> refused;
        for (auto events = logic_.take_node_events(); !events.empty();
             events = logic_.take_node_events()) {
            std::vector<registry_status> statuses;
            for (const auto& e : events) {
                statuses.push_back(core_.apply(e, now_));
            }
            if (auto r = logic_.applied(statuses)) {
                refused = std::move(r);
            }
        }
        return refused;
    }

    coap_reply alive(std::string_view payload, const peer& from)
    {
        auto reply = logic_.on_alive(payload, from);
        return settle().value_or(std::move(reply));
    }

    coap_reply server(std::string_view payload, const peer& from)
    {
        auto reply = logic_.on_server(payload, from);
        return settle().value_or(std::move(reply));
    }

    void result(std::uint64_t id, const coap_result& r)
    {
        logic_.on_result(id, r);
        settle();
    }

    // Broker messages decided since the last call.
    std::vector<json> sent()
    {
        settle();
        std::vector<json> result;
        for (const auto& text : core_.take_output().to_broker) {
            result.push_back(json::parse(text));
        }
        return result;
    }

    static json update(const std::string& uid, const std::string& endpoint, const json& data)
    {
        return {{"type", "update"}, {"uid", uid}, {"endpoint", endpoint}, {"data", data},
                {"dst", "all"}};
    }

    // Creates node uid at `from` and takes its discovery request.
    coap_request new_node(const std::string& uid, const peer& from)
    {
        const auto reply = alive("alive:" + uid, from);
        EXPECT_EQ(reply.code, code::changed);
        auto requests = logic_.take_requests();
        EXPECT_EQ(requests.size(), 1u);
        sent();
        return requests.empty() ? coap_request{} : requests[0];
    }

    // Creates node uid with a finished discovery (no resources).
    void known_node(const std::string& uid, const peer& from)
    {
        const auto wk = new_node(uid, from);
        result(wk.id, answer(code::content, ""));
        sent();
    }

    const node* cached(const std::string& uid) const { return core_.registry().find(uid); }
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

    time_point now_{};
    std::ostringstream log_text_;
    std::shared_ptr<spdlog::logger> log_;
    gateway_core core_;
    coap_logic logic_;
};

} // namespace

TEST_F(coap_logic_test, returns_node_events_instead_of_changing_the_cache)
{
    const auto reply = logic_.on_alive("alive:n1", node_a);
    EXPECT_EQ(reply.code, code::changed);
    EXPECT_EQ(core_.registry().find("n1"), nullptr); // nothing applied yet
    auto events = logic_.take_node_events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].what, node_event::kind::add);
    EXPECT_EQ(events[0].uid, "n1");
    ASSERT_EQ(events[0].initial.size(), 1u);
    EXPECT_EQ(events[0].initial[0].name, "ip");
    EXPECT_EQ(events[0].initial[0].value, "127.0.0.2");
    EXPECT_FALSE(logic_.applied({registry_status::ok}));
    EXPECT_TRUE(logic_.take_node_events().empty());

    // A value POSTed to /server is an event too.
    logic_.on_server("temperature:21", node_a);
    events = logic_.take_node_events();
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].what, node_event::kind::set);
    EXPECT_EQ(events[0].name, "temperature");
    EXPECT_EQ(events[0].value, "21");
    // The cache refusing it changes the reply.
    const auto refused = logic_.applied({registry_status::value_too_large});
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->code, code::too_large);
}

TEST_F(coap_logic_test, a_node_the_cache_refuses_is_forgotten)
{
    logic_.on_alive("alive:n1", node_a);
    logic_.take_node_events();
    const auto refused = logic_.applied({registry_status::too_many_nodes});
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->code, code::unavailable);
    EXPECT_EQ(logic_.nodes().find("n1"), nullptr);
    EXPECT_TRUE(logic_.take_requests().empty()); // its discovery is dropped
}

TEST_F(coap_logic_test, unknown_uid_is_announced_then_discovered)
{
    const auto reply = alive("alive:n1", node_a);
    EXPECT_EQ(reply.code, code::changed);
    EXPECT_EQ(reply.payload, "Received 'alive:n1'");
    const auto msgs = sent();
    ASSERT_EQ(msgs.size(), 3u);
    EXPECT_EQ(msgs[0], (json{{"type", "new"}, {"uid", "n1"}, {"dst", "all"}}));
    EXPECT_EQ(msgs[1], update("n1", "protocol", "CoAP"));
    EXPECT_EQ(msgs[2], update("n1", "ip", "127.0.0.2"));

    auto requests = logic_.take_requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].method, coap_method::get);
    EXPECT_EQ(requests[0].path, ".well-known/core");
    EXPECT_EQ(requests[0].address, "127.0.0.2");

    result(requests[0].id,
                     answer(code::content,
                            "</.well-known/core>;ct=40,<https://x.org/#v>;rel=\"impl-info\","
                            "</board>,</name>;rt=\"a, b\",</robot>"));
    requests = logic_.take_requests();
    ASSERT_EQ(requests.size(), 3u); // in parallel
    EXPECT_EQ(requests[0].path, "board");
    EXPECT_EQ(requests[1].path, "name");
    EXPECT_EQ(requests[2].path, "robot");
    EXPECT_EQ(logic_.nodes().find("n1")->discovery, discovery_state::running);

    result(requests[1].id, answer(code::content, "node-1"));
    result(requests[2].id, answer(code::make(4, 5))); // GET not allowed: skipped
    result(requests[0].id, answer(code::content, "native"));
    const auto values = sent();
    ASSERT_EQ(values.size(), 2u);
    EXPECT_EQ(values[0], update("n1", "name", "node-1"));
    EXPECT_EQ(values[1], update("n1", "board", "native"));
    EXPECT_EQ(cached("n1")->find("robot"), nullptr);
    EXPECT_EQ(logic_.nodes().find("n1")->discovery, discovery_state::done);
    EXPECT_NE(log().find("node 'n1': discovery done, 2 resource(s)"), std::string::npos);

    // A later alive only refreshes.
    EXPECT_EQ(alive("alive:n1", node_a).code, code::changed);
    EXPECT_TRUE(sent().empty());
    EXPECT_TRUE(logic_.take_requests().empty());
}

TEST_F(coap_logic_test, failed_discovery_is_retried_at_the_next_alive)
{
    const auto wk = new_node("n1", node_a);
    result(wk.id, no_answer());
    EXPECT_EQ(logic_.nodes().find("n1")->discovery, discovery_state::failed);
    EXPECT_NE(log().find("discovery failed (GET /.well-known/core: no answer within 10000 ms)"),
              std::string::npos);

    alive("Alive:n1", node_a);
    EXPECT_TRUE(sent().empty()); // no new announcement
    auto requests = logic_.take_requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].path, ".well-known/core");

    // A resource read that times out also makes the discovery retried.
    result(requests[0].id, answer(code::content, "</board>,</name>"));
    requests = logic_.take_requests();
    ASSERT_EQ(requests.size(), 2u);
    result(requests[0].id, answer(code::content, "native"));
    result(requests[1].id, no_answer());
    EXPECT_EQ(logic_.nodes().find("n1")->discovery, discovery_state::failed);
    EXPECT_EQ(sent().size(), 1u); // board
    alive("alive:n1", node_a);
    EXPECT_EQ(logic_.take_requests().size(), 1u);

    // An error code on /.well-known/core is a failure too.
    const auto wk2 = new_node("n2", node_b);
    result(wk2.id, answer(code::not_found));
    EXPECT_EQ(logic_.nodes().find("n2")->discovery, discovery_state::failed);
}

TEST_F(coap_logic_test, reset_clears_resources_and_rediscovers)
{
    const auto wk = new_node("n1", node_a);
    result(wk.id, answer(code::content, "</board>"));
    const auto old_read = logic_.take_requests();
    ASSERT_EQ(old_read.size(), 1u);
    server("temperature:20°C", node_a);
    sent();

    const auto reply = alive("reset:n1", node_a);
    EXPECT_EQ(reply.payload, "Received 'reset:n1'");
    const auto msgs = sent();
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0], (json{{"type", "reset"}, {"uid", "n1"}}));
    const auto* n = cached("n1");
    ASSERT_EQ(n->resources.size(), 2u);
    EXPECT_EQ(n->find("protocol")->get<std::string>(), "CoAP");
    EXPECT_EQ(n->find("ip")->get<std::string>(), "127.0.0.2");

    auto requests = logic_.take_requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].path, ".well-known/core");
    // The older discovery's answer arrives late: ignored.
    result(old_read[0].id, answer(code::content, "stale"));
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(cached("n1")->find("board"), nullptr);
}

TEST_F(coap_logic_test, server_values_from_known_addresses_only)
{
    known_node("n1", node_a);
    auto reply = server("temperature:23°C", node_a);
    EXPECT_EQ(reply.code, code::changed);
    EXPECT_EQ(reply.payload, "Received 'temperature:23°C'");
    auto msgs = sent();
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0], update("n1", "temperature", "23°C"));

    reply = server("temperature:23°C", node_b);
    EXPECT_EQ(reply.code, code::not_found);
    EXPECT_NE(log().find("POST /server from 127.0.0.3 refused (4.04): unknown node address"),
              std::string::npos);

    reply = server("no colon here", node_a);
    EXPECT_EQ(reply.code, code::bad_request);
    EXPECT_NE(log().find("expected '<resource>:<value>' in 'no colon here'"), std::string::npos);

    reply = server("x:" + std::string(2000, 'y'), node_a);
    EXPECT_EQ(reply.code, code::too_large);
    EXPECT_NE(log().find("payload of 2002 bytes, at most 1024"), std::string::npos);
    EXPECT_TRUE(sent().empty());
}

TEST_F(coap_logic_test, invalid_utf8_values_are_repaired_and_logged)
{
    known_node("n1", node_a);
    EXPECT_EQ(server("temperature:2\xff" "3", node_a).code, code::changed);
    const auto msgs = sent();
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0]["data"], "2\xef\xbf\xbd" "3");
    EXPECT_NE(log().find("value of 'temperature' is not valid UTF-8"), std::string::npos);
}

TEST_F(coap_logic_test, bad_alive_payloads_are_refused)
{
    EXPECT_EQ(alive("alive", node_a).code, code::bad_request);
    EXPECT_EQ(alive("alive:", node_a).code, code::bad_request);
    EXPECT_EQ(alive("alive:" + std::string(300, 'u'), node_a).code,
              code::bad_request); // uid longer than the registry takes
    EXPECT_EQ(alive(std::string(1025, 'a'), node_a).code, code::too_large);
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(logic_.nodes().size(), 0u);
    EXPECT_TRUE(logic_.take_requests().empty());
    EXPECT_NE(log().find("POST /alive from 127.0.0.2 refused (4.00): empty uid"),
              std::string::npos);
}

TEST_F(coap_logic_test, an_alive_from_another_address_cannot_hijack_a_node)
{
    known_node("n1", node_a);
    EXPECT_EQ(alive("alive:n1", node_b).code, code::forbidden);
    EXPECT_TRUE(sent().empty());
    EXPECT_TRUE(logic_.take_requests().empty());
    EXPECT_EQ(logic_.nodes().find("n1")->address, "127.0.0.2");
    EXPECT_EQ(server("a:1", node_b).code, code::not_found);
    EXPECT_EQ(server("a:1", node_a).code, code::changed);
    EXPECT_NE(log().find("is live at 127.0.0.2"), std::string::npos) << log();
}

TEST_F(coap_logic_test, a_reset_from_another_address_moves_the_node_once_the_old_one_is_silent)
{
    known_node("n1", node_a);
    // The old address still answers: the reset is ignored.
    EXPECT_EQ(alive("reset:n1", node_b).code, code::changed);
    auto requests = logic_.take_requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].kind, request_kind::probe);
    EXPECT_EQ(requests[0].address, "127.0.0.2");
    result(requests[0].id, answer(code::content, "</led>"));
    EXPECT_TRUE(sent().empty());
    EXPECT_EQ(logic_.nodes().find("n1")->address, "127.0.0.2");

    // The old address is silent: the node moves and is discovered again.
    alive("reset:n1", node_b);
    requests = logic_.take_requests();
    ASSERT_EQ(requests.size(), 1u);
    result(requests[0].id, no_answer());
    const auto msgs = sent();
    ASSERT_GE(msgs.size(), 1u);
    EXPECT_EQ(msgs.back(), update("n1", "ip", "127.0.0.3"));
    requests = logic_.take_requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].address, "127.0.0.3");
    EXPECT_EQ(server("a:1", node_a).code, code::not_found);
    EXPECT_EQ(server("a:1", node_b).code, code::changed);
}

TEST_F(coap_logic_test, writes_become_puts_and_updates_on_changed)
{
    known_node("n1", node_a);
    logic_.on_write({"n1", "led", "1", "client-1"});
    auto requests = logic_.take_requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].method, coap_method::put);
    EXPECT_EQ(requests[0].path, "led");
    EXPECT_EQ(requests[0].payload, "1");
    EXPECT_EQ(requests[0].address, "127.0.0.2");
    EXPECT_TRUE(sent().empty()); // not before the node confirms
    result(requests[0].id, answer(code::changed));
    auto msgs = sent();
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0], update("n1", "led", "1"));

    logic_.on_write({"n1", "led", "0", "client-1"});
    requests = logic_.take_requests();
    result(requests[0].id, answer(code::make(4, 5)));
    EXPECT_TRUE(sent().empty());
    EXPECT_NE(log().find("node 'n1': PUT /led '0' failed: 4.05"), std::string::npos);

    logic_.on_write({"n1", "led", "0", "client-1"});
    requests = logic_.take_requests();
    result(requests[0].id, no_answer());
    EXPECT_TRUE(sent().empty());

    logic_.on_write({"nobody", "led", "1", ""});
    logic_.on_write({"n1", "", "1", ""});
    logic_.on_write({"n1", "js", std::string(2000, 'x'), ""});
    EXPECT_TRUE(logic_.take_requests().empty());
}

TEST_F(coap_logic_test, expired_node_mid_discovery_leaves_nothing_behind)
{
    const auto wk = new_node("n1", node_a);
    result(wk.id, answer(code::content, "</a>,</b>,</c>,</d>,</e>,</f>"));
    const auto reads = logic_.take_requests();
    EXPECT_EQ(reads.size(), 4u); // per-node cap
    EXPECT_EQ(logic_.requests().queued(), 2u);
    core_.node_removed("n1");
    logic_.on_node_expired("n1");
    sent();
    EXPECT_EQ(logic_.requests().queued(), 0u);
    for (const auto& r : reads) {
        result(r.id, answer(code::content, "late"));
    }
    EXPECT_TRUE(sent().empty());
    EXPECT_TRUE(logic_.take_requests().empty());
    EXPECT_EQ(logic_.requests().in_flight(), 0u);
    EXPECT_EQ(server("a:1", node_a).code, code::not_found);
}

class coap_logic_limits_test : public coap_logic_test {
protected:
    coap_logic_limits_test()
        : coap_logic_test(logic_config{.max_nodes = 2,
                                       .queue = {.max_in_flight = 2,
                                                 .max_in_flight_per_node = 4,
                                                 .max_queued_per_node = 8}})
    {
    }
};

TEST_F(coap_logic_limits_test, caps_on_nodes_and_requests)
{
    alive("alive:a", node_a);
    alive("alive:b", node_b);
    const auto reply = alive("alive:c", peer{"127.0.0.4"});
    EXPECT_EQ(reply.code, code::unavailable);
    EXPECT_EQ(cached("c"), nullptr);

    auto requests = logic_.take_requests();
    ASSERT_EQ(requests.size(), 2u);
    // b answers with many resources; only two requests fly in total.
    result(requests[1].id, answer(code::content, "</1>,</2>,</3>"));
    auto more = logic_.take_requests();
    EXPECT_EQ(more.size(), 1u);
    // a never answers: b's reads still go on as slots free up.
    result(more[0].id, answer(code::content, "x"));
    more = logic_.take_requests();
    EXPECT_EQ(more.size(), 1u);
    EXPECT_EQ(more[0].uid, "b");
}

// Issue 9 item 9: every refused packet wrote a warning (a flood of bad
// alives was a flood of log lines).
TEST_F(coap_logic_test, refusals_are_logged_three_per_address_and_interval_then_summed_up)
{
    for (int i = 0; i < 50; ++i) {
        EXPECT_EQ(alive("garbage", node_a).code, code::bad_request);
    }
    EXPECT_EQ(alive("garbage", node_b).code, code::bad_request);
    EXPECT_EQ(count_in_log("warning POST /alive from 127.0.0.2 refused"), 3u) << log();
    EXPECT_EQ(count_in_log("warning POST /alive from 127.0.0.3 refused"), 1u) << log();
    // Every refusal is still answered (4.00) and kept at debug level.
    EXPECT_EQ(count_in_log("POST /alive from 127.0.0.2 refused"), 50u);
    now_ += std::chrono::seconds(11);
    logic_.flush_refusals();
    EXPECT_EQ(count_in_log("127.0.0.2: 47 more requests refused in the last interval"), 1u)
        << log();
    // A new interval logs again.
    alive("garbage", node_a);
    EXPECT_EQ(count_in_log("warning POST /alive from 127.0.0.2 refused"), 4u) << log();
}

// Issue 16: a node whose discovery failed (its CoAP server not up yet when
// it posted its first alive) was shown without resources until its next
// alive, up to 30 s later.
TEST_F(coap_logic_test, failed_discovery_is_retried_with_backoff_before_the_next_alive)
{
    const auto wk = new_node("n1", node_a);
    result(wk.id, {false, 0, {}, "unreachable (ICMP)"});
    EXPECT_NE(log().find("node 'n1' at 127.0.0.2: discovery failed (GET /.well-known/core: "
                         "unreachable (ICMP)); retrying in 500 ms"),
              std::string::npos)
        << log();
    EXPECT_EQ(logic_.next_retry(), now_ + std::chrono::milliseconds(500));
    logic_.on_retry_timer(); // too early
    EXPECT_TRUE(logic_.take_requests().empty());

    // The first retry fails too: the next comes 750 ms later.
    now_ += std::chrono::milliseconds(500);
    logic_.on_retry_timer();
    auto requests = logic_.take_requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].path, ".well-known/core");
    result(requests[0].id, {false, 0, {}, "unreachable (ICMP)"});
    EXPECT_EQ(logic_.next_retry(), now_ + std::chrono::milliseconds(750));

    // The second one finds the node's server up: discovered, no more retries.
    now_ += std::chrono::milliseconds(750);
    logic_.on_retry_timer();
    requests = logic_.take_requests();
    ASSERT_EQ(requests.size(), 1u);
    result(requests[0].id, answer(code::content, "</name>"));
    requests = logic_.take_requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].path, "name");
    result(requests[0].id, answer(code::content, "retried"));
    EXPECT_EQ(sent(), std::vector<json>{update("n1", "name", "retried")});
    EXPECT_EQ(logic_.nodes().find("n1")->discovery, discovery_state::done);
    EXPECT_FALSE(logic_.next_retry());
}

TEST_F(coap_logic_test, an_alive_takes_over_from_a_pending_retry_and_expiry_drops_it)
{
    const auto wk = new_node("n1", node_a);
    result(wk.id, no_answer());
    ASSERT_TRUE(logic_.next_retry());
    alive("alive:n1", node_a); // discovers at once: the retry is dropped
    EXPECT_EQ(logic_.take_requests().size(), 1u);
    EXPECT_FALSE(logic_.next_retry());

    const auto wk2 = new_node("n2", node_b);
    result(wk2.id, no_answer());
    ASSERT_TRUE(logic_.next_retry());
    core_.node_removed("n2");
    logic_.on_node_expired("n2");
    EXPECT_FALSE(logic_.next_retry());
    now_ += std::chrono::seconds(1);
    logic_.on_retry_timer();
    EXPECT_TRUE(logic_.take_requests().empty());
}

// Issue 16: under a burst our answers came after the nodes' ACK_TIMEOUT;
// each retransmitted reset reset the node again (a `reset` to every client,
// a fresh discovery) and each retransmitted value was sent twice.
TEST_F(coap_logic_test, a_retransmitted_post_is_answered_but_not_acted_on_twice)
{
    const peer first{"127.0.0.2", 0, 100};
    EXPECT_EQ(alive("reset:n1", first).code, code::changed);
    EXPECT_EQ(logic_.take_requests().size(), 1u);
    sent();
    const auto again = alive("reset:n1", first);
    EXPECT_EQ(again.code, code::changed);
    EXPECT_EQ(again.payload, "Received 'reset:n1'");
    EXPECT_TRUE(sent().empty());
    EXPECT_TRUE(logic_.take_requests().empty());

    EXPECT_EQ(server("temperature:21", {"127.0.0.2", 0, 101}).code, code::changed);
    EXPECT_EQ(sent().size(), 1u);
    EXPECT_EQ(server("temperature:21", {"127.0.0.2", 0, 101}).code, code::changed);
    EXPECT_TRUE(sent().empty());
    // A new message ID is a new value, even with the same text.
    EXPECT_EQ(server("temperature:21", {"127.0.0.2", 0, 102}).code, code::changed);
    EXPECT_EQ(sent().size(), 1u);
    // The same ID from another node is that node's own message.
    alive("alive:n2", {"127.0.0.3", 0, 7});
    sent();
    EXPECT_EQ(server("temperature:5", {"127.0.0.3", 0, 101}).code, code::changed);
    EXPECT_EQ(sent().size(), 1u);
    EXPECT_NE(log().find("POST /server from 127.0.0.2 (node 'n1'): message ID 101 again"),
              std::string::npos);
}
