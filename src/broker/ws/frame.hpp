#pragma once
// The broker's sans-I/O websocket codec (RFC 6455): the server's handshake
// keys, frame encoding, and an incremental decoder that reports complete
// messages, control frames and protocol errors. No extensions are
// supported. The decoder and the masking also serve the test and bench
// clients (client_handshake.hpp has the client's handshake).
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace aiot::broker::ws {

enum class opcode : std::uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xA,
};

namespace close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t unsupported_data = 1003;
inline constexpr std::uint16_t no_status = 1005;
inline constexpr std::uint16_t invalid_payload = 1007;
inline constexpr std::uint16_t too_big = 1009;
inline constexpr std::uint16_t try_again_later = 1013;
} // namespace close_code

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 4.2.2).
std::string accept_key(std::string_view client_key);

// A Sec-WebSocket-Key must be the base64 text of 16 bytes.
bool valid_client_key(std::string_view key);

using mask_key = std::array<std::uint8_t, 4>;

// Size of the header of a frame carrying payload_size bytes.
std::size_t frame_header_size(std::size_t payload_size, bool masked);

// Appends one final frame. Clients must mask their frames, servers must not.
void append_frame(std::string& out, opcode op, std::string_view payload,
                  const mask_key* mask = nullptr);
std::string encode_frame(opcode op, std::string_view payload, const mask_key* mask = nullptr);

// Appends `frames` (each one complete frame as a server writes it:
// unmasked, final) to out, each run of text frames merged into one text
// frame whose payload is their payloads joined by '\n', at most
// max_payload bytes (a single larger message stays alone); other frames
// (close, ping, pong) are appended as they are, in order. For the clients
// that ask for batches (/ws?batch=MS): JSON texts as the broker writes
// them never hold a raw newline, so the lines are the messages. Returns
// the number of frames appended.
std::size_t append_coalesced(std::string& out, std::span<const std::shared_ptr<const std::string>> frames,
                             std::size_t max_payload);

// A close frame: code, then the reason cut to fit 125 bytes (at a UTF-8
// boundary).
std::string encode_close(std::uint16_t code, std::string_view reason,
                         const mask_key* mask = nullptr);

// A close code a peer may send in a close frame (RFC 6455 7.4).
bool valid_close_code(std::uint16_t code);

enum class role { server, client };

struct event {
    enum class kind { message, ping, pong, close, error };

    kind type = kind::message;
    opcode op = opcode::text;    // message: text or binary
    std::string_view payload;    // message, ping, pong (valid during the callback only)
    std::uint16_t code = 0;      // close: the peer's code (1005 if none); error: the code to close with
    std::string_view reason;     // close: the peer's reason; error: what is wrong
};

// Incremental decoder. A server decodes masked client frames, a client
// unmasked server frames; anything else is a protocol error (1002).
// Messages (after reassembly of fragments) larger than max_message_size
// give 1009 as soon as a frame header announces it; invalid UTF-8 in a text
// message (as soon as a fragment shows it) or close reason gives 1007; a
// length not encoded in the fewest bytes gives 1002. After an error it
// ignores all input.
class decoder {
public:
    using handler = std::function<void(const event&)>;

    decoder(role r, std::size_t max_message_size);

    // Decodes the complete frames of what earlier calls kept followed by
    // data, calling on_event for each in order. data is modified (unmasked
    // in place). An incomplete frame is kept for the next call.
    void feed(std::span<char> data, const handler& on_event);

    bool failed() const { return failed_; }
    std::size_t buffered() const { return buf_.size() + msg_.size(); }

private:
    std::size_t parse(char* data, std::size_t size, const handler& on_event);
    void fail(std::uint16_t code, std::string_view reason, const handler& on_event);

    role role_;
    std::size_t max_message_size_;
    std::string buf_;  // an incomplete frame
    std::string msg_;  // fragments of a message so far
    opcode msg_op_ = opcode::text;
    std::size_t utf8_checked_ = 0; // bytes of msg_ known to be valid UTF-8
    bool in_message_ = false;
    bool failed_ = false;
};

// What to send back for a control event: a pong for a ping, the close
// reply for a close (the peer's code echoed, 1000 if it gave none), the
// close frame for a decoding error. std::nullopt for anything else.
std::optional<std::string> control_reply(const event& e, const mask_key* mask = nullptr);

} // namespace aiot::broker::ws
