#pragma once
// What the websocket decoder promises, checked on every event (shared by
// the server and client fuzz targets).
#include "broker/ws/frame.hpp"
#include "fuzz_check.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace aiot::fuzz {

inline constexpr std::size_t fuzz_max_message = 4096;

// Decodes `frame` (one complete frame the other side would send) and
// returns how many events it gave; `seen` receives the single event's copy.
struct decoded_one {
    int events = 0;
    broker::ws::event::kind type{};
    std::string payload;
    std::uint16_t code = 0;
    bool failed = false;
};

inline decoded_one decode_reply(broker::ws::role r, std::string frame)
{
    decoded_one d;
    broker::ws::decoder dec(r, fuzz_max_message);
    dec.feed(std::span<char>(frame.data(), frame.size()), [&](const broker::ws::event& e) {
        ++d.events;
        d.type = e.type;
        d.payload = std::string(e.payload);
        d.code = e.code;
    });
    d.failed = dec.failed();
    return d;
}

// data[0] picks the chunk size (1..256); the rest is fed in such chunks.
inline int feed_decoder(broker::ws::role role, const std::uint8_t* data, std::size_t size)
{
    namespace ws = broker::ws;
    using kind = ws::event::kind;
    const std::size_t chunk = std::size_t{data[0]} + 1;
    std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
    const bool server = role == ws::role::server;
    // The other side: a server's replies go to a client and are unmasked.
    const ws::role peer = server ? ws::role::client : ws::role::server;
    const ws::mask_key mask{0x12, 0x34, 0x56, 0x78};
    const ws::mask_key* reply_mask = server ? nullptr : &mask;

    ws::decoder dec(role, fuzz_max_message);
    bool error_seen = false;
    const auto on_event = [&](const ws::event& e) {
        AIOT_FUZZ_CHECK(!error_seen); // nothing comes after an error
        switch (e.type) {
        case kind::message: {
            AIOT_FUZZ_CHECK(e.op == ws::opcode::text || e.op == ws::opcode::binary);
            AIOT_FUZZ_CHECK(e.payload.size() <= fuzz_max_message);
            AIOT_FUZZ_CHECK(e.op != ws::opcode::text || fuzz::utf8_ok(e.payload));
            // The same message sent back the other way decodes to itself.
            auto frame = ws::encode_frame(e.op, e.payload, server ? &mask : nullptr);
            const auto back = decode_reply(role, std::move(frame));
            AIOT_FUZZ_CHECK(back.events == 1 && !back.failed && back.type == kind::message);
            AIOT_FUZZ_CHECK(back.payload == e.payload);
            break;
        }
        case kind::ping:
        case kind::pong:
            AIOT_FUZZ_CHECK(e.payload.size() <= 125);
            break;
        case kind::close:
            AIOT_FUZZ_CHECK(e.code == ws::close_code::no_status || ws::valid_close_code(e.code));
            AIOT_FUZZ_CHECK(fuzz::utf8_ok(e.reason));
            AIOT_FUZZ_CHECK(e.reason.size() <= 123);
            break;
        case kind::error:
            error_seen = true;
            AIOT_FUZZ_CHECK(e.code == ws::close_code::protocol_error ||
                            e.code == ws::close_code::invalid_payload ||
                            e.code == ws::close_code::too_big);
            AIOT_FUZZ_CHECK(!e.reason.empty());
            break;
        }
        // Every control reply is one frame the peer accepts.
        if (auto reply = ws::control_reply(e, reply_mask)) {
            const auto r = decode_reply(peer, std::move(*reply));
            AIOT_FUZZ_CHECK(r.events == 1 && !r.failed);
            if (e.type == kind::ping) {
                AIOT_FUZZ_CHECK(r.type == kind::pong && r.payload == e.payload);
            } else {
                AIOT_FUZZ_CHECK(r.type == kind::close);
                AIOT_FUZZ_CHECK(ws::valid_close_code(r.code));
            }
        }
    };
    for (std::size_t pos = 0; pos < bytes.size(); pos += chunk) {
        const std::size_t n = std::min(chunk, bytes.size() - pos);
        dec.feed(std::span<char>(bytes.data() + pos, n), on_event);
    }
    AIOT_FUZZ_CHECK(dec.failed() == error_seen);
    AIOT_FUZZ_CHECK(dec.failed() || dec.buffered() <= bytes.size());
    return 0;
}

} // namespace aiot::fuzz
