#pragma once
// The client's side of the websocket opening handshake (RFC 6455 4.1): the
// request, and the check of the server's answer. No I/O. Used by the
// gateways' broker uplink and by the raw-socket test and bench clients.
#include <string>
#include <string_view>

namespace aiot::broker::ws {

// The opening request a client sends (HTTP/1.1 GET with the upgrade
// headers); subprotocol and user_agent, if not empty, are sent as
// Sec-WebSocket-Protocol and User-Agent.
std::string client_handshake_request(std::string_view host, std::string_view target,
                                     std::string_view key, std::string_view subprotocol = {},
                                     std::string_view user_agent = {});

// A new Sec-WebSocket-Key: the base64 text of 16 random bytes.
std::string make_client_key();

// The server's answer to the opening request: its status code (0 if the
// status line is not HTTP/1.x), and whether it accepts the upgrade made with
// the key (status 101, Upgrade: websocket and the matching
// Sec-WebSocket-Accept).
struct handshake_answer {
    int status = 0;
    bool accepted = false;
};
handshake_answer read_handshake_answer(std::string_view response_head, std::string_view key);

// read_handshake_answer(...).accepted
bool client_handshake_accepted(std::string_view response_head, std::string_view key);

} // namespace aiot::broker::ws
