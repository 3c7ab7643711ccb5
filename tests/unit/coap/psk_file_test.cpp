// The PSK file of the CoAP gateway's DTLS port (--coap-psk-file).
#include "gateways/coap/psk_file.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace aiot::gw::coap;

TEST(psk_file, reads_hex_and_text_keys_comments_and_blank_lines)
{
    const auto f = parse_psk_file("# nodes of the lab\n"
                                  "\n"
                                  "node-1 = 0x00ff10Ab\r\n"
                                  "  node-2=secret key with = sign  \n"
                                  "   # indented comment\n"
                                  "node-3 = 0X41\n"
                                  "last=no newline");
    ASSERT_EQ(f.error, "");
    ASSERT_EQ(f.keys.size(), 4u);
    EXPECT_EQ(f.keys.at("node-1"), std::string("\x00\xff\x10\xab", 4));
    EXPECT_EQ(f.keys.at("node-2"), "secret key with = sign");
    EXPECT_EQ(f.keys.at("node-3"), "A");
    EXPECT_EQ(f.keys.at("last"), "no newline");
}

TEST(psk_file, bad_hex_is_not_read_as_text)
{
    // "0xyz..." starts like hex: a typo in a hex key must not become a text key.
    const auto f = parse_psk_file("ok = 0x0011\nbad = 0x0g\n");
    EXPECT_EQ(f.error, "line 2: identity 'bad': 'g' is not a hex digit in a 0x key");
    EXPECT_TRUE(f.keys.empty());
    EXPECT_EQ(parse_psk_file("a = 0x123\n").error,
              "line 1: identity 'a': a hex key (0x...) needs an even number of hex digits, at "
              "least 2");
    EXPECT_EQ(parse_psk_file("a = 0x\n").error,
              "line 1: identity 'a': a hex key (0x...) needs an even number of hex digits, at "
              "least 2");
}

TEST(psk_file, every_bad_line_names_its_number_and_reason)
{
    EXPECT_EQ(parse_psk_file("\n\nnode-1 0x00\n").error, "line 3: expected 'identity = key'");
    EXPECT_EQ(parse_psk_file(" = key\n").error, "line 1: empty identity before '='");
    EXPECT_EQ(parse_psk_file("node =\n").error, "line 1: identity 'node': empty key");
    EXPECT_EQ(parse_psk_file("my node = k\n").error, "line 1: identity 'my node' contains a blank");
    EXPECT_EQ(parse_psk_file("a = 1\nb = 2\na = 3\n").error, "line 3: identity 'a' given twice");
    EXPECT_EQ(parse_psk_file(std::string(65, 'i') + " = k\n").error,
              "line 1: identity of 65 bytes (at most 64)");
    EXPECT_EQ(parse_psk_file("a = " + std::string(65, 'k') + "\n").error,
              "line 1: identity 'a': key of 65 bytes (at most 64)");
    EXPECT_EQ(parse_psk_file("a = 1\nb = 2\nc = 3\n", 2).error, "line 3: more than 2 identities");
}

TEST(psk_file, an_empty_file_has_no_keys)
{
    const auto f = parse_psk_file("# nothing yet\n\n");
    EXPECT_EQ(f.error, "");
    EXPECT_TRUE(f.keys.empty());
}

TEST(psk_file, decode_key_on_its_own)
{
    EXPECT_EQ(decode_psk_key("0x6b6579"), "key");
    EXPECT_EQ(decode_psk_key("plain"), "plain");
    std::string why;
    EXPECT_FALSE(decode_psk_key("", &why));
    EXPECT_EQ(why, "empty key");
    EXPECT_EQ(decode_psk_key("0x" + std::string(128, 'a'))->size(), 64u);
    EXPECT_FALSE(decode_psk_key("0x" + std::string(130, 'a')));
}
