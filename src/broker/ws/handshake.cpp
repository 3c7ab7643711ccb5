#include "broker/ws/handshake.hpp"

#include "broker/ws/frame.hpp"
#include "common/text.hpp"

#include <charconv>
#include <cstdint>

namespace aiot::broker {

std::optional<std::string_view> gateway_token(std::string_view header)
{
    const auto comma = header.find(',');
    if (comma == std::string_view::npos) {
        return std::nullopt;
    }
    const auto first = common::trim(header.substr(0, comma));
    const auto second = common::trim(header.substr(comma + 1));
    if (first != "token" || second.empty() || second.find(',') != std::string_view::npos) {
        return std::nullopt;
    }
    return second;
}

std::string_view first_subprotocol(std::string_view header)
{
    return common::trim(header.substr(0, header.find(',')));
}

std::chrono::milliseconds client_batch_window(std::string_view target)
{
    for (const auto& [name, value] : common::query_items(target)) {
        if (name != "batch") {
            continue;
        }
        std::uint64_t ms = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
        if (end != value.data() + value.size() || value.empty()) {
            return {}; // not a whole number
        }
        if (ec == std::errc::result_out_of_range || ms > static_cast<std::uint64_t>(max_batch_window.count())) {
            return max_batch_window;
        }
        return std::chrono::milliseconds(ms);
    }
    return {};
}

std::string normalized_origin(std::string_view origin)
{
    auto out = common::ascii_lower(common::trim(origin));
    while (!out.empty() && out.back() == '/') {
        out.pop_back();
    }
    return out;
}

std::string switching_protocols(std::string_view client_key, std::string_view subprotocol)
{
    std::string r = "HTTP/1.1 101 Switching Protocols\r\n"
                    "Upgrade: websocket\r\n"
                    "Connection: Upgrade\r\n"
                    "Sec-WebSocket-Accept: ";
    r += ws::accept_key(client_key);
    r += "\r\n";
    if (!subprotocol.empty()) {
        r += "Sec-WebSocket-Protocol: ";
        r += subprotocol;
        r += "\r\n";
    }
    r += "\r\n";
    return r;
}

} // namespace aiot::broker
