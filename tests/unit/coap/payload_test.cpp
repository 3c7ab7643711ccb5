#include "gateways/coap/payload.hpp"

#include <gtest/gtest.h>

using namespace aiot::gw::coap;

TEST(coap_alive_payload, alive_and_reset)
{
    const auto alive = parse_alive("alive:1234abcd");
    ASSERT_TRUE(alive) << alive.error;
    EXPECT_FALSE(alive.value->reset);
    EXPECT_EQ(alive.value->uid, "1234abcd");

    const auto reset = parse_alive("reset:1234abcd");
    ASSERT_TRUE(reset);
    EXPECT_TRUE(reset.value->reset);
    EXPECT_EQ(reset.value->uid, "1234abcd");
}

TEST(coap_alive_payload, anything_not_starting_with_reset_is_an_alive)
{
    const auto p = parse_alive("Alive:1234");
    ASSERT_TRUE(p);
    EXPECT_FALSE(p.value->reset);
    EXPECT_EQ(p.value->uid, "1234");
    EXPECT_FALSE(parse_alive("Reset:1").value->reset); // case matters, as in the original
}

TEST(coap_alive_payload, uid_is_after_the_last_colon_and_trimmed)
{
    const auto p = parse_alive("alive:node:  42 \r\n");
    ASSERT_TRUE(p);
    EXPECT_EQ(p.value->uid, "42");
}

TEST(coap_alive_payload, refusals_say_why)
{
    EXPECT_NE(parse_alive("alive1234").error.find("expected"), std::string::npos);
    EXPECT_NE(parse_alive("alive:").error.find("empty uid"), std::string::npos);
    EXPECT_NE(parse_alive("alive:  ").error.find("empty uid"), std::string::npos);
    EXPECT_NE(parse_alive("alive:\xff\xfe").error.find("UTF-8"), std::string::npos);
    EXPECT_NE(parse_alive(std::string("alive:a\0b", 9)).error.find("control"), std::string::npos);
    EXPECT_FALSE(parse_alive(""));
}

TEST(coap_server_payload, splits_at_the_first_colon)
{
    const auto p = parse_server("temperature:23°C");
    ASSERT_TRUE(p) << p.error;
    EXPECT_EQ(p.value->resource, "temperature");
    EXPECT_EQ(p.value->value, "23°C");

    const auto time = parse_server("time:12:30:00");
    ASSERT_TRUE(time);
    EXPECT_EQ(time.value->resource, "time");
    EXPECT_EQ(time.value->value, "12:30:00");

    const auto empty = parse_server("led:");
    ASSERT_TRUE(empty);
    EXPECT_EQ(empty.value->value, "");
}

TEST(coap_server_payload, refusals_say_why)
{
    EXPECT_NE(parse_server("temperature 23").error.find("'<resource>:<value>'"),
              std::string::npos);
    EXPECT_NE(parse_server(":23").error.find("empty resource name"), std::string::npos);
    EXPECT_NE(parse_server("\xc3:1").error.find("UTF-8"), std::string::npos);
}

TEST(coap_utf8, invalid_bytes_are_replaced)
{
    EXPECT_EQ(to_valid_utf8("23°C"), "23°C");
    EXPECT_EQ(to_valid_utf8("a\xff" "b"), "a\xef\xbf\xbd" "b");
    EXPECT_EQ(to_valid_utf8("\xc3"), "\xef\xbf\xbd"); // cut sequence
}

TEST(coap_printable, escapes_controls_and_cuts)
{
    EXPECT_EQ(printable("a\nb"), "a\\x0ab");
    EXPECT_EQ(printable(std::string(100, 'x'), 10), std::string(10, 'x') + "...");
    EXPECT_EQ(printable("\xff"), "\xef\xbf\xbd");
}

TEST(coap_split_path, segments_are_percent_decoded)
{
    EXPECT_EQ(split_path(".well-known/core"),
              (std::vector<std::string>{".well-known", "core"}));
    EXPECT_EQ(split_path("/a//b/"), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(split_path("temp%20c/x%2Fy"), (std::vector<std::string>{"temp c", "x/y"}));
    EXPECT_EQ(split_path("bad%zz%4"), (std::vector<std::string>{"bad%zz%4"}));
    EXPECT_TRUE(split_path("").empty());
    EXPECT_TRUE(split_path("///").empty());
}
