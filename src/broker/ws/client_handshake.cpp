#include "broker/ws/client_handshake.hpp"

#include "broker/ws/frame.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <stdexcept>

namespace aiot::broker::ws {
namespace {

bool equal_no_case(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

// Case-insensitive search of a header's value in an HTTP head.
std::optional<std::string_view> header_value(std::string_view head, std::string_view name)
{
    std::size_t pos = head.find("\r\n");
    while (pos != std::string_view::npos && pos + 2 < head.size()) {
        const std::size_t start = pos + 2;
        const std::size_t end = head.find("\r\n", start);
        const auto line = head.substr(start, end == std::string_view::npos ? head.npos : end - start);
        const auto colon = line.find(':');
        if (colon != std::string_view::npos && equal_no_case(line.substr(0, colon), name)) {
            auto value = line.substr(colon + 1);
            while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
                value.remove_prefix(1);
            }
            while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
                value.remove_suffix(1);
            }
            return value;
        }
        pos = end;
    }
    return std::nullopt;
}

} // namespace

std::string client_handshake_request(std::string_view host, std::string_view target,
                                     std::string_view key, std::string_view subprotocol,
                                     std::string_view user_agent)
{
    std::string r;
    r.reserve(256 + subprotocol.size());
    r.append("GET ").append(target).append(" HTTP/1.1\r\nHost: ").append(host);
    r.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ").append(key);
    r.append("\r\nSec-WebSocket-Version: 13\r\n");
    if (!subprotocol.empty()) {
        r.append("Sec-WebSocket-Protocol: ").append(subprotocol).append("\r\n");
    }
    if (!user_agent.empty()) {
        r.append("User-Agent: ").append(user_agent).append("\r\n");
    }
    r.append("\r\n");
    return r;
}

std::string make_client_key()
{
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        throw std::runtime_error("no random bytes for a websocket key");
    }
    unsigned char text[25]; // 24 characters and a NUL
    EVP_EncodeBlock(text, bytes, sizeof bytes);
    return std::string(reinterpret_cast<const char*>(text), 24);
}

handshake_answer read_handshake_answer(std::string_view head, std::string_view key)
{
    handshake_answer a;
    // "HTTP/1.1 101 Switching Protocols"
    if (head.size() < 12 || !head.starts_with("HTTP/1.") || head[8] != ' ') {
        return a;
    }
    for (std::size_t i = 9; i < 12; ++i) {
        if (head[i] < '0' || head[i] > '9') {
            return a;
        }
        a.status = a.status * 10 + (head[i] - '0');
    }
    const auto upgrade = header_value(head, "Upgrade");
    const auto accept = header_value(head, "Sec-WebSocket-Accept");
    a.accepted = a.status == 101 && head.starts_with("HTTP/1.1") && upgrade &&
                 equal_no_case(*upgrade, "websocket") && accept && *accept == accept_key(key);
    return a;
}

bool client_handshake_accepted(std::string_view response_head, std::string_view key)
{
    return read_handshake_answer(response_head, key).accepted;
}

} // namespace aiot::broker::ws
