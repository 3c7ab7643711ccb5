#pragma once
// The JSON messages of the aiot protocol (docs/PROTOCOL.md, "Broker").
#include "common/json_text.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace aiot::common {

enum class message_type { new_, update, out, reset };

std::string_view to_string(message_type t);
std::optional<message_type> message_type_from(std::string_view name);

// A message that passed the common check: a JSON object whose "type" is one
// of new/update/out/reset.
struct message {
    message_type type;
    json body;
};

// Either a message or the reason it is invalid. The reason is what the
// original sends (`Invalid message '...'.` / `Invalid message type '...'.`),
// already cut to fit a websocket close frame.
struct parse_result {
    std::optional<message> msg;
    std::string error;
    // Why, for logs: invalid JSON, JSON nested too deep, not an object,
    // no or unknown type.
    std::string_view problem;

    explicit operator bool() const { return msg.has_value(); }
};

// Any valid JSON nested at most max_json_depth deep is parsed; deeper
// texts are refused before they are parsed.
parse_result parse_message(std::string_view text);

// A close-frame reason holds at most 123 bytes: cut at a UTF-8 boundary.
std::string truncate_close_reason(std::string_view reason, std::size_t max_bytes = 123);

// Builders for gateway -> broker messages.
json make_new(std::string_view uid, std::string_view dst);
json make_update(std::string_view uid, std::string_view endpoint, json data,
                 std::string_view dst);
json make_out(std::string_view uid);
json make_reset(std::string_view uid);
json make_keepalive();

// A web client's write request as it reaches a gateway:
// {"type":"update","data":{"uid","endpoint","payload"},"src":C}; data must
// have exactly those three keys. payload is kept as text (a JSON string as
// is, any other value serialised).
struct write_request {
    std::string uid;
    std::string endpoint;
    std::string payload;
    std::string src;
};
std::optional<write_request> parse_write_request(const json& msg);

// The text of a JSON value as a resource payload: strings as is, others
// serialised ("23°C" stays "23°C", 42 becomes "42").
std::string value_text(const json& value);

} // namespace aiot::common
