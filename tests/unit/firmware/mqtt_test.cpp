#include <gtest/gtest.h>

#include <string>

#include "aiot_proto.h"
#include "guarded_buffer.hpp"

using aiot::test::guarded_buffer;

namespace {

TEST(FirmwareMqttId, ValidIds)
{
    EXPECT_TRUE(aiot_mqtt_valid_id("wipy-1"));
    EXPECT_TRUE(aiot_mqtt_valid_id("AFEA911C3F9CE106"));
    EXPECT_TRUE(aiot_mqtt_valid_id(std::string(AIOT_NODE_ID_MAX, 'x').c_str()));
    EXPECT_FALSE(aiot_mqtt_valid_id(std::string(AIOT_NODE_ID_MAX + 1, 'x').c_str()));
    EXPECT_FALSE(aiot_mqtt_valid_id(""));
    EXPECT_FALSE(aiot_mqtt_valid_id(nullptr));
    for (const char* bad : {"a/b", "a+", "#", "a\nb", "a\x7f"}) {
        EXPECT_FALSE(aiot_mqtt_valid_id(bad)) << bad;
    }
}

TEST(FirmwareMqttTopics, NodeAndGatewayTopics)
{
    guarded_buffer out(64);
    EXPECT_EQ(aiot_mqtt_node_topic(out.data(), out.size(), "n1", "resources"), 17);
    EXPECT_EQ(out.text(), "node/n1/resources");
    EXPECT_GT(aiot_mqtt_node_topic(out.data(), out.size(), "n1", "led"), 0);
    EXPECT_EQ(out.text(), "node/n1/led");
    EXPECT_GT(aiot_mqtt_gateway_topic(out.data(), out.size(), "n1", "discover"), 0);
    EXPECT_EQ(out.text(), "gateway/n1/discover");
    EXPECT_GT(aiot_mqtt_gateway_topic(out.data(), out.size(), "n1", "led/set"), 0);
    EXPECT_EQ(out.text(), "gateway/n1/led/set");
}

TEST(FirmwareMqttTopics, RejectsWildcardsAndSlashes)
{
    guarded_buffer out(64);
    EXPECT_EQ(aiot_mqtt_node_topic(out.data(), out.size(), "n/1", "led"), AIOT_EINVAL);
    EXPECT_EQ(aiot_mqtt_node_topic(out.data(), out.size(), "n1", "a/b"), AIOT_EINVAL);
    EXPECT_EQ(aiot_mqtt_node_topic(out.data(), out.size(), "n1", "#"), AIOT_EINVAL);
    EXPECT_EQ(aiot_mqtt_node_topic(out.data(), out.size(), "n1", ""), AIOT_EINVAL);
    EXPECT_EQ(aiot_mqtt_gateway_topic(out.data(), out.size(), "n1", "+/set"), AIOT_EINVAL);
    EXPECT_EQ(out.text(), "");
}

TEST(FirmwareMqttTopics, TruncationReported)
{
    const std::string topic = "gateway/n1/led/set";
    for (std::size_t size = 0; size <= topic.size(); ++size) {
        guarded_buffer out(size);
        EXPECT_EQ(aiot_mqtt_gateway_topic(out.data(), out.size(), "n1", "led/set"), AIOT_ETRUNC);
        EXPECT_TRUE(out.guard_intact());
    }
}

TEST(FirmwareJsonEscape, EscapesQuotesBackslashesAndControls)
{
    guarded_buffer out(64);
    EXPECT_EQ(aiot_json_escape(out.data(), out.size(), "a\"b\\c"), 7);
    EXPECT_EQ(out.text(), "a\\\"b\\\\c");
    aiot_json_escape(out.data(), out.size(), "l1\nl2\t\x01");
    EXPECT_EQ(out.text(), "l1\\nl2\\t\\u0001");
    aiot_json_escape(out.data(), out.size(), "23\xc2\xb0" "C");
    EXPECT_EQ(out.text(), "23\xc2\xb0" "C");   // UTF-8 kept as is
}

TEST(FirmwareJsonEscape, AnEscapeIsNeverCutInHalf)
{
    // "\u0001" needs 6 bytes: with room for 5 the whole call fails.
    guarded_buffer out(6);
    EXPECT_EQ(aiot_json_escape(out.data(), out.size(), "\x01"), AIOT_ETRUNC);
    EXPECT_EQ(out.text(), "");
    EXPECT_TRUE(out.guard_intact());
}

TEST(FirmwareMqttPayloads, CheckValueAndResources)
{
    guarded_buffer out(128);
    EXPECT_GT(aiot_mqtt_check_payload(out.data(), out.size(), "wipy-1"), 0);
    EXPECT_EQ(out.text(), "{\"id\":\"wipy-1\"}");
    EXPECT_EQ(aiot_mqtt_check_payload(out.data(), out.size(), "a/b"), AIOT_EINVAL);

    EXPECT_GT(aiot_mqtt_value_payload(out.data(), out.size(), "RIOT \"LED\" node"), 0);
    EXPECT_EQ(out.text(), "{\"value\":\"RIOT \\\"LED\\\" node\"}");

    const char* names[] = {"name", "os", "board", "led"};
    EXPECT_GT(aiot_mqtt_resources_payload(out.data(), out.size(), names, 4), 0);
    EXPECT_EQ(out.text(), "[\"name\",\"os\",\"board\",\"led\"]");
    EXPECT_EQ(aiot_mqtt_resources_payload(out.data(), out.size(), names, 0), 2);
    EXPECT_EQ(out.text(), "[]");

    const char* bad[] = {"name", "a/b"};
    EXPECT_EQ(aiot_mqtt_resources_payload(out.data(), out.size(), bad, 2), AIOT_EINVAL);
}

TEST(FirmwareMqttPayloads, ValueTruncation)
{
    const std::string full = "{\"value\":\"1\"}";
    guarded_buffer exact(full.size() + 1);
    EXPECT_EQ(aiot_mqtt_value_payload(exact.data(), exact.size(), "1"),
              static_cast<int>(full.size()));
    EXPECT_EQ(exact.text(), full);
    guarded_buffer short_by_one(full.size());
    EXPECT_EQ(aiot_mqtt_value_payload(short_by_one.data(), short_by_one.size(), "1"),
              AIOT_ETRUNC);
    EXPECT_TRUE(short_by_one.guard_intact());
}

TEST(FirmwareMqttClassify, TopicsOfTheNode)
{
    char endpoint[16] = "unchanged";
    EXPECT_EQ(aiot_mqtt_classify("gateway/check", "n1", endpoint, sizeof endpoint),
              AIOT_MQTT_GATEWAY_CHECK);
    EXPECT_EQ(aiot_mqtt_classify("gateway/n1/discover", "n1", endpoint, sizeof endpoint),
              AIOT_MQTT_DISCOVER);
    EXPECT_EQ(aiot_mqtt_classify("gateway/n1/led/set", "n1", endpoint, sizeof endpoint),
              AIOT_MQTT_SET);
    EXPECT_STREQ(endpoint, "led");
}

TEST(FirmwareMqttClassify, OtherTopics)
{
    char endpoint[8];
    for (const char* topic : {"gateway/n2/discover", "gateway/n1", "gateway/n1/", "gateway/n10/discover",
                              "gateway/n1/set", "gateway/n1//set", "gateway/n1/a/b/set",
                              "node/n1/led", "gateway/n1/discover/x", "gateway/n1/toolongname/set", ""}) {
        EXPECT_EQ(aiot_mqtt_classify(topic, "n1", endpoint, sizeof endpoint), AIOT_MQTT_OTHER)
            << topic;
    }
    EXPECT_EQ(aiot_mqtt_classify(nullptr, "n1", endpoint, sizeof endpoint), AIOT_MQTT_OTHER);
    EXPECT_EQ(aiot_mqtt_classify("gateway/n1/led/set", "n1", nullptr, 0), AIOT_MQTT_OTHER);
    EXPECT_EQ(aiot_mqtt_classify("gateway/n1/led/set", "n1", endpoint, 3), AIOT_MQTT_OTHER);
    EXPECT_EQ(aiot_mqtt_classify("gateway/n1/led/set", "n1", endpoint, 4), AIOT_MQTT_SET);
}

TEST(FirmwareMqttDiscover, Payloads)
{
    EXPECT_EQ(aiot_mqtt_parse_discover("resources", 9), AIOT_DISCOVER_RESOURCES);
    EXPECT_EQ(aiot_mqtt_parse_discover("values", 6), AIOT_DISCOVER_VALUES);
    EXPECT_EQ(aiot_mqtt_parse_discover("values\n", 7), AIOT_DISCOVER_UNKNOWN);
    EXPECT_EQ(aiot_mqtt_parse_discover("value", 5), AIOT_DISCOVER_UNKNOWN);
    EXPECT_EQ(aiot_mqtt_parse_discover(nullptr, 0), AIOT_DISCOVER_UNKNOWN);
}

}  // namespace
