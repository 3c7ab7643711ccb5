#include "mqttsn_codec.hpp"

#include "common/overloaded.hpp"

#include <fmt/format.h>

#include <iterator>

namespace aiot::gw::mqttsn {

namespace {

using common::overloaded;

// Reads the fields of one packet body; every read checks the size left.
class reader {
public:
    explicit reader(std::string_view body) : rest_(body) {}

    // One octet, as a number or as an enum (a return code).
    template <class T>
    bool u8(T& v)
    {
        if (rest_.empty()) {
            return false;
        }
        v = static_cast<T>(static_cast<std::uint8_t>(rest_[0]));
        rest_.remove_prefix(1);
        return true;
    }
    bool u16(std::uint16_t& v)
    {
        if (rest_.size() < 2) {
            return false;
        }
        v = static_cast<std::uint16_t>((static_cast<std::uint8_t>(rest_[0]) << 8) |
                                       static_cast<std::uint8_t>(rest_[1]));
        rest_.remove_prefix(2);
        return true;
    }
    bool flags_octet(flags& f, std::string& error)
    {
        std::uint8_t b;
        if (!u8(b)) {
            return false;
        }
        f.dup = (b & 0x80) != 0;
        const int qos_bits = (b >> 5) & 0x3;
        f.qos = qos_bits == 3 ? -1 : qos_bits;
        f.retain = (b & 0x10) != 0;
        f.will = (b & 0x08) != 0;
        f.clean_session = (b & 0x04) != 0;
        if ((b & 0x3) == 0x3) {
            error = "reserved TopicIdType 0b11 in the flags";
            return false;
        }
        f.id_type = static_cast<topic_id_type>(b & 0x3);
        return true;
    }
    // All that is left (a topic name, client id, data...).
    std::string rest()
    {
        std::string s(rest_);
        rest_ = {};
        return s;
    }
    bool empty() const { return rest_.empty(); }
    std::size_t size() const { return rest_.size(); }

private:
    std::string_view rest_;
};

class writer {
public:
    void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
    void u8(return_code v) { u8(static_cast<std::uint8_t>(v)); }
    void u16(std::uint16_t v)
    {
        u8(static_cast<std::uint8_t>(v >> 8));
        u8(static_cast<std::uint8_t>(v & 0xff));
    }
    void bytes(std::string_view s) { out_.append(s); }
    std::string& body() { return out_; }

private:
    std::string out_;
};

decode_result fail(std::string error)
{
    return {std::nullopt, std::move(error)};
}

std::string too_short(msg_type t, std::size_t body)
{
    return fmt::format("{} with a body of {} octets is too short", to_string(t), body);
}

std::string trailing(msg_type t, std::size_t extra)
{
    return fmt::format("{} has {} unexpected octets at its end", to_string(t), extra);
}

// Decodes the body (after MsgType) of a packet of type t.
decode_result decode_body(msg_type t, std::string_view body)
{
    reader r(body);
    std::string error;
    const auto short_or = [&](std::string e) {
        return fail(e.empty() ? too_short(t, body.size()) : std::move(e));
    };
    // Fixed-size packets must not carry more.
    const auto done = [&](packet p) -> decode_result {
        if (!r.empty()) {
            return fail(trailing(t, r.size()));
        }
        return {std::move(p), {}};
    };
    switch (t) {
    case msg_type::advertise: {
        advertise p;
        if (!r.u8(p.gw_id) || !r.u16(p.duration)) {
            return short_or({});
        }
        return done(p);
    }
    case msg_type::searchgw: {
        searchgw p;
        if (!r.u8(p.radius)) {
            return short_or({});
        }
        return done(p);
    }
    case msg_type::gwinfo: {
        gwinfo p;
        if (!r.u8(p.gw_id)) {
            return short_or({});
        }
        p.gw_address = r.rest();
        return {std::move(p), {}};
    }
    case msg_type::connect: {
        connect p;
        if (!r.flags_octet(p.f, error) || !r.u8(p.protocol_id) || !r.u16(p.duration)) {
            return short_or(error);
        }
        p.client_id = r.rest();
        return {std::move(p), {}};
    }
    case msg_type::connack:
    case msg_type::willtopicresp:
    case msg_type::willmsgresp: {
        return_code code;
        if (!r.u8(code)) {
            return short_or({});
        }
        if (t == msg_type::connack) {
            return done(connack{code});
        }
        if (t == msg_type::willtopicresp) {
            return done(willtopicresp{code});
        }
        return done(willmsgresp{code});
    }
    case msg_type::willtopicreq:
        return done(willtopicreq{});
    case msg_type::willmsgreq:
        return done(willmsgreq{});
    case msg_type::pingresp:
        return done(pingresp{});
    case msg_type::willtopic:
    case msg_type::willtopicupd: {
        // an empty WILLTOPIC (no flags either) deletes the will
        flags f;
        std::string topic;
        if (!r.empty()) {
            if (!r.flags_octet(f, error)) {
                return short_or(error);
            }
            topic = r.rest();
        }
        if (t == msg_type::willtopic) {
            return {willtopic{f, std::move(topic)}, {}};
        }
        return {willtopicupd{f, std::move(topic)}, {}};
    }
    case msg_type::willmsg:
        return {willmsg{r.rest()}, {}};
    case msg_type::willmsgupd:
        return {willmsgupd{r.rest()}, {}};
    case msg_type::register_: {
        register_ p;
        if (!r.u16(p.topic_id) || !r.u16(p.msg_id) || r.empty()) {
            return short_or({});
        }
        p.topic_name = r.rest();
        return {std::move(p), {}};
    }
    case msg_type::regack: {
        regack p;
        if (!r.u16(p.topic_id) || !r.u16(p.msg_id) || !r.u8(p.rc)) {
            return short_or({});
        }
        return done(p);
    }
    case msg_type::publish: {
        publish p;
        if (!r.flags_octet(p.f, error) || !r.u16(p.topic_id) || !r.u16(p.msg_id)) {
            return short_or(error);
        }
        p.data = r.rest();
        return {std::move(p), {}};
    }
    case msg_type::puback: {
        puback p;
        if (!r.u16(p.topic_id) || !r.u16(p.msg_id) || !r.u8(p.rc)) {
            return short_or({});
        }
        return done(p);
    }
    case msg_type::pubrec:
    case msg_type::pubrel:
    case msg_type::pubcomp:
    case msg_type::unsuback: {
        std::uint16_t id;
        if (!r.u16(id)) {
            return short_or({});
        }
        switch (t) {
        case msg_type::pubrec:
            return done(pubrec{id});
        case msg_type::pubrel:
            return done(pubrel{id});
        case msg_type::pubcomp:
            return done(pubcomp{id});
        default:
            return done(unsuback{id});
        }
    }
    case msg_type::subscribe:
    case msg_type::unsubscribe: {
        flags f;
        std::uint16_t msg_id;
        if (!r.flags_octet(f, error) || !r.u16(msg_id)) {
            return short_or(error);
        }
        std::string name;
        std::uint16_t id = 0;
        switch (f.id_type) {
        case topic_id_type::normal:
            if (r.empty()) {
                return fail(fmt::format("{} without a topic name", to_string(t)));
            }
            name = r.rest();
            break;
        case topic_id_type::short_name:
            if (r.size() != 2) {
                return fail(fmt::format("{}: a short topic name has 2 octets, not {}",
                                        to_string(t), r.size()));
            }
            name = r.rest();
            break;
        case topic_id_type::predefined:
            if (!r.u16(id)) {
                return short_or({});
            }
            if (!r.empty()) {
                return fail(trailing(t, r.size()));
            }
            break;
        }
        if (t == msg_type::subscribe) {
            return {subscribe{f, msg_id, std::move(name), id}, {}};
        }
        return {unsubscribe{f, msg_id, std::move(name), id}, {}};
    }
    case msg_type::suback: {
        suback p;
        if (!r.flags_octet(p.f, error) || !r.u16(p.topic_id) || !r.u16(p.msg_id) || !r.u8(p.rc)) {
            return short_or(error);
        }
        return done(p);
    }
    case msg_type::pingreq:
        return {pingreq{r.rest()}, {}};
    case msg_type::disconnect: {
        disconnect p;
        if (!r.empty()) {
            std::uint16_t d;
            if (!r.u16(d)) {
                return short_or({});
            }
            p.duration = d;
        }
        return done(p);
    }
    case msg_type::encapsulated:
        return fail("encapsulated packets (forwarders) are not supported");
    }
    return fail(fmt::format("unknown MsgType 0x{:02x}", static_cast<unsigned>(t)));
}

bool known_type(std::uint8_t t)
{
    return t <= 0x1d && t != 0x03 && t != 0x11 && t != 0x19;
}

} // namespace

const char* to_string(msg_type t)
{
    switch (t) {
    case msg_type::advertise: return "ADVERTISE";
    case msg_type::searchgw: return "SEARCHGW";
    case msg_type::gwinfo: return "GWINFO";
    case msg_type::connect: return "CONNECT";
    case msg_type::connack: return "CONNACK";
    case msg_type::willtopicreq: return "WILLTOPICREQ";
    case msg_type::willtopic: return "WILLTOPIC";
    case msg_type::willmsgreq: return "WILLMSGREQ";
    case msg_type::willmsg: return "WILLMSG";
    case msg_type::register_: return "REGISTER";
    case msg_type::regack: return "REGACK";
    case msg_type::publish: return "PUBLISH";
    case msg_type::puback: return "PUBACK";
    case msg_type::pubcomp: return "PUBCOMP";
    case msg_type::pubrec: return "PUBREC";
    case msg_type::pubrel: return "PUBREL";
    case msg_type::subscribe: return "SUBSCRIBE";
    case msg_type::suback: return "SUBACK";
    case msg_type::unsubscribe: return "UNSUBSCRIBE";
    case msg_type::unsuback: return "UNSUBACK";
    case msg_type::pingreq: return "PINGREQ";
    case msg_type::pingresp: return "PINGRESP";
    case msg_type::disconnect: return "DISCONNECT";
    case msg_type::willtopicupd: return "WILLTOPICUPD";
    case msg_type::willtopicresp: return "WILLTOPICRESP";
    case msg_type::willmsgupd: return "WILLMSGUPD";
    case msg_type::willmsgresp: return "WILLMSGRESP";
    case msg_type::encapsulated: return "Encapsulated";
    }
    return "unknown";
}

std::uint8_t flags::encode() const
{
    std::uint8_t b = 0;
    b |= dup ? 0x80 : 0;
    b |= static_cast<std::uint8_t>(((qos < 0 ? 3 : qos) & 0x3) << 5);
    b |= retain ? 0x10 : 0;
    b |= will ? 0x08 : 0;
    b |= clean_session ? 0x04 : 0;
    b |= static_cast<std::uint8_t>(id_type) & 0x3;
    return b;
}

std::uint16_t short_topic_id(std::string_view name)
{
    const auto c0 = name.size() > 0 ? static_cast<std::uint8_t>(name[0]) : 0;
    const auto c1 = name.size() > 1 ? static_cast<std::uint8_t>(name[1]) : 0;
    return static_cast<std::uint16_t>((c0 << 8) | c1);
}

std::string short_topic_name(std::uint16_t id)
{
    return {static_cast<char>(id >> 8), static_cast<char>(id & 0xff)};
}

msg_type type_of(const packet& p)
{
    // In the order of the alternatives of `packet`.
    using enum msg_type;
    static constexpr msg_type types[] = {
        advertise, searchgw, gwinfo, connect, connack, willtopicreq, willtopic, willmsgreq,
        willmsg, register_, regack, publish, puback, pubrec, pubrel, pubcomp, subscribe, suback,
        unsubscribe, unsuback, pingreq, pingresp, disconnect, willtopicupd, willtopicresp,
        willmsgupd, willmsgresp,
    };
    static_assert(std::size(types) == std::variant_size_v<packet>);
    return types[p.index()];
}

decode_result decode(std::string_view datagram)
{
    if (datagram.size() < 2) {
        return fail(fmt::format("datagram of {} octets is shorter than a header",
                                datagram.size()));
    }
    std::size_t length = static_cast<std::uint8_t>(datagram[0]);
    std::size_t header = 1;
    if (length == 0x01) {
        if (datagram.size() < 4) {
            return fail("3-octet length field cut short");
        }
        length = (static_cast<std::size_t>(static_cast<std::uint8_t>(datagram[1])) << 8) |
                 static_cast<std::uint8_t>(datagram[2]);
        header = 3;
        // the spec reserves the 3-octet form for 256 and more; accept it
        // anyway (it is unambiguous), but never below its own size
    }
    if (length <= header) {
        return fail(fmt::format("length field {} is smaller than the header", length));
    }
    if (length != datagram.size()) {
        return fail(fmt::format("length field says {} octets, the datagram has {}", length,
                                datagram.size()));
    }
    const auto type = static_cast<std::uint8_t>(datagram[header]);
    if (!known_type(type) && type != 0xfe) {
        return fail(fmt::format("unknown MsgType 0x{:02x}", type));
    }
    return decode_body(static_cast<msg_type>(type), datagram.substr(header + 1));
}

std::string encode(const packet& p)
{
    writer w;
    // Shapes that two packet types share.
    const auto ack = [&](const auto& x) { // REGACK, PUBACK
        w.u16(x.topic_id);
        w.u16(x.msg_id);
        w.u8(x.rc);
    };
    const auto topic_request = [&](const auto& x) { // SUBSCRIBE, UNSUBSCRIBE
        w.u8(x.f.encode());
        w.u16(x.msg_id);
        if (x.f.id_type == topic_id_type::predefined) {
            w.u16(x.topic_id);
        } else {
            w.bytes(x.topic_name);
        }
    };
    const auto will_topic = [&](const auto& x) { // WILLTOPIC, WILLTOPICUPD
        if (!x.topic.empty()) {
            w.u8(x.f.encode());
            w.bytes(x.topic);
        }
    };
    std::visit(overloaded{
                   [&](const advertise& x) {
                       w.u8(x.gw_id);
                       w.u16(x.duration);
                   },
                   [&](const searchgw& x) { w.u8(x.radius); },
                   [&](const gwinfo& x) {
                       w.u8(x.gw_id);
                       w.bytes(x.gw_address);
                   },
                   [&](const connect& x) {
                       w.u8(x.f.encode());
                       w.u8(x.protocol_id);
                       w.u16(x.duration);
                       w.bytes(x.client_id);
                   },
                   [&](const connack& x) { w.u8(x.rc); },
                   [&](const willtopicreq&) {},
                   [&](const willtopic& x) { will_topic(x); },
                   [&](const willmsgreq&) {},
                   [&](const willmsg& x) { w.bytes(x.message); },
                   [&](const register_& x) {
                       w.u16(x.topic_id);
                       w.u16(x.msg_id);
                       w.bytes(x.topic_name);
                   },
                   [&](const regack& x) { ack(x); },
                   [&](const publish& x) {
                       w.u8(x.f.encode());
                       w.u16(x.topic_id);
                       w.u16(x.msg_id);
                       w.bytes(x.data);
                   },
                   [&](const puback& x) { ack(x); },
                   [&](const pubrec& x) { w.u16(x.msg_id); },
                   [&](const pubrel& x) { w.u16(x.msg_id); },
                   [&](const pubcomp& x) { w.u16(x.msg_id); },
                   [&](const subscribe& x) { topic_request(x); },
                   [&](const suback& x) {
                       w.u8(x.f.encode());
                       w.u16(x.topic_id);
                       w.u16(x.msg_id);
                       w.u8(x.rc);
                   },
                   [&](const unsubscribe& x) { topic_request(x); },
                   [&](const unsuback& x) { w.u16(x.msg_id); },
                   [&](const pingreq& x) { w.bytes(x.client_id); },
                   [&](const pingresp&) {},
                   [&](const disconnect& x) {
                       if (x.duration) {
                           w.u16(*x.duration);
                       }
                   },
                   [&](const willtopicupd& x) { will_topic(x); },
                   [&](const willtopicresp& x) { w.u8(x.rc); },
                   [&](const willmsgupd& x) { w.bytes(x.message); },
                   [&](const willmsgresp& x) { w.u8(x.rc); },
               },
               p);
    const auto& body = w.body();
    const std::size_t short_total = body.size() + 2;
    std::string out;
    if (short_total <= 255) {
        out.push_back(static_cast<char>(short_total));
    } else {
        const std::size_t total = body.size() + 4;
        if (total > max_packet_bytes) {
            return {};
        }
        out.push_back('\x01');
        out.push_back(static_cast<char>(total >> 8));
        out.push_back(static_cast<char>(total & 0xff));
    }
    out.push_back(static_cast<char>(type_of(p)));
    out += body;
    return out;
}

} // namespace aiot::gw::mqttsn
