#pragma once
// The client's side of the websocket opening handshake, for the raw-socket
// test and bench clients (the broker is only ever a server: its codec is
// broker/ws/frame.hpp).
#include <string>
#include <string_view>

namespace aiot::test {

// The opening request a client sends (HTTP/1.1 GET with the upgrade
// headers); subprotocol, if not empty, is sent as Sec-WebSocket-Protocol.
std::string client_handshake_request(std::string_view host, std::string_view target,
                                     std::string_view key, std::string_view subprotocol = {});

// True if response_head (status line and headers) accepts the upgrade made
// with key: status 101 and the matching Sec-WebSocket-Accept.
bool client_handshake_accepted(std::string_view response_head, std::string_view key);

} // namespace aiot::test
