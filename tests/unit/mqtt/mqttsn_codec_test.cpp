// The MQTT-SN v1.2 codec against the packet layouts of the specification
// (section 5): each case writes the octets out by hand from the layout
// tables, decodes them, compares the fields, and encodes them back.
#include "gateways/mqtt/mqttsn_codec.hpp"

#include <gtest/gtest.h>

using namespace aiot::gw::mqttsn;

namespace {

std::string bytes(std::initializer_list<int> octets)
{
    std::string s;
    for (const int o : octets) {
        s.push_back(static_cast<char>(o));
    }
    return s;
}

// decode(wire) gives `expected`, and encode(expected) gives wire back.
template <class T>
void round_trip(const std::string& wire, const T& expected)
{
    const auto r = decode(wire);
    ASSERT_TRUE(r) << r.error;
    ASSERT_TRUE(std::holds_alternative<T>(*r.value)) << to_string(type_of(*r.value));
    EXPECT_EQ(std::get<T>(*r.value), expected);
    EXPECT_EQ(encode(expected), wire);
}

std::string decode_error(const std::string& wire)
{
    const auto r = decode(wire);
    EXPECT_FALSE(r) << "decoded " << to_string(type_of(*r.value));
    return r.error;
}

TEST(mqttsn_codec, flags_octet_bits)
{
    // 5.3.4: DUP 7, QoS 6-5, Retain 4, Will 3, CleanSession 2, TopicIdType 1-0
    EXPECT_EQ((flags{.dup = true}.encode()), 0x80);
    EXPECT_EQ((flags{.qos = 1}.encode()), 0x20);
    EXPECT_EQ((flags{.qos = 2}.encode()), 0x40);
    EXPECT_EQ((flags{.qos = -1}.encode()), 0x60);
    EXPECT_EQ((flags{.retain = true}.encode()), 0x10);
    EXPECT_EQ((flags{.will = true}.encode()), 0x08);
    EXPECT_EQ((flags{.clean_session = true}.encode()), 0x04);
    EXPECT_EQ((flags{.id_type = topic_id_type::predefined}.encode()), 0x01);
    EXPECT_EQ((flags{.id_type = topic_id_type::short_name}.encode()), 0x02);
}

TEST(mqttsn_codec, advertise_searchgw_gwinfo)
{
    // ADVERTISE: Length 5, 0x00, GwId, Duration(2)
    round_trip(bytes({0x05, 0x00, 0x07, 0x03, 0x84}), advertise{7, 900});
    // SEARCHGW: Length 3, 0x01, Radius
    round_trip(bytes({0x03, 0x01, 0x01}), searchgw{1});
    // GWINFO from a gateway: Length 3, 0x02, GwId
    round_trip(bytes({0x03, 0x02, 0x07}), gwinfo{7, ""});
    // GWINFO from a client: with the gateway's address
    round_trip(bytes({0x05, 0x02, 0x07, 0x0a, 0x01}), gwinfo{7, bytes({0x0a, 0x01})});
}

TEST(mqttsn_codec, connect_and_connack)
{
    // CONNECT: Length, 0x04, Flags, ProtocolId 0x01, Duration(2), ClientId
    const auto wire = bytes({0x0d, 0x04, 0x04, 0x01, 0x00, 0x3c, 'r', 'i', 'o', 't', '-', 's',
                             'n'});
    round_trip(wire, connect{flags{.clean_session = true}, 0x01, 60, "riot-sn"});
    round_trip(bytes({0x03, 0x05, 0x00}), connack{return_code::accepted});
    round_trip(bytes({0x03, 0x05, 0x01}), connack{return_code::congestion});
    round_trip(bytes({0x03, 0x05, 0x03}), connack{return_code::not_supported});
}

TEST(mqttsn_codec, will_packets)
{
    round_trip(bytes({0x02, 0x06}), willtopicreq{});
    // WILLTOPIC: Flags (QoS, Retain), WillTopic
    round_trip(bytes({0x05, 0x07, 0x30, 'a', '/'}),
               willtopic{flags{.qos = 1, .retain = true}, "a/"});
    // an empty WILLTOPIC (header only) deletes the will
    round_trip(bytes({0x02, 0x07}), willtopic{});
    round_trip(bytes({0x02, 0x08}), willmsgreq{});
    round_trip(bytes({0x05, 0x09, 'b', 'y', 'e'}), willmsg{"bye"});
    round_trip(bytes({0x04, 0x1a, 0x20, 'x'}), willtopicupd{flags{.qos = 1}, "x"});
    round_trip(bytes({0x03, 0x1b, 0x00}), willtopicresp{return_code::accepted});
    round_trip(bytes({0x04, 0x1c, 'o', 'k'}), willmsgupd{"ok"});
    round_trip(bytes({0x03, 0x1d, 0x03}), willmsgresp{return_code::not_supported});
}

TEST(mqttsn_codec, register_and_regack)
{
    // REGISTER: TopicId(2) MsgId(2) TopicName
    round_trip(bytes({0x10, 0x0a, 0x00, 0x00, 0x12, 0x34, 'n', 'o', 'd', 'e', '/', 'c', 'h', 'e',
                      'c', 'k'}),
               register_{0, 0x1234, "node/check"});
    // REGACK: TopicId(2) MsgId(2) ReturnCode
    round_trip(bytes({0x07, 0x0b, 0x00, 0x05, 0x12, 0x34, 0x00}),
               regack{5, 0x1234, return_code::accepted});
    EXPECT_NE(decode_error(bytes({0x06, 0x0a, 0x00, 0x00, 0x12, 0x34})).find("too short"),
              std::string::npos)
        << "REGISTER without a topic name";
}

TEST(mqttsn_codec, publish_and_acks)
{
    // PUBLISH: Flags TopicId(2) MsgId(2) Data
    round_trip(bytes({0x0a, 0x0c, 0x20, 0x00, 0x01, 0x00, 0x07, '{', '}', '1'}),
               publish{flags{.qos = 1}, 1, 7, "{}1"});
    // QoS 0, no data, predefined id
    round_trip(bytes({0x07, 0x0c, 0x01, 0x00, 0x02, 0x00, 0x00}),
               publish{flags{.id_type = topic_id_type::predefined}, 2, 0, ""});
    // QoS -1 with a short topic name "ab"
    round_trip(bytes({0x08, 0x0c, 0x62, 'a', 'b', 0x00, 0x00, 'x'}),
               publish{flags{.qos = -1, .id_type = topic_id_type::short_name},
                       short_topic_id("ab"), 0, "x"});
    EXPECT_EQ(short_topic_name(short_topic_id("ab")), "ab");
    // PUBACK: TopicId(2) MsgId(2) ReturnCode
    round_trip(bytes({0x07, 0x0d, 0x00, 0x01, 0x00, 0x07, 0x02}),
               puback{1, 7, return_code::invalid_topic_id});
    round_trip(bytes({0x04, 0x0f, 0x00, 0x09}), pubrec{9});
    round_trip(bytes({0x04, 0x10, 0x00, 0x09}), pubrel{9});
    round_trip(bytes({0x04, 0x0e, 0x00, 0x09}), pubcomp{9});
}

TEST(mqttsn_codec, subscribe_forms_and_suback)
{
    // SUBSCRIBE: Flags MsgId(2) then TopicName (normal), TopicId (predefined)
    // or the two characters (short name)
    round_trip(bytes({0x12, 0x12, 0x20, 0x00, 0x03, 'g', 'a', 't', 'e', 'w', 'a', 'y', '/', 'c',
                      'h', 'e', 'c', 'k'}),
               subscribe{flags{.qos = 1}, 3, "gateway/check", 0});
    round_trip(bytes({0x07, 0x12, 0x01, 0x00, 0x04, 0x00, 0x02}),
               subscribe{flags{.id_type = topic_id_type::predefined}, 4, "", 2});
    round_trip(bytes({0x07, 0x12, 0x02, 0x00, 0x05, 'a', 'b'}),
               subscribe{flags{.id_type = topic_id_type::short_name}, 5, "ab", 0});
    // SUBACK: Flags TopicId(2) MsgId(2) ReturnCode
    round_trip(bytes({0x08, 0x13, 0x20, 0x00, 0x01, 0x00, 0x03, 0x00}),
               suback{flags{.qos = 1}, 1, 3, return_code::accepted});
    round_trip(bytes({0x07, 0x14, 0x00, 0x00, 0x06, 'a', '/'}),
               unsubscribe{flags{}, 6, "a/", 0});
    round_trip(bytes({0x04, 0x15, 0x00, 0x06}), unsuback{6});
    EXPECT_NE(decode_error(bytes({0x08, 0x12, 0x02, 0x00, 0x05, 'a', 'b', 'c'})).find("short"),
              std::string::npos);
    EXPECT_NE(decode_error(bytes({0x05, 0x12, 0x00, 0x00, 0x05})).find("without a topic"),
              std::string::npos);
}

TEST(mqttsn_codec, ping_and_disconnect)
{
    round_trip(bytes({0x02, 0x16}), pingreq{});
    round_trip(bytes({0x04, 0x16, 'i', 'd'}), pingreq{"id"});
    round_trip(bytes({0x02, 0x17}), pingresp{});
    round_trip(bytes({0x02, 0x18}), disconnect{});
    round_trip(bytes({0x04, 0x18, 0x00, 0x3c}), disconnect{60});
    EXPECT_NE(decode_error(bytes({0x03, 0x18, 0x00})).find("too short"), std::string::npos);
}

TEST(mqttsn_codec, three_octet_length_for_large_packets)
{
    const std::string data(300, 'v');
    const publish p{flags{}, 1, 0, data};
    const auto wire = encode(p);
    ASSERT_EQ(wire.size(), 4u + 5u + 300u);
    EXPECT_EQ(wire.substr(0, 4), bytes({0x01, 0x01, 0x35, 0x0c})); // 0x0135 = 309
    round_trip(wire, p);
    // 255 octets still fit the 1-octet form; 256 need the other
    EXPECT_EQ(static_cast<unsigned char>(encode(publish{flags{}, 1, 0, std::string(248, 'x')})[0]),
              255u);
    EXPECT_EQ(encode(publish{flags{}, 1, 0, std::string(249, 'x')})[0], '\x01');
    EXPECT_TRUE(encode(publish{flags{}, 1, 0, std::string(max_packet_bytes, 'x')}).empty());
}

TEST(mqttsn_codec, bad_datagrams_give_a_reason)
{
    EXPECT_NE(decode_error("").find("shorter than a header"), std::string::npos);
    EXPECT_NE(decode_error(bytes({0x02})).find("shorter than a header"), std::string::npos);
    EXPECT_NE(decode_error(bytes({0x05, 0x16})).find("length field says 5"), std::string::npos);
    EXPECT_NE(decode_error(bytes({0x02, 0x16, 0x00})).find("the datagram has 3"),
              std::string::npos);
    EXPECT_NE(decode_error(bytes({0x00, 0x16})).find("smaller than the header"),
              std::string::npos);
    EXPECT_NE(decode_error(bytes({0x01, 0x00})).find("cut short"), std::string::npos);
    EXPECT_NE(decode_error(bytes({0x02, 0x03})).find("unknown MsgType 0x03"), std::string::npos);
    EXPECT_NE(decode_error(bytes({0x02, 0x42})).find("unknown MsgType 0x42"), std::string::npos);
    EXPECT_NE(decode_error(bytes({0x03, 0xfe, 0x00})).find("encapsulated"), std::string::npos);
    // reserved TopicIdType 0b11
    EXPECT_NE(decode_error(bytes({0x07, 0x0c, 0x03, 0x00, 0x01, 0x00, 0x00})).find("reserved"),
              std::string::npos);
    // fixed-size packets with extra octets
    EXPECT_NE(decode_error(bytes({0x03, 0x17, 0x00})).find("unexpected octets"),
              std::string::npos);
    EXPECT_NE(decode_error(bytes({0x04, 0x05, 0x00, 0x00})).find("unexpected octets"),
              std::string::npos);
    // PUBLISH cut before its MsgId
    EXPECT_NE(decode_error(bytes({0x05, 0x0c, 0x00, 0x00, 0x01})).find("too short"),
              std::string::npos);
}

} // namespace
