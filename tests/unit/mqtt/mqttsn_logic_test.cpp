// The MQTT-SN gateway's client sessions without sockets: datagrams and
// time in, datagrams and client publishes out, and the log lines of
// dropped input.
#include "gateways/mqtt/mqttsn_logic.hpp"

#include <gtest/gtest.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

using namespace aiot::gw::mqttsn;
using namespace std::chrono_literals;

namespace {

const time_point t0{};

std::vector<packet> one(packet p)
{
    return {std::move(p)};
}
const std::string node = "[fe80::2%tap0]:1883";
const std::string other = "[::ffff:127.0.0.2]:40000";

class mqttsn_logic_test : public ::testing::Test {
protected:
    mqttsn_logic_test()
        : sink_(std::make_shared<spdlog::sinks::ostream_sink_st>(log_text_)),
          log_(std::make_shared<spdlog::logger>("test", sink_)),
          logic_(config(), log_)
    {
        log_->set_level(spdlog::level::debug);
    }

    static logic_config config()
    {
        logic_config c;
        c.max_clients = 2;
        c.max_topics = 4;
        c.max_subscriptions = 3;
        c.max_inflight = 2;
        c.retry_interval = 2s;
        c.max_retries = 1;
        return c;
    }

    // Sends p from peer; returns the packets the gateway answered to it.
    std::vector<packet> in(const packet& p, const std::string& peer = node, time_point now = t0)
    {
        logic_.datagram(peer, encode(p), now);
        return out(peer);
    }

    std::vector<packet> out(const std::string& peer = node)
    {
        std::vector<packet> answers;
        for (auto& d : logic_.take_datagrams()) {
            const auto r = decode(d.bytes);
            EXPECT_TRUE(r) << r.error;
            if (d.peer == peer && r) {
                answers.push_back(*r.value);
            }
        }
        return answers;
    }

    void connect_node(std::uint16_t keep_alive = 10, const std::string& peer = node,
                      const std::string& id = "riot-sn")
    {
        const auto a = in(connect{flags{.clean_session = true}, 1, keep_alive, id}, peer);
        ASSERT_EQ(a, one(connack{return_code::accepted}));
    }

    // REGISTER name; the topic id the gateway gave.
    std::uint16_t register_topic(const std::string& name, std::uint16_t msg_id = 1)
    {
        const auto a = in(register_{0, msg_id, name});
        EXPECT_EQ(a.size(), 1u);
        const auto* ack = a.empty() ? nullptr : std::get_if<regack>(&a[0]);
        EXPECT_TRUE(ack && ack->rc == return_code::accepted && ack->msg_id == msg_id);
        return ack ? ack->topic_id : 0;
    }

    std::ostringstream log_text_;
    std::shared_ptr<spdlog::sinks::ostream_sink_st> sink_;
    std::shared_ptr<spdlog::logger> log_;
    mqttsn_logic logic_;
};

TEST_F(mqttsn_logic_test, connect_register_publish_qos0_and_qos1)
{
    connect_node();
    ASSERT_NE(logic_.find(node), nullptr);
    EXPECT_EQ(logic_.find(node)->client_id, "riot-sn");
    const auto id = register_topic("node/check");
    EXPECT_EQ(register_topic("node/check", 2), id) << "same name, same id";

    EXPECT_TRUE(in(publish{flags{}, id, 0, R"({"id":"riot-sn"})"}).empty()) << "QoS 0: no ack";
    EXPECT_EQ(in(publish{flags{.qos = 1}, id, 7, "x"}),
              one(puback{id, 7, return_code::accepted}));
    const auto p = logic_.take_publishes();
    ASSERT_EQ(p.size(), 2u);
    EXPECT_EQ(p[0].topic, "node/check");
    EXPECT_EQ(p[0].payload, R"({"id":"riot-sn"})");
    EXPECT_EQ(p[0].client_id, "riot-sn");
    EXPECT_EQ(p[1].payload, "x");
}

TEST_F(mqttsn_logic_test, unknown_topic_ids_are_refused)
{
    connect_node();
    EXPECT_EQ(in(publish{flags{.qos = 1}, 99, 3, "x"}),
              one(puback{99, 3, return_code::invalid_topic_id}));
    EXPECT_EQ(in(publish{flags{.qos = 1, .id_type = topic_id_type::predefined}, 77, 4, "x"}),
              one(puback{77, 4, return_code::invalid_topic_id}));
    EXPECT_TRUE(logic_.take_publishes().empty());
    EXPECT_NE(log_text_.str().find("unknown topic id 99"), std::string::npos);
}

TEST_F(mqttsn_logic_test, predefined_and_short_topics_and_qos_minus_one)
{
    // QoS -1: no connection needed, predefined or short topics only
    EXPECT_TRUE(in(publish{flags{.qos = -1, .id_type = topic_id_type::predefined}, 1, 0,
                           R"({"id":"a"})"},
                   other)
                    .empty());
    EXPECT_TRUE(in(publish{flags{.qos = -1, .id_type = topic_id_type::short_name},
                           short_topic_id("ab"), 0, "v"},
                   other)
                    .empty());
    in(publish{flags{.qos = -1}, 5, 0, "v"}, other); // a normal id: dropped
    auto p = logic_.take_publishes();
    ASSERT_EQ(p.size(), 2u);
    EXPECT_EQ(p[0].topic, "node/check");
    EXPECT_EQ(p[1].topic, "ab");
    EXPECT_NE(log_text_.str().find("needs a predefined or short topic"), std::string::npos);
}

TEST_F(mqttsn_logic_test, subscriptions_by_name_predefined_id_and_short_name_get_deliveries)
{
    connect_node();
    auto a = in(subscribe{flags{.qos = 1}, 1, "gateway/riot-sn/led/set", 0});
    ASSERT_EQ(a.size(), 1u);
    const auto ack = std::get<suback>(a[0]);
    EXPECT_EQ(ack.rc, return_code::accepted);
    EXPECT_EQ(ack.f.qos, 1);
    EXPECT_NE(ack.topic_id, 0);
    a = in(subscribe{flags{.id_type = topic_id_type::predefined}, 2, "", 2}); // gateway/check
    EXPECT_EQ(a, (one(suback{flags{}, 2, 2, return_code::accepted})));
    a = in(subscribe{flags{.id_type = topic_id_type::short_name}, 3, "zz", 0});
    EXPECT_EQ(a, (one(
                     suback{flags{}, short_topic_id("zz"), 3, return_code::accepted})));

    logic_.deliver("gateway/riot-sn/led/set", "1", t0);
    a = out();
    ASSERT_EQ(a.size(), 1u);
    auto pub = std::get<publish>(a[0]);
    EXPECT_EQ(pub.topic_id, ack.topic_id);
    EXPECT_EQ(pub.f.qos, 1);
    EXPECT_NE(pub.msg_id, 0);
    EXPECT_EQ(pub.data, "1");
    in(puback{pub.topic_id, pub.msg_id, return_code::accepted});

    logic_.deliver("gateway/check", "", t0);
    a = out();
    ASSERT_EQ(a.size(), 1u);
    pub = std::get<publish>(a[0]);
    EXPECT_EQ(pub.f.id_type, topic_id_type::predefined);
    EXPECT_EQ(pub.topic_id, 2);
    EXPECT_EQ(pub.f.qos, 0);

    logic_.deliver("zz", "s", t0);
    a = out();
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(std::get<publish>(a[0]).f.id_type, topic_id_type::short_name);

    logic_.deliver("gateway/other/led/set", "1", t0);
    EXPECT_TRUE(out().empty()) << "not subscribed";

    // unsubscribe: no more deliveries
    EXPECT_EQ(in(unsubscribe{flags{}, 9, "gateway/riot-sn/led/set", 0}),
              one(unsuback{9}));
    logic_.deliver("gateway/riot-sn/led/set", "0", t0);
    EXPECT_TRUE(out().empty());
}

TEST_F(mqttsn_logic_test, wildcards_qos2_and_bounds_are_refused)
{
    connect_node();
    auto a = in(subscribe{flags{}, 1, "node/+/led", 0});
    EXPECT_EQ(std::get<suback>(a.at(0)).rc, return_code::not_supported);
    a = in(publish{flags{.qos = 2}, 1, 5, "x"});
    EXPECT_EQ(std::get<puback>(a.at(0)).rc, return_code::not_supported);
    // three subscriptions at most
    for (std::uint16_t i = 0; i < 3; ++i) {
        a = in(subscribe{flags{}, i, "t/" + std::to_string(i), 0});
        EXPECT_EQ(std::get<suback>(a.at(0)).rc, return_code::accepted);
    }
    a = in(subscribe{flags{}, 4, "t/4", 0});
    EXPECT_EQ(std::get<suback>(a.at(0)).rc, return_code::congestion);
    // four topics at most (three taken by the subscriptions)
    register_topic("r/1");
    a = in(register_{0, 6, "r/2"});
    EXPECT_EQ(std::get<regack>(a.at(0)).rc, return_code::congestion);
    // two clients at most
    connect_node(10, other, "second");
    a = in(connect{flags{}, 1, 10, "third"}, "[::1]:1");
    EXPECT_EQ(a, one(connack{return_code::congestion}));
    // client ids of 1 to 23 octets
    a = in(connect{flags{}, 1, 10, std::string(24, 'x')}, "[::1]:2");
    EXPECT_EQ(a, one(connack{return_code::not_supported}));
}

TEST_F(mqttsn_logic_test, qos1_deliveries_are_retried_then_dropped_and_bounded)
{
    connect_node(0);
    in(subscribe{flags{.qos = 1}, 1, "gateway/check", 0});
    logic_.deliver("gateway/check", "a", t0);
    logic_.deliver("gateway/check", "b", t0);
    logic_.deliver("gateway/check", "c", t0); // two in flight at most
    EXPECT_EQ(out().size(), 2u);
    EXPECT_NE(log_text_.str().find("unacknowledged (limit)"), std::string::npos);
    logic_.tick(t0 + 1s);
    EXPECT_TRUE(out().empty());
    logic_.tick(t0 + 2s);
    auto a = out();
    ASSERT_EQ(a.size(), 2u);
    EXPECT_TRUE(std::get<publish>(a[0]).f.dup);
    logic_.tick(t0 + 4s); // max_retries 1: dropped now
    EXPECT_TRUE(out().empty());
    EXPECT_NE(log_text_.str().find("no PUBACK after 2 tries"), std::string::npos);
}

TEST_F(mqttsn_logic_test, keep_alive_timeout_ping_disconnect_and_will)
{
    const auto a = in(connect{flags{.will = true, .clean_session = true}, 1, 10, "w"});
    EXPECT_EQ(a, one(willtopicreq{}));
    EXPECT_EQ(in(willtopic{flags{.qos = 1}, "node/w/led"}), one(willmsgreq{}));
    EXPECT_EQ(in(willmsg{R"({"value":"gone"})"}),
              one(connack{return_code::accepted}));

    EXPECT_EQ(in(pingreq{}, node, t0 + 10s), one(pingresp{}));
    logic_.tick(t0 + 24s); // 14 s silent: below 1.5 x 10 s
    EXPECT_NE(logic_.find(node), nullptr);
    logic_.tick(t0 + 26s);
    EXPECT_EQ(logic_.find(node), nullptr);
    const auto p = logic_.take_publishes();
    ASSERT_EQ(p.size(), 1u) << "the will";
    EXPECT_EQ(p[0].topic, "node/w/led");
    EXPECT_NE(log_text_.str().find("keep-alive timeout"), std::string::npos);

    // a clean DISCONNECT: answered, no will
    connect_node();
    EXPECT_EQ(in(disconnect{}), one(disconnect{}));
    EXPECT_EQ(logic_.find(node), nullptr);
    EXPECT_TRUE(logic_.take_publishes().empty());
}

TEST_F(mqttsn_logic_test, packets_from_clients_not_connected)
{
    // a client that outlived a gateway restart: told so at once
    EXPECT_EQ(in(publish{flags{.qos = 1}, 3, 8, "x"}),
              one(puback{3, 8, return_code::invalid_topic_id}));
    EXPECT_EQ(in(disconnect{}), one(disconnect{}));
    EXPECT_EQ(in(pingreq{}), one(disconnect{}));
    EXPECT_EQ(in(register_{0, 1, "a"}), one(disconnect{}));
    EXPECT_EQ(in(searchgw{1}), one(gwinfo{1, ""}));
    EXPECT_TRUE(logic_.take_publishes().empty());
}

TEST_F(mqttsn_logic_test, bad_datagrams_are_dropped_with_a_reason)
{
    logic_.datagram(node, std::string("\x05\x16", 2), t0);
    logic_.datagram(node, std::string("\x02\x42", 2), t0);
    EXPECT_TRUE(out().empty());
    EXPECT_EQ(logic_.dropped(), 2u);
    EXPECT_NE(log_text_.str().find("length field says 5 octets"), std::string::npos);
    EXPECT_NE(log_text_.str().find("unknown MsgType 0x42"), std::string::npos);
    // past the per-tick budget: counted, summed up at the next tick
    for (int i = 0; i < 20; ++i) {
        logic_.datagram(node, "x", t0);
    }
    logic_.tick(t0 + 1s);
    EXPECT_NE(log_text_.str().find("more bad MQTT-SN datagrams dropped"), std::string::npos);
}

} // namespace
