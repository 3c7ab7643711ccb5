#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <string>

#include "aiot_proto.h"
#include "guarded_buffer.hpp"

using aiot::test::guarded_buffer;

namespace {

const std::string degree_c = "\xc2\xb0" "C";

std::string fixed(std::int32_t value, int scale, unsigned decimals, const char* unit)
{
    guarded_buffer out(64);
    int n = aiot_format_fixed(out.data(), out.size(), value, scale, decimals, unit);
    EXPECT_TRUE(out.guard_intact());
    return n < 0 ? "<error " + std::to_string(n) + ">" : out.text();
}

TEST(FirmwareFormatFixed, ScalesAndRounds)
{
    EXPECT_EQ(fixed(2345, -2, 1, "C"), "23.5C");   // half away from zero
    EXPECT_EQ(fixed(2344, -2, 1, "C"), "23.4C");
    EXPECT_EQ(fixed(2345, -2, 2, nullptr), "23.45");
    EXPECT_EQ(fixed(2345, -2, 0, nullptr), "23");
    EXPECT_EQ(fixed(7, 0, 3, nullptr), "7.000");
    EXPECT_EQ(fixed(12, 2, 0, nullptr), "1200");
    EXPECT_EQ(fixed(0, 5, 1, nullptr), "0.0");
    EXPECT_EQ(fixed(5, -1, 0, nullptr), "1");
    EXPECT_EQ(fixed(4, -1, 0, nullptr), "0");
}

TEST(FirmwareFormatFixed, NegativeValuesKeepTheirSign)
{
    // the original firmware printed -1.5 as "-1.-5"
    EXPECT_EQ(fixed(-150, -2, 1, nullptr), "-1.5");
    EXPECT_EQ(fixed(-5, -2, 1, nullptr), "-0.1");
    EXPECT_EQ(fixed(-4, -2, 1, nullptr), "0.0");
    EXPECT_EQ(fixed(-5, -1, 0, nullptr), "-1");
    EXPECT_EQ(fixed(INT32_MIN, 0, 0, nullptr), "-2147483648");
    EXPECT_EQ(fixed(INT32_MAX, 0, 6, nullptr), "2147483647.000000");
}

TEST(FirmwareFormatFixed, RejectsWhatCannotBePrinted)
{
    EXPECT_EQ(fixed(1, 0, 7, nullptr), "<error -2>");          // too many decimals
    EXPECT_EQ(fixed(INT32_MAX, 12, 0, nullptr), "<error -2>");  // > 10^18
    EXPECT_EQ(fixed(1, 200, 0, nullptr), "<error -2>");         // scale out of range
    EXPECT_EQ(fixed(1, -40, 0, nullptr), "0");                  // tiny rounds to 0
}

TEST(FirmwareFormatFixed, TruncationAtEveryLength)
{
    const std::string full = "-12.3" + degree_c;   // 8 bytes
    for (std::size_t size = 0; size <= full.size(); ++size) {
        guarded_buffer out(size);
        EXPECT_EQ(aiot_format_temperature(out.data(), out.size(), -1234, -2), AIOT_ETRUNC)
            << size;
        EXPECT_TRUE(out.guard_intact()) << size;
        if (size > 0) {
            EXPECT_EQ(out.text(), "") << size;
        }
    }
    guarded_buffer out(full.size() + 1);
    EXPECT_EQ(aiot_format_temperature(out.data(), out.size(), -1234, -2),
              static_cast<int>(full.size()));
    EXPECT_EQ(out.text(), full);
}

TEST(FirmwareSensorFormats, UnitsOfTheNodes)
{
    guarded_buffer out(32);
    aiot_format_temperature(out.data(), out.size(), 2337, -2);   // BME280: 0.01 degC
    EXPECT_EQ(out.text(), "23.4" + degree_c);
    aiot_format_pressure(out.data(), out.size(), 10132, 1);      // 101320 Pa
    EXPECT_EQ(out.text(), "1013hPa");
    aiot_format_pressure(out.data(), out.size(), 1013, 2);       // hPa as Pa*10^2
    EXPECT_EQ(out.text(), "1013hPa");
    aiot_format_humidity(out.data(), out.size(), 4567, -2);
    EXPECT_EQ(out.text(), "46%");
    aiot_format_illuminance(out.data(), out.size(), 312, 0);
    EXPECT_EQ(out.text(), "312lx");
}

TEST(FirmwareRescale, RoundsAndClamps)
{
    EXPECT_EQ(aiot_rescale(981, -2, -3), 9810);     // 9.81 g -> 9810 mg
    EXPECT_EQ(aiot_rescale(1234, -3, 0), 1);
    EXPECT_EQ(aiot_rescale(-1500, -3, 0), -2);
    EXPECT_EQ(aiot_rescale(1499, -3, 0), 1);
    EXPECT_EQ(aiot_rescale(INT32_MAX, 0, -1), INT32_MAX);
    EXPECT_EQ(aiot_rescale(INT32_MIN, 3, 0), INT32_MIN);
    EXPECT_EQ(aiot_rescale(0, 100, -100), 0);
    EXPECT_EQ(aiot_rescale(5, 1000, 0), 0);          // out-of-range scale
}

TEST(FirmwareFormatImu, ThreeEntriesInDashboardOrder)
{
    aiot_vec3_t acc{{12, -980, 3}};
    aiot_vec3_t gyro{{-1, 0, 250}};
    guarded_buffer out(256);
    int n = aiot_format_imu(out.data(), out.size(), &acc, nullptr, &gyro);
    const std::string expected =
        "[{\"type\":\"acc\",\"values\":[12,-980,3]},"
        "{\"type\":\"mag\",\"values\":[0,0,0]},"
        "{\"type\":\"gyro\",\"values\":[-1,0,250]}]";
    EXPECT_EQ(n, static_cast<int>(expected.size()));
    EXPECT_EQ(out.text(), expected);

    guarded_buffer small(expected.size());
    EXPECT_EQ(aiot_format_imu(small.data(), small.size(), &acc, nullptr, &gyro), AIOT_ETRUNC);
    EXPECT_TRUE(small.guard_intact());
    EXPECT_EQ(small.text(), "");
}

TEST(FirmwareFormatImu, ExtremeValuesFitTheDocumentedBound)
{
    aiot_vec3_t v{{INT32_MIN, INT32_MIN, INT32_MIN}};
    guarded_buffer out(256);
    int n = aiot_format_imu(out.data(), out.size(), &v, &v, &v);
    EXPECT_GT(n, 0);
    EXPECT_LT(n, 200);
}

}  // namespace

namespace {

std::string with(int (*format)(char*, size_t, std::int32_t, int), std::int32_t v, int scale)
{
    guarded_buffer out(32);
    const int n = format(out.data(), out.size(), v, scale);
    EXPECT_TRUE(out.guard_intact());
    return n < 0 ? "<error>" : out.text();
}

TEST(FirmwareFormatAirQuality, Eco2AndTvocInWholeUnits)
{
    EXPECT_EQ(with(aiot_format_eco2, 412, 0), "412ppm");
    EXPECT_EQ(with(aiot_format_eco2, 4125, -1), "413ppm");
    EXPECT_EQ(with(aiot_format_tvoc, 15, 0), "15ppb");
    EXPECT_EQ(with(aiot_format_tvoc, 2, 3), "2000ppb");
}

std::string position(const std::string& text)
{
    aiot_position_t p{1, 1};
    if (aiot_parse_position(text.data(), text.size(), &p) != 0) {
        EXPECT_EQ(p.lat_e6, 1) << "left alone on error";
        return "<refused>";
    }
    guarded_buffer out(64);
    const int n = aiot_format_position(out.data(), out.size(), &p);
    EXPECT_TRUE(out.guard_intact());
    return n < 0 ? "<error>" : out.text();
}

TEST(FirmwarePosition, ParsesJsonAndPlainTextAndFormatsJson)
{
    EXPECT_EQ(position(R"({"lat":48.7146,"lng":2.2056})"), R"({"lat":48.7146,"lng":2.2056})");
    EXPECT_EQ(position(R"( { "lng" : -0.5 , "lat" : -33.000001 } )"),
              R"({"lat":-33.000001,"lng":-0.5})");
    EXPECT_EQ(position(R"({"lat":1,"lon":2})"), R"({"lat":1,"lng":2})");
    EXPECT_EQ(position("48.7146,2.2056"), R"({"lat":48.7146,"lng":2.2056})");
    EXPECT_EQ(position("-90,180"), R"({"lat":-90,"lng":180})");
    EXPECT_EQ(position("0.000001, -0.000001"), R"({"lat":0.000001,"lng":-0.000001})");
}

TEST(FirmwarePosition, RefusesWhatIsNotAPosition)
{
    EXPECT_EQ(position(""), "<refused>");
    EXPECT_EQ(position("48.7"), "<refused>");
    EXPECT_EQ(position("90.000001,0"), "<refused>");         // out of range
    EXPECT_EQ(position("0,180.5"), "<refused>");
    EXPECT_EQ(position("1.1234567,0"), "<refused>");         // 7 fraction digits
    EXPECT_EQ(position("1.,2"), "<refused>");
    EXPECT_EQ(position("1,2x"), "<refused>");
    EXPECT_EQ(position(R"({"lat":1})"), "<refused>");
    EXPECT_EQ(position(R"({"lat":1,"lat":2})"), "<refused>");
    EXPECT_EQ(position(R"({"lat":1,"lng":2,"x":3})"), "<refused>");
    EXPECT_EQ(position(R"({"lat":"1","lng":2})"), "<refused>");
    EXPECT_EQ(position("99999999999,0"), "<refused>");
}

TEST(FirmwarePosition, TruncationIsReported)
{
    const aiot_position_t p{48714600, 2205600};
    guarded_buffer out(10);
    EXPECT_LT(aiot_format_position(out.data(), out.size(), &p), 0);
    EXPECT_TRUE(out.guard_intact());
}

} // namespace
