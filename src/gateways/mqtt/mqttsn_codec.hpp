#pragma once
// MQTT-SN v1.2 packets (OASIS MQTT-SN Protocol Specification v1.2, section
// 5): one packet per UDP datagram, decoded into a typed value and encoded
// back. Sans-I/O: bytes in, values out, no sockets, no clock, no logging.
//
// Header: Length (1 octet; or 0x01 then 2 octets, big endian, for packets
// of 256 octets and more) and MsgType (1 octet). Every 16-bit field is big
// endian. decode() checks that the length field matches the datagram and
// that each packet has the fields of its type; it returns a one-line
// reason otherwise. Encapsulated packets (forwarders, 0xFE) are not
// supported.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace aiot::gw::mqttsn {

enum class msg_type : std::uint8_t {
    advertise = 0x00,
    searchgw = 0x01,
    gwinfo = 0x02,
    connect = 0x04,
    connack = 0x05,
    willtopicreq = 0x06,
    willtopic = 0x07,
    willmsgreq = 0x08,
    willmsg = 0x09,
    register_ = 0x0a,
    regack = 0x0b,
    publish = 0x0c,
    puback = 0x0d,
    pubcomp = 0x0e,
    pubrec = 0x0f,
    pubrel = 0x10,
    subscribe = 0x12,
    suback = 0x13,
    unsubscribe = 0x14,
    unsuback = 0x15,
    pingreq = 0x16,
    pingresp = 0x17,
    disconnect = 0x18,
    willtopicupd = 0x1a,
    willtopicresp = 0x1b,
    willmsgupd = 0x1c,
    willmsgresp = 0x1d,
    encapsulated = 0xfe,
};
const char* to_string(msg_type t);

enum class return_code : std::uint8_t {
    accepted = 0x00,
    congestion = 0x01,
    invalid_topic_id = 0x02,
    not_supported = 0x03,
};

enum class topic_id_type : std::uint8_t {
    normal = 0,     // a topic id from REGISTER/REGACK or SUBACK (SUBSCRIBE: a topic name)
    predefined = 1, // a topic id both sides know in advance
    short_name = 2, // two characters carried in place of the id
};

// The Flags octet (section 5.3.4): DUP (bit 7), QoS (bits 6-5; 0b11 is
// QoS -1), Retain (bit 4), Will (bit 3), CleanSession (bit 2),
// TopicIdType (bits 1-0; 0b11 is reserved: decode refuses it).
struct flags {
    bool dup = false;
    int qos = 0; // -1, 0, 1 or 2
    bool retain = false;
    bool will = false;
    bool clean_session = false;
    topic_id_type id_type = topic_id_type::normal;

    std::uint8_t encode() const;
    bool operator==(const flags&) const = default;
};

// The two characters of a short topic name as a topic id field, and back.
std::uint16_t short_topic_id(std::string_view name);
std::string short_topic_name(std::uint16_t id);

struct advertise {
    std::uint8_t gw_id = 0;
    std::uint16_t duration = 0; // seconds to the next ADVERTISE
    bool operator==(const advertise&) const = default;
};
struct searchgw {
    std::uint8_t radius = 0;
    bool operator==(const searchgw&) const = default;
};
struct gwinfo {
    std::uint8_t gw_id = 0;
    std::string gw_address; // only when a client answers for a gateway
    bool operator==(const gwinfo&) const = default;
};
struct connect {
    flags f; // will, clean_session
    std::uint8_t protocol_id = 0x01;
    std::uint16_t duration = 0; // keep-alive, seconds
    std::string client_id;
    bool operator==(const connect&) const = default;
};
struct connack {
    return_code rc = return_code::accepted;
    bool operator==(const connack&) const = default;
};
struct willtopicreq {
    bool operator==(const willtopicreq&) const = default;
};
struct willtopic {
    flags f; // qos, retain
    std::string topic; // empty: delete the will
    bool operator==(const willtopic&) const = default;
};
struct willmsgreq {
    bool operator==(const willmsgreq&) const = default;
};
struct willmsg {
    std::string message;
    bool operator==(const willmsg&) const = default;
};
struct register_ {
    std::uint16_t topic_id = 0; // 0x0000 from a client
    std::uint16_t msg_id = 0;
    std::string topic_name;
    bool operator==(const register_&) const = default;
};
struct regack {
    std::uint16_t topic_id = 0;
    std::uint16_t msg_id = 0;
    return_code rc = return_code::accepted;
    bool operator==(const regack&) const = default;
};
struct publish {
    flags f; // dup, qos, retain, id_type
    std::uint16_t topic_id = 0;
    std::uint16_t msg_id = 0; // 0x0000 for QoS 0 and -1
    std::string data;
    bool operator==(const publish&) const = default;
};
struct puback {
    std::uint16_t topic_id = 0;
    std::uint16_t msg_id = 0;
    return_code rc = return_code::accepted;
    bool operator==(const puback&) const = default;
};
// PUBREC, PUBREL and PUBCOMP (QoS 2): only a message id.
struct pubrec {
    std::uint16_t msg_id = 0;
    bool operator==(const pubrec&) const = default;
};
struct pubrel {
    std::uint16_t msg_id = 0;
    bool operator==(const pubrel&) const = default;
};
struct pubcomp {
    std::uint16_t msg_id = 0;
    bool operator==(const pubcomp&) const = default;
};
// SUBSCRIBE and UNSUBSCRIBE: a topic name (TopicIdType normal or short
// name; a short name is its two characters) or a predefined topic id.
struct subscribe {
    flags f; // dup, qos, id_type
    std::uint16_t msg_id = 0;
    std::string topic_name;     // normal, short_name
    std::uint16_t topic_id = 0; // predefined
    bool operator==(const subscribe&) const = default;
};
struct suback {
    flags f; // qos granted
    std::uint16_t topic_id = 0;
    std::uint16_t msg_id = 0;
    return_code rc = return_code::accepted;
    bool operator==(const suback&) const = default;
};
struct unsubscribe {
    flags f; // id_type
    std::uint16_t msg_id = 0;
    std::string topic_name;
    std::uint16_t topic_id = 0;
    bool operator==(const unsubscribe&) const = default;
};
struct unsuback {
    std::uint16_t msg_id = 0;
    bool operator==(const unsuback&) const = default;
};
struct pingreq {
    std::string client_id; // only from a sleeping client
    bool operator==(const pingreq&) const = default;
};
struct pingresp {
    bool operator==(const pingresp&) const = default;
};
struct disconnect {
    std::optional<std::uint16_t> duration; // a client going to sleep
    bool operator==(const disconnect&) const = default;
};
struct willtopicupd {
    flags f;
    std::string topic;
    bool operator==(const willtopicupd&) const = default;
};
struct willtopicresp {
    return_code rc = return_code::accepted;
    bool operator==(const willtopicresp&) const = default;
};
struct willmsgupd {
    std::string message;
    bool operator==(const willmsgupd&) const = default;
};
struct willmsgresp {
    return_code rc = return_code::accepted;
    bool operator==(const willmsgresp&) const = default;
};

using packet = std::variant<advertise, searchgw, gwinfo, connect, connack, willtopicreq, willtopic,
                            willmsgreq, willmsg, register_, regack, publish, puback, pubrec, pubrel,
                            pubcomp, subscribe, suback, unsubscribe, unsuback, pingreq, pingresp,
                            disconnect, willtopicupd, willtopicresp, willmsgupd, willmsgresp>;

msg_type type_of(const packet& p);

// The largest packet: the 3-octet length form carries up to 65535 octets.
constexpr std::size_t max_packet_bytes = 65535;

struct decode_result {
    std::optional<packet> value;
    std::string error; // why value is empty: a one-line reason
    explicit operator bool() const { return value.has_value(); }
};

// One datagram; the length field must match its size.
decode_result decode(std::string_view datagram);

// The datagram of p; the 1-octet length form whenever it fits. Fields
// are written as they are (a caller that builds a 70000-octet publish
// gets an empty string: it cannot be one packet).
std::string encode(const packet& p);

} // namespace aiot::gw::mqttsn
