#include "broker/cluster.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

using aiot::broker::cluster;
using aiot::broker::cluster_config;
using aiot::broker::cluster_output;
using aiot::broker::delivery;
using aiot::broker::router;
using aiot::common::json;
using kind = aiot::broker::delivery::target_kind;
using namespace std::chrono_literals;

namespace {

class cluster_test : public ::testing::Test {
protected:
    cluster_test()
    {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(log_text_);
        log_ = std::make_shared<spdlog::logger>("broker", sink);
        log_->set_level(spdlog::level::debug);
        log_->set_pattern("%l %v");
        r_ = std::make_unique<router>(log_);
        cluster_config cfg;
        cfg.heartbeat = 1000ms;
        cfg.peer_timeout = 3000ms;
        cfg.replay_delay = 100ms;
        c_ = std::make_unique<cluster>(cfg, "me", *r_, log_);
        // One local web client that sent `new`.
        r_->client_opened(1, "client-1");
        r_->client_message(1, *aiot::common::parse_message(R"({"type":"new"})").msg);
    }

    cluster_output from(const std::string& subject, const std::string& data,
                        cluster::clock::duration at = 0s)
    {
        return c_->received(subject, data, t0_ + at);
    }

    // Compact, in key order (the clients get common::serialize of the same value).
    static std::string text(const delivery& d) { return d.payload.dump(); }

    std::string log() const { return log_text_.str(); }

    std::ostringstream log_text_;
    std::shared_ptr<spdlog::logger> log_;
    std::unique_ptr<router> r_;
    std::unique_ptr<cluster> c_;
    cluster::clock::time_point t0_{};
};

const std::string new_x = R"({"type":"new","uid":"node-x","dst":"all"})";

} // namespace

TEST_F(cluster_test, ids_and_prefixes_are_subject_tokens)
{
    EXPECT_TRUE(cluster::valid_id("b-1_A"));
    EXPECT_FALSE(cluster::valid_id(""));
    EXPECT_FALSE(cluster::valid_id("a.b"));
    EXPECT_FALSE(cluster::valid_id("a*"));
    EXPECT_FALSE(cluster::valid_id("a>"));
    EXPECT_FALSE(cluster::valid_id(std::string(65, 'a')));
    EXPECT_TRUE(cluster::valid_prefix("site1.aiot"));
    EXPECT_FALSE(cluster::valid_prefix("site1..aiot"));
    EXPECT_FALSE(cluster::valid_prefix("aiot."));
    EXPECT_THROW(cluster(cluster_config{}, "bad id", *r_, log_), std::invalid_argument);
    EXPECT_EQ(aiot::broker::make_broker_id().size(), 16u);
    EXPECT_NE(aiot::broker::make_broker_id(), aiot::broker::make_broker_id());
}

TEST_F(cluster_test, subscribes_to_broadcasts_and_to_what_is_for_this_broker_only)
{
    const auto subs = c_->subscriptions();
    EXPECT_EQ(subs, (std::vector<std::string>{"aiot.gw.*.*", "aiot.to.me.*.*", "aiot.cl.*.*",
                                              "aiot.left.*", "aiot.hb.*", "aiot.bye.*",
                                              "aiot.sync.me.*"}));
}

TEST_F(cluster_test, local_traffic_is_published_on_its_subjects)
{
    const auto b = c_->gateway_broadcast("update", "{...}");
    EXPECT_EQ(b.subject, "aiot.gw.me.update");
    EXPECT_EQ(b.data, "{...}");
    EXPECT_EQ(c_->client_message("new", "{}").subject, "aiot.cl.me.new");
    EXPECT_EQ(c_->client_left("client-1").subject, "aiot.left.me");
    EXPECT_EQ(c_->client_left("client-1").data, "client-1");
    EXPECT_EQ(c_->goodbye().subject, "aiot.bye.me");
}

TEST_F(cluster_test, a_remote_gateways_node_reaches_local_clients_with_the_same_bytes)
{
    const auto out = from("aiot.gw.other.new", new_x);
    ASSERT_EQ(out.deliveries.size(), 1u);
    EXPECT_EQ(out.deliveries[0].target, kind::all_clients);
    EXPECT_EQ(text(out.deliveries[0]), new_x);
    EXPECT_EQ(c_->peer_count(), 1u);
    EXPECT_NE(log().find("broker other joined"), std::string::npos);

    const std::string upd = R"({"type":"update","uid":"node-x","endpoint":"led","data":"1","dst":"all"})";
    const auto u = from("aiot.gw.other.update", upd);
    ASSERT_EQ(u.deliveries.size(), 1u);
    EXPECT_EQ(text(u.deliveries[0]), upd);
    // A `new` for the same node again is not sent to the client twice.
    const auto again = from("aiot.gw.other.new", new_x);
    ASSERT_EQ(again.deliveries.size(), 1u);
    EXPECT_EQ(again.deliveries[0].except, std::vector<aiot::broker::peer_id>{1});
}

TEST_F(cluster_test, what_this_broker_published_itself_is_ignored)
{
    EXPECT_TRUE(from("aiot.gw.me.new", new_x).deliveries.empty());
    EXPECT_TRUE(from("aiot.hb.me", "").publish.empty());
    EXPECT_EQ(c_->peer_count(), 0u);
}

TEST_F(cluster_test, remote_client_messages_go_to_local_gateways_and_replies_find_their_broker)
{
    const std::string write =
        R"({"type":"update","data":{"uid":"n","endpoint":"led","payload":"1"},"src":"client-9"})";
    const auto out = from("aiot.cl.far.update", write);
    ASSERT_EQ(out.deliveries.size(), 1u);
    EXPECT_EQ(out.deliveries[0].target, kind::all_gateways);
    EXPECT_EQ(text(out.deliveries[0]), write);

    const auto to = c_->gateway_to("client-9", "update", "reply");
    ASSERT_TRUE(to);
    EXPECT_EQ(to->subject, "aiot.to.far.me.update");
    EXPECT_EQ(to->data, "reply");
    EXPECT_FALSE(c_->gateway_to("client-unknown", "update", "x"));
    // The client left: replies for it are no longer published.
    from("aiot.left.far", "client-9");
    EXPECT_FALSE(c_->gateway_to("client-9", "update", "x"));
    // Without a string src the message is dropped.
    EXPECT_TRUE(from("aiot.cl.far.new", R"({"type":"new"})").deliveries.empty());
    EXPECT_NE(log().find("without a string src"), std::string::npos);
}

TEST_F(cluster_test, a_message_for_one_client_of_this_broker_reaches_that_client_only)
{
    const std::string reply = R"({"type":"new","uid":"node-x","dst":"client-1"})";
    const auto out = from("aiot.to.me.far.new", reply);
    ASSERT_EQ(out.deliveries.size(), 1u);
    EXPECT_EQ(out.deliveries[0].target, kind::client);
    EXPECT_EQ(out.deliveries[0].client, 1u);
    EXPECT_EQ(text(out.deliveries[0]), reply);
    // For another broker: not ours.
    EXPECT_TRUE(from("aiot.to.third.far.new", reply).deliveries.empty());
}

TEST_F(cluster_test, a_silent_broker_is_gone_after_the_timeout_and_asked_for_its_nodes_when_back)
{
    from("aiot.gw.far.new", new_x, 0s);
    auto t = c_->tick(t0_ + 2s);
    EXPECT_TRUE(t.deliveries.empty());
    ASSERT_EQ(t.publish.size(), 1u); // the heartbeat, with this start's instance
    EXPECT_EQ(t.publish[0].subject, "aiot.hb.me");
    EXPECT_EQ(t.publish[0].data, c_->instance());
    EXPECT_EQ(c_->instance().size(), 16u);
    EXPECT_TRUE(c_->tick(t0_ + 2500ms).publish.empty()); // not due yet

    t = c_->tick(t0_ + 3100ms);
    ASSERT_EQ(t.deliveries.size(), 1u);
    EXPECT_EQ(text(t.deliveries[0]), R"({"type":"out","uid":"node-x"})");
    EXPECT_EQ(c_->peer_count(), 0u);
    EXPECT_NE(log().find("broker far silent for more than 3000 ms"), std::string::npos);

    const auto back = from("aiot.hb.far", "", 5s);
    ASSERT_EQ(back.publish.size(), 1u);
    EXPECT_EQ(back.publish[0].subject, "aiot.sync.far.me");
    EXPECT_NE(log().find("broker far is back"), std::string::npos);
}

TEST_F(cluster_test, goodbye_means_out_at_once)
{
    from("aiot.gw.far.new", new_x);
    const auto out = from("aiot.bye.far", "");
    ASSERT_EQ(out.deliveries.size(), 1u);
    EXPECT_EQ(text(out.deliveries[0]), R"({"type":"out","uid":"node-x"})");
    EXPECT_EQ(c_->peer_count(), 0u);
}

TEST_F(cluster_test, a_node_another_gateway_holds_stays_when_a_broker_goes)
{
    // The node's gateway moved from broker far to broker near.
    from("aiot.gw.far.new", new_x, 0s);
    from("aiot.gw.near.new", new_x, 2s);
    auto t = c_->tick(t0_ + 3500ms);
    EXPECT_TRUE(t.deliveries.empty()) << text(t.deliveries[0]);
    EXPECT_EQ(c_->peer_count(), 1u);
    // Now its last holder goes.
    t = c_->tick(t0_ + 5500ms);
    ASSERT_EQ(t.deliveries.size(), 1u);
    EXPECT_EQ(text(t.deliveries[0]), R"({"type":"out","uid":"node-x"})");
}

TEST_F(cluster_test, replay_requests_are_served_once_after_the_delay_each_for_its_broker)
{
    c_->tick(t0_); // heartbeat out of the way
    from("aiot.sync.me.b1", "", 0ms);
    from("aiot.sync.me.b2", "", 50ms);
    from("aiot.sync.me.b1", "", 60ms);
    EXPECT_TRUE(c_->tick(t0_ + 90ms).deliveries.empty());
    const auto t = c_->tick(t0_ + 120ms);
    ASSERT_EQ(t.deliveries.size(), 2u);
    EXPECT_EQ(t.deliveries[0].target, kind::all_gateways);
    EXPECT_EQ(text(t.deliveries[0]), R"({"type":"new","src":"broker:b1"})");
    EXPECT_EQ(text(t.deliveries[1]), R"({"type":"new","src":"broker:b2"})");
    EXPECT_TRUE(c_->tick(t0_ + 500ms).deliveries.empty());

    // The gateways' answers go to the asking broker only...
    const auto to = c_->gateway_to("broker:b1", "new", "x");
    ASSERT_TRUE(to);
    EXPECT_EQ(to->subject, "aiot.to.b1.me.new");
    // ... which gives them to all its clients.
    const auto got =
        from("aiot.to.me.b1.new", R"({"type":"new","uid":"node-y","dst":"broker:me"})");
    ASSERT_EQ(got.deliveries.size(), 1u);
    EXPECT_EQ(got.deliveries[0].target, kind::all_clients);
    EXPECT_EQ(text(got.deliveries[0]), R"({"type":"new","uid":"node-y","dst":"all"})");
}

TEST_F(cluster_test, bad_subjects_and_bodies_are_dropped_and_logged)
{
    EXPECT_TRUE(from("other.gw.far.new", new_x).deliveries.empty());
    EXPECT_TRUE(from("aiot.nope.far", "").deliveries.empty());
    EXPECT_TRUE(from("aiot.gw.far", new_x).deliveries.empty());
    EXPECT_TRUE(from("aiot", "").deliveries.empty());
    EXPECT_TRUE(from("aiot.", "").deliveries.empty());
    EXPECT_NE(log().find("unknown subject"), std::string::npos);
    EXPECT_TRUE(from("aiot.gw.far.new", "{not json").deliveries.empty());
    EXPECT_TRUE(from("aiot.gw.far.new", R"({"type":"bogus"})").deliveries.empty());
    EXPECT_NE(log().find("invalid gateway message"), std::string::npos);
}

TEST_F(cluster_test, a_broker_restarted_under_the_same_id_loses_what_its_old_instance_held)
{
    from("aiot.hb.far", "instance-1", 0s);
    from("aiot.gw.far.new", new_x, 0s);
    EXPECT_TRUE(from("aiot.hb.far", "instance-1", 1s).deliveries.empty());
    const auto out = from("aiot.hb.far", "instance-2", 2s);
    ASSERT_EQ(out.deliveries.size(), 1u);
    EXPECT_EQ(text(out.deliveries[0]), R"({"type":"out","uid":"node-x"})");
    EXPECT_EQ(c_->peer_count(), 1u); // the new instance
    EXPECT_NE(log().find("broker far restarted"), std::string::npos);
}
