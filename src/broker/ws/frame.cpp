#include "broker/ws/frame.hpp"

#include "common/base64.hpp"
#include "common/message.hpp"
#include "common/text.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace aiot::broker::ws {
namespace {

constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr std::size_t max_control_payload = 125;

bool is_control(opcode op) { return (static_cast<std::uint8_t>(op) & 0x8) != 0; }

bool known_opcode(std::uint8_t op)
{
    return op <= 0x2 || (op >= 0x8 && op <= 0xA);
}

void unmask(char* data, std::size_t size, const std::uint8_t* key)
{
    std::uint8_t k[8];
    for (int i = 0; i < 8; ++i) {
        k[i] = key[i & 3];
    }
    std::uint64_t k64 = 0;
    std::memcpy(&k64, k, 8);
    std::size_t i = 0;
    for (; i + 8 <= size; i += 8) {
        std::uint64_t w = 0;
        std::memcpy(&w, data + i, 8);
        w ^= k64;
        std::memcpy(data + i, &w, 8);
    }
    for (; i < size; ++i) {
        data[i] = static_cast<char>(static_cast<std::uint8_t>(data[i]) ^ key[i & 3]);
    }
}

} // namespace

std::string accept_key(std::string_view client_key)
{
    std::string input(client_key);
    input.append(guid);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(input.data(), input.size(), digest, &length, EVP_sha1(), nullptr);
    return common::base64_encode(std::span<const std::uint8_t>(digest, length));
}

bool valid_client_key(std::string_view key)
{
    // 16 bytes encode to 22 characters and "==".
    if (key.size() != 24 || key.substr(22) != "==") {
        return false;
    }
    return std::all_of(key.begin(), key.begin() + 22, [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
    });
}

std::size_t frame_header_size(std::size_t payload_size, bool masked)
{
    const std::size_t length_bytes = payload_size < 126 ? 0 : payload_size <= 0xFFFF ? 2 : 8;
    return 2 + length_bytes + (masked ? 4 : 0);
}

namespace {

// Appends the header of a final frame of n payload bytes (without the
// masking key).
void append_header(std::string& out, opcode op, std::size_t n, bool masked)
{
    const std::uint8_t mask_bit = masked ? 0x80 : 0x00;
    out.push_back(static_cast<char>(0x80 | static_cast<std::uint8_t>(op)));
    if (n < 126) {
        out.push_back(static_cast<char>(mask_bit | n));
    } else if (n <= 0xFFFF) {
        out.push_back(static_cast<char>(mask_bit | 126));
        out.push_back(static_cast<char>(n >> 8));
        out.push_back(static_cast<char>(n & 0xFF));
    } else {
        out.push_back(static_cast<char>(mask_bit | 127));
        for (int shift = 56; shift >= 0; shift -= 8) {
            out.push_back(static_cast<char>((static_cast<std::uint64_t>(n) >> shift) & 0xFF));
        }
    }
}

// The payload of a final, unmasked text frame; std::nullopt for any other
// frame.
std::optional<std::string_view> text_payload(std::string_view frame)
{
    if (frame.size() < 2 || static_cast<std::uint8_t>(frame[0]) != (0x80 | static_cast<std::uint8_t>(opcode::text)) ||
        (static_cast<std::uint8_t>(frame[1]) & 0x80) != 0) {
        return std::nullopt;
    }
    const auto len7 = static_cast<std::uint8_t>(frame[1]) & 0x7F;
    const std::size_t offset = len7 < 126 ? 2 : len7 == 126 ? 4 : 10;
    if (frame.size() < offset) {
        return std::nullopt;
    }
    return frame.substr(offset);
}

} // namespace

void append_frame(std::string& out, opcode op, std::string_view payload, const mask_key* mask)
{
    const std::size_t n = payload.size();
    out.reserve(out.size() + frame_header_size(n, mask != nullptr) + n);
    append_header(out, op, n, mask != nullptr);
    if (mask) {
        out.append(reinterpret_cast<const char*>(mask->data()), 4);
    }
    const std::size_t start = out.size();
    out.append(payload);
    if (mask) {
        unmask(out.data() + start, n, mask->data());
    }
}

std::size_t append_coalesced(std::string& out, std::span<const std::shared_ptr<const std::string>> frames,
                             std::size_t max_payload)
{
    std::size_t appended = 0;
    std::size_t i = 0;
    while (i < frames.size()) {
        const auto first = text_payload(*frames[i]);
        if (!first) {
            out.append(*frames[i]);
            ++appended;
            ++i;
            continue;
        }
        // The run of text frames from i whose payloads, joined, fit.
        std::size_t n = first->size();
        std::size_t end = i + 1;
        for (; end < frames.size(); ++end) {
            const auto next = text_payload(*frames[end]);
            if (!next || n + 1 + next->size() > max_payload) {
                break;
            }
            n += 1 + next->size();
        }
        append_header(out, opcode::text, n, false);
        out.reserve(out.size() + n);
        for (std::size_t k = i; k < end; ++k) {
            if (k != i) {
                out.push_back('\n');
            }
            out.append(*text_payload(*frames[k]));
        }
        ++appended;
        i = end;
    }
    return appended;
}

std::string encode_frame(opcode op, std::string_view payload, const mask_key* mask)
{
    std::string out;
    append_frame(out, op, payload, mask);
    return out;
}

std::string encode_close(std::uint16_t code, std::string_view reason, const mask_key* mask)
{
    std::string payload;
    payload.push_back(static_cast<char>(code >> 8));
    payload.push_back(static_cast<char>(code & 0xFF));
    payload.append(common::truncate_close_reason(reason, max_control_payload - 2));
    return encode_frame(opcode::close, payload, mask);
}

bool valid_close_code(std::uint16_t code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

decoder::decoder(role r, std::size_t max_message_size)
    : role_(r), max_message_size_(max_message_size)
{
}

void decoder::fail(std::uint16_t code, std::string_view reason, const handler& on_event)
{
    failed_ = true;
    std::string().swap(buf_);
    std::string().swap(msg_);
    event e;
    e.type = event::kind::error;
    e.code = code;
    e.reason = reason;
    on_event(e);
}

void decoder::feed(std::span<char> data, const handler& on_event)
{
    if (failed_) {
        return;
    }
    if (buf_.empty()) {
        const std::size_t used = parse(data.data(), data.size(), on_event);
        if (!failed_ && used < data.size()) {
            buf_.assign(data.data() + used, data.size() - used);
        }
    } else {
        buf_.append(data.data(), data.size());
        const std::size_t used = parse(buf_.data(), buf_.size(), on_event);
        if (!failed_) {
            buf_.erase(0, used);
        }
    }
    // Give back the memory of a large frame once it is done.
    if (buf_.empty() && buf_.capacity() > 65536) {
        std::string().swap(buf_);
    }
}

std::size_t decoder::parse(char* data, std::size_t size, const handler& on_event)
{
    const auto* u = reinterpret_cast<const std::uint8_t*>(data);
    std::size_t pos = 0;
    while (!failed_ && size - pos >= 2) {
        const std::uint8_t b0 = u[pos];
        const std::uint8_t b1 = u[pos + 1];
        const bool fin = (b0 & 0x80) != 0;
        const std::uint8_t op_bits = b0 & 0x0F;
        const bool masked = (b1 & 0x80) != 0;
        const std::uint8_t len7 = b1 & 0x7F;

        // Everything the first two bytes tell is checked before waiting
        // for the rest of the frame.
        if ((b0 & 0x70) != 0) {
            fail(close_code::protocol_error, "reserved bits set", on_event);
            break;
        }
        if (!known_opcode(op_bits)) {
            fail(close_code::protocol_error, "unknown opcode", on_event);
            break;
        }
        const auto op = static_cast<opcode>(op_bits);
        if (masked != (role_ == role::server)) {
            fail(close_code::protocol_error,
                 masked ? "masked frame from the server" : "unmasked frame from a client",
                 on_event);
            break;
        }
        if (is_control(op) && (!fin || len7 > max_control_payload)) {
            fail(close_code::protocol_error,
                 fin ? "control frame too long" : "fragmented control frame", on_event);
            break;
        }
        if (!is_control(op)) {
            if (op == opcode::continuation && !in_message_) {
                fail(close_code::protocol_error, "continuation without a message", on_event);
                break;
            }
            if (op != opcode::continuation && in_message_) {
                fail(close_code::protocol_error, "new message inside a fragmented one", on_event);
                break;
            }
        }

        const std::size_t length_bytes = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
        const std::size_t header = 2 + length_bytes + (masked ? 4 : 0);
        if (size - pos < header) {
            break;
        }
        std::uint64_t length = len7;
        if (length_bytes) {
            length = 0;
            for (std::size_t k = 0; k < length_bytes; ++k) {
                length = (length << 8) | u[pos + 2 + k];
            }
            if (length_bytes == 8 && (length >> 63) != 0) {
                fail(close_code::protocol_error, "frame length out of range", on_event);
                break;
            }
            // RFC 6455 5.2: "the minimal number of bytes MUST be used".
            if (length < (length_bytes == 2 ? 126u : 65536u)) {
                fail(close_code::protocol_error, "frame length not minimally encoded", on_event);
                break;
            }
        }
        if (!is_control(op)) {
            const std::uint64_t so_far = in_message_ ? msg_.size() : 0;
            if (length > max_message_size_ || so_far + length > max_message_size_) {
                fail(close_code::too_big, "message too big", on_event);
                break;
            }
        }
        if (size - pos - header < length) {
            break; // wait for the rest of the payload
        }

        char* payload = data + pos + header;
        const auto n = static_cast<std::size_t>(length);
        if (masked) {
            unmask(payload, n, u + pos + header - 4);
        }
        pos += header + n;
        const std::string_view body(payload, n);

        event e;
        switch (op) {
        case opcode::ping:
        case opcode::pong:
            e.type = op == opcode::ping ? event::kind::ping : event::kind::pong;
            e.payload = body;
            on_event(e);
            break;
        case opcode::close:
            e.type = event::kind::close;
            if (n == 0) {
                e.code = close_code::no_status;
            } else if (n == 1) {
                fail(close_code::protocol_error, "close frame of one byte", on_event);
                break;
            } else {
                const auto* c = reinterpret_cast<const std::uint8_t*>(payload);
                e.code = static_cast<std::uint16_t>((c[0] << 8) | c[1]);
                e.reason = body.substr(2);
                if (!valid_close_code(e.code)) {
                    fail(close_code::protocol_error, "invalid close code", on_event);
                    break;
                }
                if (!common::valid_utf8(e.reason)) {
                    fail(close_code::invalid_payload, "close reason is not UTF-8", on_event);
                    break;
                }
            }
            on_event(e);
            break;
        default: {
            std::string_view message = body;
            if (!fin) {
                if (!in_message_) {
                    in_message_ = true;
                    msg_op_ = op;
                    utf8_checked_ = 0;
                }
                msg_.append(body);
                // RFC 6455 8.1: invalid UTF-8 fails the connection as soon
                // as it is seen, not only when the message ends.
                if (msg_op_ == opcode::text) {
                    const auto valid = common::utf8_valid_prefix(
                        std::string_view(msg_).substr(utf8_checked_));
                    if (!valid) {
                        fail(close_code::invalid_payload, "message is not UTF-8", on_event);
                        break;
                    }
                    utf8_checked_ += *valid;
                }
                break;
            }
            opcode message_op = op;
            std::size_t checked = 0;
            if (in_message_) {
                msg_.append(body);
                message = msg_;
                message_op = msg_op_;
                checked = utf8_checked_;
            }
            if (message_op == opcode::text && !common::valid_utf8(message.substr(checked))) {
                fail(close_code::invalid_payload, "message is not UTF-8", on_event);
                break;
            }
            e.type = event::kind::message;
            e.op = message_op;
            e.payload = message;
            on_event(e);
            if (in_message_) {
                in_message_ = false;
                msg_.clear();
                if (msg_.capacity() > 65536) {
                    std::string().swap(msg_);
                }
            }
            break;
        }
        }
    }
    return pos;
}

std::optional<std::string> control_reply(const event& e, const mask_key* mask)
{
    switch (e.type) {
    case event::kind::ping:
        return encode_frame(opcode::pong, e.payload, mask);
    case event::kind::close:
        return encode_close(e.code == close_code::no_status ? close_code::normal : e.code, {},
                            mask);
    case event::kind::error:
        return encode_close(e.code, e.reason, mask);
    default:
        return std::nullopt;
    }
}

} // namespace aiot::broker::ws
