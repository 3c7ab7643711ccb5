#include "support/ws_handshake.hpp"

#include "broker/ws/frame.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

namespace aiot::test {
namespace {

// Case-insensitive search of a header's value in an HTTP head.
std::optional<std::string_view> header_value(std::string_view head, std::string_view name)
{
    std::size_t pos = head.find("\r\n");
    while (pos != std::string_view::npos && pos + 2 < head.size()) {
        const std::size_t start = pos + 2;
        const std::size_t end = head.find("\r\n", start);
        const auto line = head.substr(start, end == std::string_view::npos ? head.npos : end - start);
        const auto colon = line.find(':');
        if (colon == name.size() &&
            std::equal(name.begin(), name.end(), line.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) ==
                       std::tolower(static_cast<unsigned char>(b));
            })) {
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
                                     std::string_view key, std::string_view subprotocol)
{
    std::string r;
    r.reserve(256 + subprotocol.size());
    r.append("GET ").append(target).append(" HTTP/1.1\r\nHost: ").append(host);
    r.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ").append(key);
    r.append("\r\nSec-WebSocket-Version: 13\r\n");
    if (!subprotocol.empty()) {
        r.append("Sec-WebSocket-Protocol: ").append(subprotocol).append("\r\n");
    }
    r.append("\r\n");
    return r;
}

bool client_handshake_accepted(std::string_view response_head, std::string_view key)
{
    if (!response_head.starts_with("HTTP/1.1 101")) {
        return false;
    }
    const auto accept = header_value(response_head, "Sec-WebSocket-Accept");
    return accept && *accept == broker::ws::accept_key(key);
}

} // namespace aiot::test
