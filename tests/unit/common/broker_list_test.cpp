#include "common/broker_list.hpp"
#include "common/broker_rotation.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace aiot::common;

namespace {

std::vector<broker_address> ok(std::string_view text, std::uint16_t port = 8000)
{
    const auto r = parse_broker_list(text, port);
    EXPECT_TRUE(r.ok()) << text << ": " << r.error;
    return r.brokers;
}

std::string refused(std::string_view text)
{
    const auto r = parse_broker_list(text, 8000);
    EXPECT_FALSE(r.ok()) << text;
    EXPECT_TRUE(r.brokers.empty()) << text;
    return r.error;
}

} // namespace

TEST(broker_list, a_single_host_is_as_before)
{
    EXPECT_EQ(ok("localhost", 8020), (std::vector<broker_address>{{"localhost", 8020}}));
    EXPECT_EQ(ok("iot.example.org"), (std::vector<broker_address>{{"iot.example.org", 8000}}));
    EXPECT_EQ(ok("127.0.0.1", 9000), (std::vector<broker_address>{{"127.0.0.1", 9000}}));
    // A bare IPv6 address alone (how it was written before lists).
    EXPECT_EQ(ok("::1"), (std::vector<broker_address>{{"::1", 8000}}));
    EXPECT_EQ(ok("fd00::1%eth0"), (std::vector<broker_address>{{"fd00::1%eth0", 8000}}));
}

TEST(broker_list, a_list_in_order_with_default_ports)
{
    EXPECT_EQ(ok("a:8001,b, [::1]:8003 ,[fd00::2]", 8010),
              (std::vector<broker_address>{
                  {"a", 8001}, {"b", 8010}, {"::1", 8003}, {"fd00::2", 8010}}));
    EXPECT_EQ(ok("host:1,host:65535"),
              (std::vector<broker_address>{{"host", 1}, {"host", 65535}}));
}

TEST(broker_list, bad_entries_are_refused_with_their_reason)
{
    EXPECT_NE(refused("").find("empty"), std::string::npos);
    EXPECT_NE(refused("   ").find("empty"), std::string::npos);
    EXPECT_NE(refused("a:8000,,b").find("empty entry"), std::string::npos);
    EXPECT_NE(refused("a:8000,").find("empty entry"), std::string::npos);
    EXPECT_NE(refused("a:0").find("1 to 65535"), std::string::npos);
    EXPECT_NE(refused("a:65536").find("'a:65536'"), std::string::npos);
    EXPECT_NE(refused("a:80x").find("port"), std::string::npos);
    EXPECT_NE(refused("a:").find("port"), std::string::npos);
    EXPECT_NE(refused("a:-1").find("port"), std::string::npos);
    EXPECT_NE(refused("a:8000,::1").find("brackets"), std::string::npos);
    EXPECT_NE(refused("::1:8000,b").find("brackets"), std::string::npos);
    EXPECT_NE(refused("[::1").find("']'"), std::string::npos);
    EXPECT_NE(refused("[::1]8000").find("':port'"), std::string::npos);
    EXPECT_NE(refused("[example.org]:8000").find("IPv6"), std::string::npos);
    EXPECT_NE(refused("ws://a:8000").find("not a URL"), std::string::npos);
    EXPECT_NE(refused("a b").find("host name"), std::string::npos);
    EXPECT_NE(refused("user@a").find("host name"), std::string::npos);
    EXPECT_NE(refused(":8000").find("host name"), std::string::npos);
    EXPECT_NE(refused("a:8000,b,a").find("listed twice"), std::string::npos);
    EXPECT_NE(refused("a,a:8000").find("a:8000 is listed twice"), std::string::npos);
    // Unprintable bytes are not echoed.
    EXPECT_EQ(refused("a\x01").find('\x01'), std::string::npos);
}

TEST(broker_list, the_list_is_bounded)
{
    std::string text;
    for (std::size_t i = 0; i < max_brokers; ++i) {
        text += (i ? ",h" : "h") + std::to_string(i);
    }
    EXPECT_EQ(ok(text).size(), max_brokers);
    EXPECT_NE(refused(text + ",one-more").find("more than"), std::string::npos);
}

TEST(broker_list, authority_brackets_ipv6)
{
    EXPECT_EQ(authority({"a.example", 8000}), "a.example:8000");
    EXPECT_EQ(authority({"::1", 8001}), "[::1]:8001");
}

using step = broker_rotation::next_step;

TEST(broker_rotation, one_broker_always_waits)
{
    broker_rotation r(1);
    EXPECT_EQ(r.attempt_failed(), step::after_backoff);
    EXPECT_EQ(r.current(), 0u);
    r.connected();
    EXPECT_EQ(r.lost(), step::after_backoff);
    EXPECT_EQ(r.current(), 0u);
}

TEST(broker_rotation, failed_attempts_go_down_the_list_then_wait)
{
    broker_rotation r(3);
    EXPECT_EQ(r.current(), 0u);
    EXPECT_EQ(r.attempt_failed(), step::now);
    EXPECT_EQ(r.current(), 1u);
    EXPECT_EQ(r.attempt_failed(), step::now);
    EXPECT_EQ(r.current(), 2u);
    // The whole list failed: the first again, after the delay.
    EXPECT_EQ(r.attempt_failed(), step::after_backoff);
    EXPECT_EQ(r.current(), 0u);
    EXPECT_EQ(r.failed_in_round(), 0u);
    EXPECT_EQ(r.attempt_failed(), step::now);
    EXPECT_EQ(r.current(), 1u);
}

TEST(broker_rotation, stays_on_a_working_broker_and_moves_on_when_it_is_lost)
{
    broker_rotation r(3);
    EXPECT_EQ(r.attempt_failed(), step::now); // the first is down
    r.connected();                            // the second works
    EXPECT_EQ(r.current(), 1u);
    EXPECT_EQ(r.failed_in_round(), 0u);
    // Lost: the third, after the (quick) backoff delay; a round of three
    // attempts starts there and ends with the broker just lost.
    EXPECT_EQ(r.lost(), step::after_backoff);
    EXPECT_EQ(r.current(), 2u);
    EXPECT_EQ(r.attempt_failed(), step::now);
    EXPECT_EQ(r.current(), 0u);
    EXPECT_EQ(r.attempt_failed(), step::now);
    EXPECT_EQ(r.current(), 1u);
    EXPECT_EQ(r.attempt_failed(), step::after_backoff);
    EXPECT_EQ(r.current(), 2u);
}

TEST(broker_rotation, a_connection_starts_a_new_round)
{
    broker_rotation r(2);
    EXPECT_EQ(r.attempt_failed(), step::now);
    r.connected();
    EXPECT_EQ(r.lost(), step::after_backoff);
    EXPECT_EQ(r.current(), 0u);
    EXPECT_EQ(r.attempt_failed(), step::now); // one failure of a fresh round
    EXPECT_EQ(r.current(), 1u);
}
