#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "aiot_proto.h"
#include "guarded_buffer.hpp"

using aiot::test::guarded_buffer;

namespace {

const std::uint8_t luid[8] = {0xaf, 0xea, 0x91, 0x1c, 0x3f, 0x9c, 0xe1, 0x06};

TEST(FirmwareHexUpper, EightBytesGiveSixteenUppercaseDigits)
{
    guarded_buffer out(AIOT_UID_HEX_LEN + 1);
    EXPECT_EQ(aiot_hex_upper(out.data(), out.size(), luid, sizeof luid), 16);
    EXPECT_EQ(out.text(), "AFEA911C3F9CE106");
    EXPECT_TRUE(out.guard_intact());
}

TEST(FirmwareHexUpper, NoRoomForTheNulIsReportedNotCut)
{
    // The original firmware's buffer had exactly 16 bytes for 16 digits.
    guarded_buffer out(AIOT_UID_HEX_LEN);
    EXPECT_EQ(aiot_hex_upper(out.data(), out.size(), luid, sizeof luid), AIOT_ETRUNC);
    EXPECT_EQ(out.text(), "");
    EXPECT_TRUE(out.guard_intact());
}

TEST(FirmwareHexUpper, ZeroBytesAndZeroSizeAndNull)
{
    guarded_buffer out(4);
    EXPECT_EQ(aiot_hex_upper(out.data(), out.size(), luid, 0), 0);
    EXPECT_EQ(out.text(), "");
    EXPECT_EQ(aiot_hex_upper(out.data(), 0, luid, 1), AIOT_ETRUNC);
    EXPECT_EQ(aiot_hex_upper(nullptr, 10, luid, 1), AIOT_ETRUNC);
    EXPECT_EQ(aiot_hex_upper(out.data(), out.size(), nullptr, 1), AIOT_EINVAL);
    EXPECT_TRUE(out.guard_intact());
}

TEST(FirmwareBeaconPayload, ResetAndAlive)
{
    guarded_buffer out(64);
    EXPECT_EQ(aiot_beacon_payload(out.data(), out.size(), true, "AFEA911C3F9CE106"), 22);
    EXPECT_EQ(out.text(), "reset:AFEA911C3F9CE106");
    EXPECT_EQ(aiot_beacon_payload(out.data(), out.size(), false, "AFEA911C3F9CE106"), 22);
    EXPECT_EQ(out.text(), "alive:AFEA911C3F9CE106");
}

TEST(FirmwareBeaconPayload, ExactFitAndOneByteShort)
{
    // "alive:" + 16 digits = 22 characters: 23 bytes hold it, 22 do not.
    guarded_buffer fits(23);
    EXPECT_EQ(aiot_beacon_payload(fits.data(), fits.size(), false, "AFEA911C3F9CE106"), 22);
    EXPECT_EQ(fits.text(), "alive:AFEA911C3F9CE106");
    EXPECT_TRUE(fits.guard_intact());

    guarded_buffer short_by_one(22);
    EXPECT_EQ(aiot_beacon_payload(short_by_one.data(), short_by_one.size(), false,
                                  "AFEA911C3F9CE106"),
              AIOT_ETRUNC);
    EXPECT_EQ(short_by_one.text(), "");
    EXPECT_TRUE(short_by_one.guard_intact());
}

TEST(FirmwareBeaconPayload, RejectsEmptyOrColonUid)
{
    guarded_buffer out(32);
    EXPECT_EQ(aiot_beacon_payload(out.data(), out.size(), false, ""), AIOT_EINVAL);
    EXPECT_EQ(aiot_beacon_payload(out.data(), out.size(), false, nullptr), AIOT_EINVAL);
    EXPECT_EQ(aiot_beacon_payload(out.data(), out.size(), false, "a:b"), AIOT_EINVAL);
    EXPECT_EQ(out.text(), "");
}

TEST(FirmwareServerPayload, NameColonValueKeepsUtf8)
{
    guarded_buffer out(64);
    EXPECT_EQ(aiot_server_payload(out.data(), out.size(), "temperature", "23.4\xc2\xb0" "C"),
              19);
    EXPECT_EQ(out.text(), "temperature:23.4\xc2\xb0" "C");
    // a value may itself contain ':' (the gateway splits at the first one)
    EXPECT_GT(aiot_server_payload(out.data(), out.size(), "text", "a:b"), 0);
    EXPECT_EQ(out.text(), "text:a:b");
}

TEST(FirmwareServerPayload, RejectsBadResourceNames)
{
    guarded_buffer out(64);
    EXPECT_EQ(aiot_server_payload(out.data(), out.size(), "", "1"), AIOT_EINVAL);
    EXPECT_EQ(aiot_server_payload(out.data(), out.size(), "a:b", "1"), AIOT_EINVAL);
    EXPECT_EQ(aiot_server_payload(out.data(), out.size(), "/led", "1"), AIOT_EINVAL);
    EXPECT_EQ(aiot_server_payload(out.data(), out.size(), "led", nullptr), AIOT_EINVAL);
}

TEST(FirmwareServerPayload, TruncationIsReported)
{
    for (std::size_t size = 0; size <= 5; ++size) {
        guarded_buffer out(size);
        EXPECT_EQ(aiot_server_payload(out.data(), out.size(), "led", "1"), AIOT_ETRUNC) << size;
        EXPECT_TRUE(out.guard_intact()) << size;
    }
    guarded_buffer out(6);
    EXPECT_EQ(aiot_server_payload(out.data(), out.size(), "led", "1"), 5);
    EXPECT_EQ(out.text(), "led:1");
}

int parse_switch(const std::string& text)
{
    return aiot_parse_switch(text.data(), text.size());
}

TEST(FirmwareParseSwitch, AcceptsZeroAndOneInTheUsualSpellings)
{
    EXPECT_EQ(parse_switch("1"), 1);
    EXPECT_EQ(parse_switch("0"), 0);
    EXPECT_EQ(parse_switch(" 1\n"), 1);
    EXPECT_EQ(parse_switch("\"0\""), 0);
    EXPECT_EQ(parse_switch("{\"value\": \"1\"}"), 1);
    EXPECT_EQ(parse_switch("{ \"value\" : 0 }"), 0);
}

TEST(FirmwareParseSwitch, RejectsEverythingElse)
{
    for (const char* bad : {"", " ", "2", "10", "01", "on", "true", "\"1", "{\"value\":}",
                            "{\"v\":1}", "{\"value\":\"1\",\"x\":1}", "{}", "\"\""}) {
        EXPECT_EQ(parse_switch(bad), AIOT_EINVAL) << bad;
    }
    EXPECT_EQ(aiot_parse_switch(nullptr, 0), AIOT_EINVAL);
    EXPECT_EQ(aiot_parse_switch(nullptr, 1), AIOT_EINVAL);
    // a NUL inside the payload is not a terminator
    EXPECT_EQ(aiot_parse_switch("1\0", 2), AIOT_EINVAL);
}

TEST(FirmwareCopyText, CopiesAndTerminates)
{
    guarded_buffer out(8);
    EXPECT_EQ(aiot_copy_text(out.data(), out.size(), "kitchen", 7), 7);
    EXPECT_EQ(out.text(), "kitchen");
    EXPECT_TRUE(out.guard_intact());
    EXPECT_EQ(aiot_copy_text(out.data(), out.size(), "abc", 0), 0);
    EXPECT_EQ(out.text(), "");
    EXPECT_EQ(aiot_copy_text(out.data(), out.size(), "K\xc3\xbc" "che", 6), 6);
    EXPECT_EQ(out.text(), "K\xc3\xbc" "che");
}

TEST(FirmwareCopyText, TooLongOrControlBytesLeaveTheOldText)
{
    guarded_buffer out(8);
    ASSERT_EQ(aiot_copy_text(out.data(), out.size(), "old", 3), 3);
    EXPECT_EQ(aiot_copy_text(out.data(), out.size(), "12345678", 8), AIOT_ETRUNC);
    EXPECT_EQ(out.text(), "old");
    EXPECT_EQ(aiot_copy_text(out.data(), out.size(), "a\nb", 3), AIOT_EINVAL);
    EXPECT_EQ(aiot_copy_text(out.data(), out.size(), "a\0b", 3), AIOT_EINVAL);
    EXPECT_EQ(aiot_copy_text(out.data(), out.size(), "a\x7f", 2), AIOT_EINVAL);
    EXPECT_EQ(out.text(), "old");
    EXPECT_TRUE(out.guard_intact());
}

}  // namespace
