#include "broker/ws/handshake.hpp"

#include "broker/ws/frame.hpp"
#include "common/text.hpp"

#include <algorithm>
#include <string>

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
    const auto q = target.find('?');
    if (q == std::string_view::npos) {
        return {};
    }
    auto query = target.substr(q + 1);
    while (!query.empty()) {
        const auto amp = query.find('&');
        const auto item = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        constexpr std::string_view key = "batch=";
        if (!item.starts_with(key)) {
            continue;
        }
        const auto value = item.substr(key.size());
        if (value.empty() || value.size() > 6 ||
            value.find_first_not_of("0123456789") != std::string_view::npos) {
            return {};
        }
        const std::chrono::milliseconds ms{std::stoi(std::string(value))};
        return std::min(ms, max_batch_window);
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
