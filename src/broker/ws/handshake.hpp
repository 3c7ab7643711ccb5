#pragma once
// Pure pieces of the broker's opening handshake (PROTOCOL.md section 2).
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace aiot::broker {

// The token of a gateway's `Sec-WebSocket-Protocol: token, <token>`:
// exactly two comma-separated items, the first `token`, whitespace around
// items ignored. std::nullopt for anything else.
std::optional<std::string_view> gateway_token(std::string_view protocol_header);

// The first subprotocol a browser offers (empty if none), to echo back.
std::string_view first_subprotocol(std::string_view protocol_header);

// An Origin as compared with --allowed-origins: scheme, host and port as
// the browser sends them, without a trailing slash, case-insensitive.
std::string normalized_origin(std::string_view origin);

// How long a web client lets the broker gather its messages into one
// frame, as it asks with `batch=MS` in the query of its request target
// (`/ws?batch=16`; aiot's dashboard does): zero, one message per frame as
// in pyaiot, when it does not ask or the value is not a whole number; at
// most max_batch_window.
inline constexpr std::chrono::milliseconds max_batch_window{100};
std::chrono::milliseconds client_batch_window(std::string_view target);

// The 101 answer that accepts an upgrade, with the client's key and the
// subprotocol to echo (none if empty).
std::string switching_protocols(std::string_view client_key, std::string_view subprotocol);

} // namespace aiot::broker
