#include "broker/router.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

using aiot::broker::delivery;
using aiot::broker::peer_id;
using aiot::broker::router;
using aiot::common::json;
namespace common = aiot::common;
using kind = aiot::broker::delivery::target_kind;

namespace {

aiot::common::message msg(const std::string& text)
{
    auto r = aiot::common::parse_message(text);
    EXPECT_TRUE(r) << text << ": " << r.error;
    return *r.msg;
}

class router_test : public ::testing::Test {
protected:
    router_test()
    {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(log_text_);
        auto log = std::make_shared<spdlog::logger>("broker", sink);
        log->set_level(spdlog::level::debug);
        log->set_pattern("%l %v");
        r_ = std::make_unique<router>(log);
    }

    std::string log() const { return log_text_.str(); }

    // A gateway with nodes announced (broadcast, as gateways do at connect).
    void gateway_with(peer_id gw, std::initializer_list<std::string> uids)
    {
        r_->gateway_opened(gw);
        for (const auto& uid : uids) {
            r_->gateway_message(gw, msg(R"({"type":"new","uid":")" + uid + R"(","dst":"all"})"));
        }
    }

    std::ostringstream log_text_;
    std::unique_ptr<router> r_;
};

} // namespace

TEST_F(router_test, client_new_subscribes_and_goes_to_every_gateway_with_src)
{
    r_->gateway_opened(10);
    r_->client_opened(1, "uuid-1");
    EXPECT_FALSE(r_->is_subscribed(1));

    const auto out = r_->client_message(1, msg(R"({"type":"new","data":"client"})"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].target, kind::all_gateways);
    EXPECT_EQ(out[0].payload, json::parse(R"({"type":"new","data":"client","src":"uuid-1"})"));
    EXPECT_TRUE(r_->is_subscribed(1));
    EXPECT_EQ(r_->subscribers(), std::vector<peer_id>{1});
    EXPECT_NE(log().find("client uuid-1 subscribed"), std::string::npos);

    // A second new neither subscribes twice nor reaches the gateways again
    // (each would make every gateway replay its whole cache).
    EXPECT_TRUE(r_->client_message(1, msg(R"({"type":"new","data":"client"})")).empty());
    EXPECT_EQ(r_->subscribers(), std::vector<peer_id>{1});
}

TEST_F(router_test, a_client_new_loop_reaches_the_gateways_once)
{
    r_->gateway_opened(10);
    r_->client_opened(1, "uuid-1");
    std::size_t forwarded = 0;
    for (int i = 0; i < 50; ++i) {
        forwarded += r_->client_message(1, msg(R"({"type":"new","data":"client"})")).size();
    }
    EXPECT_EQ(forwarded, 1u);
    // Another client's new is its own.
    r_->client_opened(2, "uuid-2");
    EXPECT_EQ(r_->client_message(2, msg(R"({"type":"new","data":"client"})")).size(), 1u);
}

TEST_F(router_test, gateway_reply_to_a_client_that_never_sent_new_is_dropped)
{
    r_->client_opened(1, "uuid-1");
    gateway_with(10, {"n1"});
    EXPECT_TRUE(r_->gateway_message(10, msg(R"({"type":"new","uid":"n2","dst":"uuid-1"})")).empty());
    EXPECT_TRUE(r_->gateway_message(
                      10, msg(R"({"type":"update","uid":"n1","endpoint":"t","data":"1","dst":"uuid-1"})"))
                    .empty());
    // Once registered, its replies reach it.
    r_->client_message(1, msg(R"({"type":"new","data":"client"})"));
    const auto out = r_->gateway_message(10, msg(R"({"type":"new","uid":"n2","dst":"uuid-1"})"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].target, kind::client);
    EXPECT_EQ(out[0].client, 1u);
}

TEST_F(router_test, client_update_keeps_the_key_order_and_appends_src)
{
    r_->client_opened(1, "uuid-1");
    const auto out = r_->client_message(
        1, msg(R"({"type":"update","data":{"uid":"n1","endpoint":"led","payload":"1"}})"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(common::serialize(out[0].payload),
              R"({"type": "update", "data": {"uid": "n1", "endpoint": "led", "payload": "1"}, "src": "uuid-1"})");
}

TEST_F(router_test, client_update_reaches_gateways_with_src_and_does_not_subscribe)
{
    r_->client_opened(1, "uuid-1");
    const auto out = r_->client_message(
        1, msg(R"({"type":"update","data":{"uid":"n1","endpoint":"led","payload":"1"}})"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].target, kind::all_gateways);
    EXPECT_EQ(out[0].payload["src"], "uuid-1");
    EXPECT_EQ(out[0].payload["data"]["endpoint"], "led");
    EXPECT_FALSE(r_->is_subscribed(1));
}

TEST_F(router_test, client_src_replaces_a_forged_src)
{
    r_->client_opened(1, "uuid-1");
    const auto out = r_->client_message(1, msg(R"({"type":"reset","src":"someone-else"})"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].payload["src"], "uuid-1");
}

TEST_F(router_test, gateway_new_with_dst_all_is_broadcast)
{
    r_->gateway_opened(10);
    const auto m = msg(R"({"type":"new","uid":"n1","dst":"all"})");
    const auto out = r_->gateway_message(10, m);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].target, kind::all_clients);
    EXPECT_EQ(out[0].payload, m.body);
    EXPECT_EQ(r_->node_count(10), 1u);
    EXPECT_NE(log().find("node n1 new (gateway #10)"), std::string::npos);
}

TEST_F(router_test, gateway_new_with_dst_client_goes_to_that_client_only)
{
    r_->client_opened(1, "uuid-1");
    r_->client_opened(2, "uuid-2");
    r_->client_message(1, msg(R"({"type":"new","data":"client"})"));
    r_->client_message(2, msg(R"({"type":"new","data":"client"})"));
    r_->gateway_opened(10);
    const auto out = r_->gateway_message(10, msg(R"({"type":"new","uid":"n1","dst":"uuid-2"})"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].target, kind::client);
    EXPECT_EQ(out[0].client, 2u);
    EXPECT_EQ(r_->node_count(10), 1u);
}

TEST_F(router_test, gateway_message_for_a_client_that_left_is_dropped)
{
    r_->client_opened(1, "uuid-1");
    r_->client_closed(1);
    gateway_with(10, {"n1"});
    EXPECT_TRUE(r_->gateway_message(10, msg(R"({"type":"new","uid":"n2","dst":"uuid-1"})")).empty());
    EXPECT_TRUE(r_->gateway_message(
                      10, msg(R"({"type":"update","uid":"n1","endpoint":"t","data":"1","dst":"uuid-1"})"))
                    .empty());
    // The node is still remembered.
    EXPECT_EQ(r_->node_count(10), 2u);
}

TEST_F(router_test, update_of_an_announced_node_follows_dst)
{
    r_->client_opened(1, "uuid-1");
    r_->client_message(1, msg(R"({"type":"new","data":"client"})"));
    gateway_with(10, {"n1"});
    auto out = r_->gateway_message(
        10, msg(R"({"type":"update","uid":"n1","endpoint":"temperature","data":"23°C","dst":"all"})"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].target, kind::all_clients);
    EXPECT_EQ(out[0].payload["data"], "23°C");

    out = r_->gateway_message(
        10, msg(R"({"type":"update","uid":"n1","endpoint":"led","data":{"a":[1,2]},"dst":"uuid-1"})"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].target, kind::client);
    EXPECT_EQ(out[0].client, 1u);
    EXPECT_EQ(out[0].payload["data"]["a"][1], 2);
}

TEST_F(router_test, update_of_a_node_announced_by_another_gateway_is_dropped)
{
    gateway_with(10, {"n1"});
    gateway_with(11, {"n2"});
    EXPECT_TRUE(r_->gateway_message(
                      11, msg(R"({"type":"update","uid":"n1","endpoint":"t","data":"1","dst":"all"})"))
                    .empty());
    EXPECT_TRUE(r_->gateway_message(
                      10, msg(R"({"type":"update","uid":"n9","endpoint":"t","data":"1","dst":"all"})"))
                    .empty());
    EXPECT_NE(log().find("update for node n9 it never announced"), std::string::npos);
}

TEST_F(router_test, keep_alive_is_ignored)
{
    gateway_with(10, {"alive"});
    EXPECT_TRUE(r_->gateway_message(10, msg(R"({"type":"update","uid":"alive"})")).empty());
    EXPECT_TRUE(
        r_->gateway_message(10, msg(R"({"type":"update","uid":"alive","dst":"all"})")).empty());
    EXPECT_NE(log().find("keep-alive"), std::string::npos);
}

TEST_F(router_test, out_forgets_an_announced_node_and_broadcasts)
{
    gateway_with(10, {"n1", "n2"});
    const auto m = msg(R"({"type":"out","uid":"n1"})");
    auto out = r_->gateway_message(10, m);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].target, kind::all_clients);
    EXPECT_EQ(out[0].payload, m.body);
    EXPECT_EQ(r_->node_count(10), 1u);
    EXPECT_NE(log().find("node n1 out (gateway #10)"), std::string::npos);

    // Once forgotten, its updates and a second out are dropped.
    EXPECT_TRUE(r_->gateway_message(10, m).empty());
    EXPECT_TRUE(r_->gateway_message(
                      10, msg(R"({"type":"update","uid":"n1","endpoint":"t","data":"1","dst":"all"})"))
                    .empty());
}

TEST_F(router_test, out_of_a_node_of_another_gateway_is_dropped)
{
    gateway_with(10, {"n1"});
    gateway_with(11, {});
    EXPECT_TRUE(r_->gateway_message(11, msg(R"({"type":"out","uid":"n1"})")).empty());
    EXPECT_EQ(r_->node_count(10), 1u);
}

TEST_F(router_test, reset_is_broadcast)
{
    gateway_with(10, {});
    const auto m = msg(R"({"type":"reset","uid":"n7"})");
    const auto out = r_->gateway_message(10, m);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].target, kind::all_clients);
    EXPECT_EQ(out[0].payload, m.body);
}

TEST_F(router_test, gateway_close_sends_out_for_each_of_its_nodes)
{
    gateway_with(10, {"n1", "n2", "n3"});
    gateway_with(11, {"m1"});
    r_->gateway_message(10, msg(R"({"type":"out","uid":"n2"})"));
    const auto out = r_->gateway_closed(10);
    ASSERT_EQ(out.size(), 2u);
    std::set<std::string> uids;
    for (const auto& d : out) {
        EXPECT_EQ(d.target, kind::all_clients);
        EXPECT_EQ(d.payload["type"], "out");
        uids.insert(d.payload["uid"].get<std::string>());
    }
    EXPECT_EQ(uids, (std::set<std::string>{"n1", "n3"}));
    EXPECT_EQ(r_->gateway_count(), 1u);
    EXPECT_EQ(r_->gateways(), std::vector<peer_id>{11});
    EXPECT_EQ(r_->node_count(11), 1u);
    EXPECT_TRUE(r_->gateway_closed(10).empty());
}

TEST_F(router_test, malformed_gateway_messages_are_logged_and_ignored)
{
    gateway_with(10, {"n1"});
    const char* bad[] = {
        R"({"type":"update","endpoint":"t","data":"1","dst":"all"})", // no uid
        R"({"type":"update","uid":5,"dst":"all"})",                   // uid not a string
        R"({"type":"new","uid":"n2"})",                               // no dst
        R"({"type":"new","uid":"n3","dst":7})",                       // dst not a string
        R"({"type":"update","uid":"n1","endpoint":"t","data":"1"})",  // no dst
        R"({"type":"out"})",
        R"({"type":"reset","uid":null})",
    };
    for (const auto* text : bad) {
        EXPECT_TRUE(r_->gateway_message(10, msg(text)).empty()) << text;
    }
    EXPECT_EQ(r_->node_count(10), 1u);
    EXPECT_NE(log().find("warning gateway #10: update message without a string uid ignored"),
              std::string::npos)
        << log();
    EXPECT_NE(log().find("warning gateway #10: new for node n2 without a string dst ignored"),
              std::string::npos);
    EXPECT_NE(log().find("warning gateway #10: update without a string dst ignored"),
              std::string::npos);
}

TEST_F(router_test, closed_client_leaves_the_subscribers)
{
    r_->client_opened(1, "uuid-1");
    r_->client_opened(2, "uuid-2");
    r_->client_message(1, msg(R"({"type":"new","data":"client"})"));
    r_->client_message(2, msg(R"({"type":"new","data":"client"})"));
    EXPECT_EQ(r_->subscribers(), (std::vector<peer_id>{1, 2}));
    r_->client_closed(1);
    EXPECT_EQ(r_->subscribers(), std::vector<peer_id>{2});
    EXPECT_EQ(r_->client_count(), 1u);
    r_->client_closed(1); // twice is harmless
    EXPECT_EQ(r_->client_count(), 1u);
}

TEST_F(router_test, messages_from_unknown_peers_are_ignored)
{
    EXPECT_TRUE(r_->gateway_message(99, msg(R"({"type":"reset","uid":"n"})")).empty());
    EXPECT_TRUE(r_->client_message(98, msg(R"({"type":"new"})")).empty());
    EXPECT_NE(log().find("unknown gateway #99"), std::string::npos);
}

TEST_F(router_test, client_message_without_gateways_still_names_all_gateways)
{
    r_->client_opened(1, "uuid-1");
    const auto out = r_->client_message(1, msg(R"({"type":"new"})"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].target, kind::all_gateways);
    EXPECT_TRUE(r_->gateways().empty());
}

// A gateway that announces a node to all while it answers a new client's
// `new` with its cache would send that client two `new` for one node (seen
// end to end in faults_e2e); each client gets one until the node's `out`.
TEST_F(router_test, a_client_gets_one_new_per_node_until_its_out)
{
    r_->gateway_opened(10);
    r_->client_opened(1, "uuid-1");
    r_->client_opened(2, "uuid-2");
    r_->client_message(1, msg(R"({"type":"new","data":"client"})"));
    r_->client_message(2, msg(R"({"type":"new","data":"client"})"));

    // The broadcast first, then the cache replayed to client 1: dropped.
    auto out = r_->gateway_message(10, msg(R"({"type":"new","uid":"n1","dst":"all"})"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].target, kind::all_clients);
    EXPECT_TRUE(out[0].except.empty());
    EXPECT_TRUE(r_->gateway_message(10, msg(R"({"type":"new","uid":"n1","dst":"uuid-1"})")).empty());
    EXPECT_NE(log().find("new for node n1 not sent again to client uuid-1"), std::string::npos);

    // The replay first, then the broadcast: every client but 1.
    ASSERT_EQ(r_->gateway_message(10, msg(R"({"type":"new","uid":"n2","dst":"uuid-1"})")).size(),
              1u);
    out = r_->gateway_message(10, msg(R"({"type":"new","uid":"n2","dst":"all"})"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].except, std::vector<peer_id>{1});

    // After the node's out (from the gateway, or the gateway closing), a
    // new `new` reaches everyone again.
    r_->gateway_message(10, msg(R"({"type":"out","uid":"n1"})"));
    out = r_->gateway_message(10, msg(R"({"type":"new","uid":"n1","dst":"all"})"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(out[0].except.empty());
    r_->gateway_closed(10);
    r_->gateway_opened(11);
    out = r_->gateway_message(11, msg(R"({"type":"new","uid":"n2","dst":"all"})"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(out[0].except.empty());
}

TEST_F(router_test, a_node_two_gateways_hold_is_out_only_when_the_last_one_lets_it_go)
{
    r_->client_opened(1, "uuid-1");
    r_->client_message(1, msg(R"({"type":"new"})"));
    gateway_with(10, {"n1"});
    gateway_with(11, {"n1"}); // the node's gateway reconnected, the old one not yet closed
    EXPECT_TRUE(r_->gateway_closed(10).empty());
    EXPECT_NE(log().find("node n1 stays: held by another gateway than #10"), std::string::npos);
    const auto out = r_->gateway_message(11, msg(R"({"type":"out","uid":"n1"})"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].payload.dump(), R"({"type":"out","uid":"n1"})");
    // An `out` from one of two holders is not broadcast.
    gateway_with(12, {"n2"});
    gateway_with(13, {"n2"});
    EXPECT_TRUE(r_->gateway_message(12, msg(R"({"type":"out","uid":"n2"})")).empty());
    EXPECT_EQ(r_->gateway_closed(13).size(), 1u);
}
