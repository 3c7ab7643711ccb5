#include "common/text.hpp"

#include <gtest/gtest.h>

using namespace aiot::common;

TEST(text, utf8_validation)
{
    EXPECT_TRUE(valid_utf8(""));
    EXPECT_TRUE(valid_utf8("plain ascii text longer than eight bytes"));
    EXPECT_TRUE(valid_utf8("23°C, 𝄞, €, ☃ and more ascii"));
    EXPECT_FALSE(valid_utf8("abcdefgh\x80"));
    EXPECT_FALSE(valid_utf8("\xE2\x82"));
    EXPECT_FALSE(valid_utf8("\xE0\x80\x80"));     // overlong
    EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));     // surrogate
    EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80")); // past U+10FFFF
    EXPECT_EQ(utf8_sequence_length("é"), 2u);
    EXPECT_EQ(utf8_sequence_length("\xff"), 0u);
}

TEST(text, repair_replaces_each_invalid_byte)
{
    EXPECT_EQ(to_valid_utf8("23°C"), "23°C");
    EXPECT_EQ(to_valid_utf8("a\xff" "b"), "a\xef\xbf\xbd" "b");
    EXPECT_EQ(to_valid_utf8("\xc3"), "\xef\xbf\xbd");
}

TEST(text, printable_cannot_forge_a_log_line)
{
    EXPECT_EQ(printable("a\nb"), "a\\x0ab");
    EXPECT_EQ(printable("x\r\n2026-01-01 [error] forged"), "x\\x0d\\x0a2026-01-01 [error] forged");
    EXPECT_EQ(printable("\x1b[31mred"), "\\x1b[31mred");
    EXPECT_EQ(printable("back\\slash"), "back\\x5cslash");
    EXPECT_EQ(printable(std::string(100, 'x'), 10), std::string(10, 'x') + "...");
    EXPECT_EQ(printable("\xff"), "\xef\xbf\xbd");
    EXPECT_EQ(printable("café"), "café");
}

TEST(text, trim_and_controls)
{
    EXPECT_EQ(trim(" \t a b \r\n"), "a b");
    EXPECT_EQ(trim("   "), "");
    EXPECT_TRUE(has_control("a\x7f"));
    EXPECT_FALSE(has_control("é"));
}

TEST(text, utf8_valid_prefix_keeps_a_sequence_that_may_still_complete)
{
    using aiot::common::utf8_valid_prefix;
    EXPECT_EQ(utf8_valid_prefix("abc"), 3u);
    EXPECT_EQ(utf8_valid_prefix("ab\xE2\x82"), 2u);     // € cut after 2 of 3 bytes
    EXPECT_EQ(utf8_valid_prefix("\xF0\x9F\x98"), 0u);   // 😀 cut after 3 of 4
    EXPECT_EQ(utf8_valid_prefix("\xE0"), 0u);
    EXPECT_EQ(utf8_valid_prefix("\xF4\x8F"), 0u);
    EXPECT_FALSE(utf8_valid_prefix("\xFF"));
    EXPECT_FALSE(utf8_valid_prefix("a\xE2("));
    EXPECT_FALSE(utf8_valid_prefix("\xE0\x80"));   // overlong
    EXPECT_FALSE(utf8_valid_prefix("\xED\xA0"));   // surrogate
    EXPECT_FALSE(utf8_valid_prefix("\xF4\x90"));   // past U+10FFFF
    EXPECT_FALSE(utf8_valid_prefix("\xC0"));
}

TEST(text, host_port_puts_an_ipv6_address_in_brackets_once)
{
    EXPECT_EQ(aiot::common::host_port("broker.example.org", 8000), "broker.example.org:8000");
    EXPECT_EQ(aiot::common::host_port("127.0.0.1", 1), "127.0.0.1:1");
    EXPECT_EQ(aiot::common::host_port("::1", 8000), "[::1]:8000");
    EXPECT_EQ(aiot::common::host_port("[fd00::1]", 1883), "[fd00::1]:1883");
}

TEST(text, query_items_in_order_raw)
{
    using item = std::pair<std::string_view, std::string_view>;
    EXPECT_TRUE(query_items("/ws").empty());
    EXPECT_TRUE(query_items("/ws?").empty());
    EXPECT_EQ(query_items("/a?x=1&&y&z=a%20b=c#frag&w=2"),
              (std::vector<item>{{"x", "1"}, {"y", ""}, {"z", "a%20b=c"}}));
    EXPECT_EQ(query_items("/a?batch=16"), (std::vector<item>{{"batch", "16"}}));
}
