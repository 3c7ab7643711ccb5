#include "common/message.hpp"

#include <gtest/gtest.h>

using namespace aiot::common;

TEST(message, accepts_the_four_types)
{
    for (const char* t : {"new", "update", "out", "reset"}) {
        const auto r = parse_message(std::string(R"({"type":")") + t + R"(","uid":"x"})");
        ASSERT_TRUE(r) << t;
        EXPECT_EQ(to_string(r.msg->type), t);
        EXPECT_EQ(r.msg->body.at("uid"), "x");
    }
}

TEST(message, rejects_with_the_original_reasons)
{
    EXPECT_EQ(parse_message("not json").error, "Invalid message 'not json'.");
    EXPECT_EQ(parse_message("[1,2]").error, "Invalid message '[1,2]'.");
    EXPECT_EQ(parse_message(R"({"uid":1})").error, R"(Invalid message '{"uid":1}'.)");
    EXPECT_EQ(parse_message(R"({"type":"bogus"})").error, "Invalid message type 'bogus'.");
    EXPECT_EQ(parse_message(R"({"type":3})").error, "Invalid message type '3'.");
}

TEST(message, reasons_fit_a_close_frame_without_splitting_utf8)
{
    const std::string big = R"({"type":")" + std::string(200, 'a') + "\"}";
    const auto r = parse_message(big);
    EXPECT_LE(r.error.size(), 123u);
    std::string accents;
    for (int i = 0; i < 100; ++i) {
        accents += "\xc3\xa9"; // é
    }
    const auto cut = truncate_close_reason("x" + accents);
    EXPECT_LE(cut.size(), 123u);
    EXPECT_EQ(cut.substr(cut.size() - 3), "...");
    // Every byte before the ellipsis belongs to a whole character.
    const auto body = cut.substr(1, cut.size() - 4);
    EXPECT_EQ(body.size() % 2, 0u);
}

TEST(message, serialises_utf8_as_is)
{
    const auto m = make_update("n1", "temperature", "23°C", "all");
    const auto text = serialize(m);
    EXPECT_NE(text.find("23°C"), std::string::npos);
    EXPECT_EQ(text.find("\\u"), std::string::npos);
    EXPECT_EQ(json::parse(text), m);
    // Invalid UTF-8 is written as U+FFFD.
    EXPECT_EQ(serialize(json("bad \xff byte")), "\"bad \xef\xbf\xbd byte\"");
}

TEST(message, nesting_is_limited_before_parsing)
{
    const auto nested = [](std::size_t depth) {
        // {"type":"update","data":[[...]]}: the object is one level.
        return R"({"type":"update","data":)" + std::string(depth - 1, '[') +
               std::string(depth - 1, ']') + "}";
    };
    EXPECT_TRUE(parse_message(nested(64)));
    for (const std::size_t depth : {65u, 10'000u, 100'000u}) {
        const auto r = parse_message(nested(depth));
        EXPECT_FALSE(r) << depth;
        EXPECT_EQ(r.problem, "JSON nested too deep") << depth;
        EXPECT_LE(r.error.size(), 123u);
    }
    // The same through the type field, which the close reason prints.
    const auto deep_type = R"({"type":)" + std::string(100'000, '[') + std::string(100'000, ']') + "}";
    EXPECT_FALSE(parse_message(deep_type));
}

TEST(message, builders_match_the_protocol)
{
    EXPECT_EQ(make_new("u", "all"), json::parse(R"({"type":"new","uid":"u","dst":"all"})"));
    EXPECT_EQ(make_out("u"), json::parse(R"({"type":"out","uid":"u"})"));
    EXPECT_EQ(make_reset("u"), json::parse(R"({"type":"reset","uid":"u"})"));
    EXPECT_EQ(make_keepalive(), json::parse(R"({"type":"update","uid":"alive"})"));
}

TEST(message, write_requests_need_exactly_uid_endpoint_payload)
{
    const auto ok = parse_write_request(json::parse(
        R"({"type":"update","data":{"uid":"u","endpoint":"led","payload":"1"},"src":"c1"})"));
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->uid, "u");
    EXPECT_EQ(ok->endpoint, "led");
    EXPECT_EQ(ok->payload, "1");
    EXPECT_EQ(ok->src, "c1");
    EXPECT_FALSE(parse_write_request(json::parse(
        R"({"type":"update","data":{"uid":"u","endpoint":"led","payload":"1","x":2}})")));
    EXPECT_FALSE(parse_write_request(
        json::parse(R"({"type":"update","data":{"uid":"u","endpoint":"led"}})")));
    EXPECT_FALSE(parse_write_request(json::parse(R"({"type":"update","data":"x"})")));
    const auto num = parse_write_request(json::parse(
        R"({"type":"update","data":{"uid":"u","endpoint":"led","payload":1}})"));
    ASSERT_TRUE(num);
    EXPECT_EQ(num->payload, "1");
}
