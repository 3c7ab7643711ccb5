#include "common/base64.hpp"

#include <gtest/gtest.h>

using namespace aiot::common;

namespace {
std::vector<std::uint8_t> bytes(std::string_view s)
{
    return {s.begin(), s.end()};
}
} // namespace

TEST(base64, encodes_rfc4648_vectors)
{
    EXPECT_EQ(base64_encode(bytes("")), "");
    EXPECT_EQ(base64_encode(bytes("f")), "Zg==");
    EXPECT_EQ(base64_encode(bytes("fo")), "Zm8=");
    EXPECT_EQ(base64_encode(bytes("foo")), "Zm9v");
    EXPECT_EQ(base64_encode(bytes("foobar")), "Zm9vYmFy");
    const std::vector<std::uint8_t> high{0xfb, 0xff};
    EXPECT_EQ(base64_encode(high), "+/8=");
    EXPECT_EQ(base64url_encode(high), "-_8=");
}

TEST(base64, decodes_like_python_urlsafe_b64decode)
{
    EXPECT_EQ(base64url_decode("Zm9vYmFy"), bytes("foobar"));
    EXPECT_EQ(base64url_decode("Zm8="), bytes("fo"));
    EXPECT_EQ(base64url_decode("Zg=="), bytes("f"));
    EXPECT_EQ(base64url_decode("-_8="), (std::vector<std::uint8_t>{0xfb, 0xff}));
    EXPECT_EQ(base64url_decode("+/8="), (std::vector<std::uint8_t>{0xfb, 0xff}));
    EXPECT_EQ(base64url_decode("Zm 9v!"), bytes("foo")); // junk skipped
    EXPECT_FALSE(base64url_decode("Zm8"));                // missing padding
    EXPECT_FALSE(base64url_decode("Z"));
    EXPECT_FALSE(base64url_decode("Zg=a"));
}
