#include "broker/ws/frame.hpp"
#include "broker/ws/client_handshake.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ws = aiot::broker::ws;
using ws::event;
using ws::opcode;

namespace {

const ws::mask_key mask{0x37, 0xfa, 0x21, 0x3d};

// What a decoder reported, copied out of the callback.
struct seen {
    event::kind type;
    opcode op;
    std::string payload;
    std::uint16_t code;
    std::string reason;
};

std::vector<seen> decode(ws::decoder& d, std::string bytes)
{
    std::vector<seen> out;
    d.feed(std::span<char>(bytes.data(), bytes.size()), [&](const event& e) {
        out.push_back({e.type, e.op, std::string(e.payload), e.code, std::string(e.reason)});
    });
    return out;
}

std::string client_frame(opcode op, std::string_view payload, bool fin = true)
{
    auto f = ws::encode_frame(op, payload, &mask);
    if (!fin) {
        f[0] = static_cast<char>(f[0] & 0x7F);
    }
    return f;
}

} // namespace

TEST(ws_frame, accept_key_matches_rfc_6455_example)
{
    EXPECT_EQ(ws::accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(ws_frame, client_keys_must_be_16_bytes_of_base64)
{
    EXPECT_TRUE(ws::valid_client_key("dGhlIHNhbXBsZSBub25jZQ=="));
    EXPECT_FALSE(ws::valid_client_key(""));
    EXPECT_FALSE(ws::valid_client_key("dGhlIHNhbXBsZSBub25jZQ"));
    EXPECT_FALSE(ws::valid_client_key("dGhlIHNhbXBsZSBub25jZQ=a"));
    EXPECT_FALSE(ws::valid_client_key("dGhlIHNhbXBsZSBub25j*Q=="));
}

TEST(ws_frame, client_handshake_round_trip)
{
    const auto req = aiot::broker::ws::client_handshake_request("h:1", "/gw", "dGhlIHNhbXBsZSBub25jZQ==",
                                                  "token, abc");
    EXPECT_TRUE(req.starts_with("GET /gw HTTP/1.1\r\nHost: h:1\r\n"));
    EXPECT_NE(req.find("Sec-WebSocket-Protocol: token, abc\r\n"), std::string::npos);
    EXPECT_TRUE(req.ends_with("\r\n\r\n"));
    EXPECT_TRUE(aiot::broker::ws::client_handshake_accepted(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n"
        "sec-websocket-accept:  s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
        "dGhlIHNhbXBsZSBub25jZQ=="));
    EXPECT_FALSE(aiot::broker::ws::client_handshake_accepted(
        "HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: wrong=\r\n\r\n",
        "dGhlIHNhbXBsZSBub25jZQ=="));
    EXPECT_FALSE(aiot::broker::ws::client_handshake_accepted("HTTP/1.1 401 Unauthorized\r\n\r\n", "x"));
}

TEST(ws_frame, encodes_the_three_length_forms)
{
    const auto small = ws::encode_frame(opcode::text, "Hello");
    EXPECT_EQ(small, std::string("\x81\x05Hello", 7));

    const std::string mid(300, 'a');
    const auto f16 = ws::encode_frame(opcode::binary, mid);
    ASSERT_EQ(f16.size(), 4 + mid.size());
    EXPECT_EQ(static_cast<unsigned char>(f16[0]), 0x82);
    EXPECT_EQ(static_cast<unsigned char>(f16[1]), 126);
    EXPECT_EQ(static_cast<unsigned char>(f16[2]), 0x01);
    EXPECT_EQ(static_cast<unsigned char>(f16[3]), 0x2C);

    const std::string big(70000, 'b');
    const auto f64 = ws::encode_frame(opcode::text, big);
    ASSERT_EQ(f64.size(), 10 + big.size());
    EXPECT_EQ(static_cast<unsigned char>(f64[1]), 127);
    EXPECT_EQ(f64.substr(2, 8), std::string("\0\0\0\0\0\x01\x11\x70", 8));
    EXPECT_EQ(ws::frame_header_size(125, false), 2u);
    EXPECT_EQ(ws::frame_header_size(126, false), 4u);
    EXPECT_EQ(ws::frame_header_size(65535, true), 8u);
    EXPECT_EQ(ws::frame_header_size(65536, true), 14u);
}

TEST(ws_frame, empty_payloads_from_a_null_view_encode_as_two_bytes)
{
    // A default string_view holds a null pointer: the idle ping is one.
    EXPECT_EQ(ws::encode_frame(opcode::ping, std::string_view{}), std::string("\x89\x00", 2));
    const ws::mask_key key{1, 2, 3, 4};
    EXPECT_EQ(ws::encode_frame(opcode::pong, std::string_view{}, &key),
              std::string("\x8a\x80\x01\x02\x03\x04", 6));
}

TEST(ws_frame, masked_frame_matches_rfc_example)
{
    const ws::mask_key key{0x37, 0xfa, 0x21, 0x3d};
    EXPECT_EQ(ws::encode_frame(opcode::text, "Hello", &key),
              std::string("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11));
}

TEST(ws_frame, server_decodes_masked_text_binary_and_control_frames)
{
    ws::decoder d(ws::role::server, 1024);
    const auto out = decode(d, client_frame(opcode::text, "Hello") +
                                   client_frame(opcode::binary, std::string("\0\1", 2)) +
                                   client_frame(opcode::ping, "p") +
                                   client_frame(opcode::pong, "") + ws::encode_close(1000, "bye", &mask));
    ASSERT_EQ(out.size(), 5u);
    EXPECT_EQ(out[0].type, event::kind::message);
    EXPECT_EQ(out[0].op, opcode::text);
    EXPECT_EQ(out[0].payload, "Hello");
    EXPECT_EQ(out[1].op, opcode::binary);
    EXPECT_EQ(out[1].payload, std::string("\0\1", 2));
    EXPECT_EQ(out[2].type, event::kind::ping);
    EXPECT_EQ(out[2].payload, "p");
    EXPECT_EQ(out[3].type, event::kind::pong);
    EXPECT_EQ(out[4].type, event::kind::close);
    EXPECT_EQ(out[4].code, 1000);
    EXPECT_EQ(out[4].reason, "bye");
    EXPECT_EQ(d.buffered(), 0u);
}

TEST(ws_frame, decodes_a_frame_fed_one_byte_at_a_time)
{
    ws::decoder d(ws::role::server, 100000);
    const std::string text(70000, 'x');
    const auto bytes = client_frame(opcode::text, text) + client_frame(opcode::text, "°C");
    std::vector<seen> out;
    for (char c : bytes) {
        auto part = decode(d, std::string(1, c));
        out.insert(out.end(), part.begin(), part.end());
    }
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].payload, text);
    EXPECT_EQ(out[1].payload, "°C");
    EXPECT_EQ(d.buffered(), 0u);
}

TEST(ws_frame, reassembles_fragments_with_interleaved_control_frames)
{
    ws::decoder d(ws::role::server, 1024);
    auto out = decode(d, client_frame(opcode::text, "23", false) + client_frame(opcode::ping, "x") +
                             client_frame(opcode::continuation, "\xC2", false));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].type, event::kind::ping);
    out = decode(d, client_frame(opcode::continuation, "\xB0" "C"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].type, event::kind::message);
    EXPECT_EQ(out[0].op, opcode::text);
    EXPECT_EQ(out[0].payload, "23°C");
}

TEST(ws_frame, client_role_decodes_unmasked_frames_and_refuses_masked_ones)
{
    ws::decoder d(ws::role::client, 1024);
    auto out = decode(d, ws::encode_frame(opcode::text, "hi"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].payload, "hi");
    out = decode(d, client_frame(opcode::text, "hi"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].type, event::kind::error);
    EXPECT_EQ(out[0].code, 1002);
}

TEST(ws_frame, oversized_message_gives_1009_from_the_header_alone)
{
    ws::decoder d(ws::role::server, 1000);
    auto frame = client_frame(opcode::text, std::string(1001, 'a'));
    const auto out = decode(d, frame.substr(0, 8)); // header only
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].type, event::kind::error);
    EXPECT_EQ(out[0].code, 1009);
    EXPECT_TRUE(d.failed());
    EXPECT_EQ(d.buffered(), 0u);
    EXPECT_TRUE(decode(d, client_frame(opcode::text, "ok")).empty()); // ignored after failing
}

TEST(ws_frame, oversized_fragmented_message_gives_1009)
{
    ws::decoder d(ws::role::server, 1000);
    auto out = decode(d, client_frame(opcode::text, std::string(600, 'a'), false));
    EXPECT_TRUE(out.empty());
    out = decode(d, client_frame(opcode::continuation, std::string(600, 'a')));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].code, 1009);
}

TEST(ws_frame, non_minimal_length_encodings_give_1002)
{
    // RFC 6455 5.2: the minimal number of bytes MUST be used (Beast agrees;
    // found by the conformance suite).
    auto sixteen = client_frame(opcode::text, std::string(200, 'a'));
    sixteen[2] = 0;
    sixteen[3] = 125; // 125 in the 16-bit form
    sixteen.resize(2 + 2 + 4 + 125);
    ws::decoder d16(ws::role::server, 100000);
    auto out = decode(d16, sixteen);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].type, event::kind::error);
    EXPECT_EQ(out[0].code, 1002);

    std::string sixty_four = client_frame(opcode::text, std::string(65535, 'a'));
    // Rewrite the 16-bit length 65535 as a 64-bit one.
    sixty_four = sixty_four.substr(0, 1) + std::string(1, '\xFF') +
                 std::string("\0\0\0\0\0\0\xFF\xFF", 8) + sixty_four.substr(4);
    ws::decoder d64(ws::role::server, 100000);
    out = decode(d64, sixty_four);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].code, 1002);

    ws::decoder ok(ws::role::server, 100000);
    out = decode(ok, client_frame(opcode::text, std::string(65536, 'a')));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].type, event::kind::message);
}

TEST(ws_frame, invalid_utf8_fails_at_the_fragment_that_shows_it)
{
    ws::decoder d(ws::role::server, 1000);
    // A lead byte at the end of a fragment may still be completed...
    auto out = decode(d, client_frame(opcode::text, "ok \xE2", false));
    EXPECT_TRUE(out.empty());
    out = decode(d, client_frame(opcode::continuation, "\x82", false));
    EXPECT_TRUE(out.empty());
    // ...a byte that cannot continue it fails at once, message unfinished.
    out = decode(d, client_frame(opcode::continuation, "(", false));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].code, 1007);

    ws::decoder surrogate(ws::role::server, 1000);
    out = decode(surrogate, client_frame(opcode::text, "\xED\xA0", false));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].code, 1007);

    ws::decoder split(ws::role::server, 1000);
    out = decode(split, client_frame(opcode::text, "\xF0\x9F", false) +
                            client_frame(opcode::continuation, "\x98\x80!"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].type, event::kind::message);
    EXPECT_EQ(out[0].payload, "\xF0\x9F\x98\x80!");
}

TEST(ws_frame, message_of_exactly_the_limit_is_accepted)
{
    ws::decoder d(ws::role::server, 1000);
    const auto out = decode(d, client_frame(opcode::text, std::string(1000, 'a')));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].type, event::kind::message);
}

TEST(ws_frame, protocol_errors_give_1002)
{
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"unmasked", ws::encode_frame(opcode::text, "x")},
        {"rsv1", [] { auto f = client_frame(opcode::text, "x"); f[0] |= 0x40; return f; }()},
        {"opcode 3", [] { auto f = client_frame(opcode::text, "x"); f[0] = char(0x83); return f; }()},
        {"long ping", client_frame(opcode::ping, std::string(126, 'p'))},
        {"fragmented ping", client_frame(opcode::ping, "p", false)},
        {"lone continuation", client_frame(opcode::continuation, "x")},
        {"text inside fragments",
         client_frame(opcode::text, "a", false) + client_frame(opcode::text, "b")},
        {"one-byte close", client_frame(opcode::close, "\x03")},
        {"close code 1005", ws::encode_close(1005, "", &mask)},
        {"close code 999", ws::encode_close(999, "", &mask)},
        {"64-bit length with top bit",
         std::string("\x81\xFF\x80\0\0\0\0\0\0\0\x37\xfa\x21\x3d", 14)},
    };
    for (const auto& [name, bytes] : cases) {
        ws::decoder d(ws::role::server, 1 << 20);
        const auto out = decode(d, bytes);
        ASSERT_FALSE(out.empty()) << name;
        EXPECT_EQ(out.back().type, event::kind::error) << name;
        EXPECT_EQ(out.back().code, 1002) << name << ": " << out.back().reason;
    }
}

TEST(ws_frame, invalid_utf8_gives_1007)
{
    for (const std::string bad : {"\xC3", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "a\xFF"}) {
        ws::decoder d(ws::role::server, 1024);
        const auto out = decode(d, client_frame(opcode::text, bad));
        ASSERT_EQ(out.size(), 1u);
        EXPECT_EQ(out[0].type, event::kind::error);
        EXPECT_EQ(out[0].code, 1007);
    }
    // Binary messages are not text: no UTF-8 check.
    ws::decoder d(ws::role::server, 1024);
    const auto out = decode(d, client_frame(opcode::binary, "\xFF"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].type, event::kind::message);
    // Close reasons must be UTF-8 too.
    ws::decoder d2(ws::role::server, 1024);
    const auto out2 = decode(d2, ws::encode_frame(opcode::close, std::string("\x03\xE8\xFF", 3), &mask));
    ASSERT_EQ(out2.size(), 1u);
    EXPECT_EQ(out2[0].code, 1007);
}

TEST(ws_frame, control_replies)
{
    event ping;
    ping.type = event::kind::ping;
    ping.payload = "abc";
    EXPECT_EQ(ws::control_reply(ping), ws::encode_frame(opcode::pong, "abc"));

    event close;
    close.type = event::kind::close;
    close.code = 1001;
    EXPECT_EQ(ws::control_reply(close), ws::encode_close(1001, ""));
    close.code = 1005;
    EXPECT_EQ(ws::control_reply(close), ws::encode_close(1000, ""));

    event error;
    error.type = event::kind::error;
    error.code = 1009;
    error.reason = "message too big";
    EXPECT_EQ(ws::control_reply(error), ws::encode_close(1009, "message too big"));

    event message;
    EXPECT_FALSE(ws::control_reply(message));
}

TEST(ws_frame, close_reason_is_cut_to_fit_a_control_frame)
{
    const std::string reason(300, 'r');
    const auto f = ws::encode_close(1003, reason);
    ASSERT_LE(f.size(), 2u + 125u);
    ws::decoder d(ws::role::client, 1024);
    const auto out = decode(d, f);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].type, event::kind::close);
    EXPECT_EQ(out[0].code, 1003);
    EXPECT_LE(out[0].reason.size(), 123u);
}

TEST(ws_frame, large_buffer_memory_is_released_after_use)
{
    ws::decoder d(ws::role::server, 1 << 20);
    const auto frame = client_frame(opcode::text, std::string(200000, 'z'));
    std::size_t got = 0;
    for (std::size_t i = 0; i < frame.size(); i += 4096) {
        got += decode(d, frame.substr(i, 4096)).size();
    }
    EXPECT_EQ(got, 1u);
    EXPECT_EQ(d.buffered(), 0u);
}

namespace {

std::vector<std::shared_ptr<const std::string>> server_frames(
    std::initializer_list<std::pair<opcode, std::string>> frames)
{
    std::vector<std::shared_ptr<const std::string>> out;
    for (const auto& [op, payload] : frames) {
        out.push_back(std::make_shared<const std::string>(ws::encode_frame(op, payload)));
    }
    return out;
}

} // namespace

TEST(ws_frame, coalesced_text_frames_are_one_frame_of_lines)
{
    const auto frames = server_frames({{opcode::text, R"({"type": "new", "uid": "a"})"},
                                       {opcode::text, R"({"type": "out", "uid": "b"})"},
                                       {opcode::text, "23.4°C"}});
    std::string out;
    EXPECT_EQ(ws::append_coalesced(out, frames, 64 * 1024), 1u);
    ws::decoder d(ws::role::client, 1024);
    const auto events = decode(d, out);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].type, event::kind::message);
    EXPECT_EQ(events[0].op, opcode::text);
    EXPECT_EQ(events[0].payload, "{\"type\": \"new\", \"uid\": \"a\"}\n{\"type\": \"out\", \"uid\": \"b\"}\n23.4°C");
}

TEST(ws_frame, coalescing_keeps_control_frames_in_place)
{
    const auto frames = server_frames({{opcode::text, "m1"},
                                       {opcode::text, "m2"},
                                       {opcode::pong, "p"},
                                       {opcode::text, "m3"}});
    std::string out = "already";
    EXPECT_EQ(ws::append_coalesced(out, frames, 64 * 1024), 3u);
    ASSERT_EQ(out.substr(0, 7), "already");
    ws::decoder d(ws::role::client, 1024);
    const auto events = decode(d, out.substr(7));
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[0].payload, "m1\nm2");
    EXPECT_EQ(events[1].type, event::kind::pong);
    EXPECT_EQ(events[1].payload, "p");
    EXPECT_EQ(events[2].payload, "m3");
}

TEST(ws_frame, coalescing_starts_a_new_frame_at_the_size_limit)
{
    const std::string a(100, 'a');
    const std::string b(100, 'b');
    const std::string big(300, 'c'); // alone, even over the limit
    const auto frames = server_frames({{opcode::text, a}, {opcode::text, b}, {opcode::text, a},
                                       {opcode::text, big}, {opcode::text, b}});
    std::string out;
    // a\nb is 201 bytes; with the next a it would be 302 > 250.
    EXPECT_EQ(ws::append_coalesced(out, frames, 250), 4u);
    ws::decoder d(ws::role::client, 1024);
    const auto events = decode(d, out);
    ASSERT_EQ(events.size(), 4u);
    EXPECT_EQ(events[0].payload, a + "\n" + b);
    EXPECT_EQ(events[1].payload, a);
    EXPECT_EQ(events[2].payload, big);
    EXPECT_EQ(events[3].payload, b);
}

TEST(ws_frame, coalesced_headers_use_every_length_form)
{
    // 100 + 1 + 100 = 201 bytes: the 16-bit length; 40,000 x 2 + 1: the
    // 64-bit one.
    for (const std::size_t n : {std::size_t{10}, std::size_t{100}, std::size_t{40000}}) {
        const std::string part(n, 'x');
        const auto frames = server_frames({{opcode::text, part}, {opcode::text, part}});
        std::string out;
        ws::append_coalesced(out, frames, 1 << 20);
        EXPECT_EQ(out, ws::encode_frame(opcode::text, part + "\n" + part)) << n;
    }
}
