#include "common/json_text.hpp"
#include "common/message.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <limits>

using namespace aiot::common;

namespace {

// The exact bytes the original (Python json.dumps) emits for every message
// kind (tests/data/messages_vectors.json, made by the original's serializer).
nlohmann::json load_vectors()
{
    std::ifstream in(std::string(AIOT_TEST_DATA_DIR) + "/messages_vectors.json");
    EXPECT_TRUE(in) << "tests/data/messages_vectors.json missing";
    return nlohmann::json::parse(in);
}

std::string deep_array(std::size_t depth)
{
    return std::string(depth, '[') + std::string(depth, ']');
}

} // namespace

TEST(json_text, every_vector_of_the_original_byte_for_byte)
{
    const auto vectors = load_vectors();
    std::size_t checked = 0;
    for (const auto& c : vectors.at("cases")) {
        const auto& expected = c.at("bytes").get_ref<const std::string&>();
        // What the original re-serialises (the broker) starts from `given`;
        // what it builds is checked by parsing and writing its own bytes.
        const auto& source = c.contains("given") ? c.at("given").get_ref<const std::string&>()
                                                 : expected;
        auto parsed = parse_json(source);
        ASSERT_TRUE(parsed) << c.at("name");
        if (c.at("emitted_by") == "broker to gateways") {
            // The broker adds the client's id as the original does.
            (*parsed.value)["src"] = "3a4da503-1d41-4a89-a6bb-745f147f01f6";
        }
        EXPECT_EQ(serialize(*parsed.value), expected) << c.at("name");
        ++checked;
    }
    EXPECT_GE(checked, 17u);
}

TEST(json_text, builders_emit_the_original_bytes)
{
    const auto vectors = load_vectors();
    std::map<std::string, std::string> bytes;
    for (const auto& c : vectors.at("cases")) {
        bytes[c.at("name")] = c.at("bytes");
    }
    const std::string client = "3a4da503-1d41-4a89-a6bb-745f147f01f6";
    EXPECT_EQ(serialize(make_new("7f3c2a10-coap", "all")), bytes["gateway_new_broadcast"]);
    EXPECT_EQ(serialize(make_new("7f3c2a10-coap", client)), bytes["gateway_new_to_client"]);
    EXPECT_EQ(serialize(make_update("7f3c2a10-coap", "temperature", "23.4°C", "all")),
              bytes["gateway_update"]);
    EXPECT_EQ(serialize(make_update("7f3c2a10-coap", "led", "1", client)),
              bytes["gateway_update_to_client"]);
    EXPECT_EQ(serialize(make_update("n", "imu",
                                    json::array({json{{"type", "acc"},
                                                      {"values", json::array({12, -980, 3})}}}),
                                    "all")),
              bytes["gateway_update_json_value"]);
    EXPECT_EQ(serialize(make_update("n", "protocol", "CoAP", "all")),
              bytes["gateway_update_protocol"]);
    EXPECT_EQ(serialize(make_out("7f3c2a10-coap")), bytes["gateway_out"]);
    EXPECT_EQ(serialize(make_reset("7f3c2a10-coap")), bytes["gateway_reset"]);
    EXPECT_EQ(serialize(make_keepalive()), bytes["gateway_keepalive"]);
    EXPECT_EQ(serialize(json{{"request", "discover"}}), bytes["ws_gateway_discover_request"]);
    EXPECT_EQ(serialize(json{{"endpoint", "led"}, {"payload", "1"}}), bytes["ws_gateway_write"]);
}

TEST(json_text, floats_as_python_repr)
{
    EXPECT_EQ(python_float_repr(1.5), "1.5");
    EXPECT_EQ(python_float_repr(-2.0), "-2.0");
    EXPECT_EQ(python_float_repr(0.1), "0.1");
    EXPECT_EQ(python_float_repr(1e-05), "1e-05");
    EXPECT_EQ(python_float_repr(0.0001), "0.0001");
    EXPECT_EQ(python_float_repr(1e16), "1e+16");
    EXPECT_EQ(python_float_repr(1e15), "1000000000000000.0");
    EXPECT_EQ(python_float_repr(123456789.125), "123456789.125");
    EXPECT_EQ(python_float_repr(-0.0), "-0.0");
    EXPECT_EQ(python_float_repr(1.5e300), "1.5e+300");
    EXPECT_EQ(python_float_repr(2.5e-300), "2.5e-300");
    EXPECT_EQ(python_float_repr(1.0 / 3), "0.3333333333333333");
    EXPECT_EQ(python_float_repr(std::numeric_limits<double>::quiet_NaN()), "NaN");
    EXPECT_EQ(python_float_repr(-std::numeric_limits<double>::infinity()), "-Infinity");
}

TEST(json_text, strings_as_python_writes_them)
{
    EXPECT_EQ(serialize(json("a\x01\"b\\c\n/d\x7f")), R"("a\u0001\"b\\c\n/d)" "\x7f\"");
    EXPECT_EQ(serialize(json("\b\f\r\t\x1f")), R"("\b\f\r\t\u001f")");
    EXPECT_EQ(serialize(json("23°C 😀")), "\"23°C 😀\"");
    EXPECT_EQ(serialize(json("cut \xe2\x82")), "\"cut \xef\xbf\xbd\xef\xbf\xbd\"");
    EXPECT_EQ(serialize(json::object()), "{}");
    EXPECT_EQ(serialize(json::array()), "[]");
    EXPECT_EQ(serialize(json{{"a", nullptr}, {"b", true}, {"c", false}}),
              R"({"a": null, "b": true, "c": false})");
    EXPECT_EQ(serialize(json(std::uint64_t{18446744073709551615u})), "18446744073709551615");
    EXPECT_EQ(serialize(json(std::int64_t{-9223372036854775807 - 1})), "-9223372036854775808");
}

TEST(json_text, keys_keep_their_order_and_duplicates_keep_the_first_place)
{
    // Python's json.loads: the last value, at the place of the first key.
    const auto parsed = parse_json(R"({"b":1,"a":2,"b":3})");
    ASSERT_TRUE(parsed);
    EXPECT_EQ(serialize(*parsed.value), R"({"b": 3, "a": 2})");
}

TEST(json_text, depth_is_checked_before_parsing)
{
    EXPECT_EQ(json_depth("[]"), 1u);
    EXPECT_EQ(json_depth(R"({"a":[{"b":"[[[["}]})"), 3u);
    EXPECT_EQ(json_depth(R"(["\"[[[", [1]])"), 2u);
    EXPECT_TRUE(parse_json(deep_array(64)));
    for (const std::size_t depth : {65u, 10'000u, 100'000u}) {
        const auto r = parse_json(deep_array(depth));
        EXPECT_FALSE(r) << depth;
        EXPECT_EQ(r.error, json_error::too_deep) << depth;
    }
    EXPECT_EQ(parse_json("{").error, json_error::syntax);
    EXPECT_EQ(parse_json("").error, json_error::syntax);
}

TEST(json_text, values_built_too_deep_are_cut_not_crashed)
{
    json v = json::array();
    for (int i = 0; i < 200; ++i) {
        v = json::array({std::move(v)});
    }
    const auto text = serialize(v);
    EXPECT_NE(text.find("null"), std::string::npos);
    EXPECT_LT(text.size(), 200u);
}
