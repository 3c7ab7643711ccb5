#include "broker_list.hpp"
#include "text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace aiot::common {
namespace {

// Letters, digits, '-', '.' and '_' (host names and IPv4 addresses).
bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_';
}

bool valid_name(std::string_view host)
{
    return !host.empty() && std::all_of(host.begin(), host.end(), name_char);
}

// Hex digits, ':' and '.' (an embedded IPv4), at least two ':', and an
// optional zone ("%eth0").
bool valid_ipv6(std::string_view host)
{
    const auto zone = host.find('%');
    std::string_view addr = host.substr(0, zone);
    if (zone != std::string_view::npos && !valid_name(host.substr(zone + 1))) {
        return false;
    }
    if (std::count(addr.begin(), addr.end(), ':') < 2) {
        return false;
    }
    return std::all_of(addr.begin(), addr.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
               c == ':' || c == '.';
    });
}

// Printable for an error message: a bad entry may hold anything.
std::string quoted(std::string_view s)
{
    std::string out = "'";
    for (const char c : s.substr(0, 80)) {
        out += (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    if (s.size() > 80) {
        out += "...";
    }
    return out + "'";
}

// One entry, trimmed and not empty. error set on refusal.
broker_address parse_entry(std::string_view entry, std::uint16_t default_port, bool alone,
                           std::string& error)
{
    broker_address b;
    b.port = default_port;
    std::string_view host = entry;
    std::string_view port_text;
    bool has_port = false;
    if (entry.find("://") != std::string_view::npos) {
        error = fmt::format("broker {}: a host and a port, not a URL (--broker-ssl chooses "
                            "wss://)",
                            quoted(entry));
        return b;
    }
    if (entry.front() == '[') {
        const auto close = entry.find(']');
        if (close == std::string_view::npos) {
            error = fmt::format("broker {}: '[' without ']'", quoted(entry));
            return b;
        }
        host = entry.substr(1, close - 1);
        const auto rest = entry.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                error = fmt::format("broker {}: expected ':port' after ']'", quoted(entry));
                return b;
            }
            port_text = rest.substr(1);
            has_port = true;
        }
        if (!valid_ipv6(host)) {
            error = fmt::format("broker {}: not an IPv6 address between the brackets",
                                quoted(entry));
            return b;
        }
    } else if (std::count(entry.begin(), entry.end(), ':') > 1) {
        // A bare IPv6 address: accepted alone (as before lists existed).
        if (!alone || !valid_ipv6(entry)) {
            error = fmt::format("broker {}: write an IPv6 address in brackets, with its port: "
                                "[::1]:8000",
                                quoted(entry));
            return b;
        }
    } else if (const auto colon = entry.find(':'); colon != std::string_view::npos) {
        host = entry.substr(0, colon);
        port_text = entry.substr(colon + 1);
        has_port = true;
    }
    if (has_port) {
        unsigned value = 0;
        const auto* end = port_text.data() + port_text.size();
        const auto [p, ec] = std::from_chars(port_text.data(), end, value);
        if (port_text.empty() || ec != std::errc{} || p != end || value == 0 || value > 65535) {
            error = fmt::format("broker {}: the port must be a number from 1 to 65535",
                                quoted(entry));
            return b;
        }
        b.port = static_cast<std::uint16_t>(value);
    }
    if (host.find(':') == std::string_view::npos && !valid_name(host)) {
        error = fmt::format("broker {}: not a host name or address (letters, digits, '-', '.', "
                            "'_')",
                            quoted(entry));
        return b;
    }
    b.host = std::string(host);
    return b;
}

} // namespace

broker_list_result parse_broker_list(std::string_view text, std::uint16_t default_port)
{
    broker_list_result result;
    if (trim(text).empty()) {
        result.error = "no broker: --broker-host is empty";
        return result;
    }
    const bool alone = text.find(',') == std::string_view::npos;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const auto comma = text.find(',', pos);
        const auto raw = text.substr(pos, comma == std::string_view::npos ? text.npos : comma - pos);
        pos = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
        const auto entry = trim(raw);
        if (entry.empty()) {
            result.error = fmt::format("empty entry in the broker list {}", quoted(text));
            break;
        }
        if (result.brokers.size() == max_brokers) {
            result.error = fmt::format("more than {} brokers in the list", max_brokers);
            break;
        }
        auto b = parse_entry(entry, default_port, alone, result.error);
        if (!result.error.empty()) {
            break;
        }
        if (std::find(result.brokers.begin(), result.brokers.end(), b) != result.brokers.end()) {
            result.error = fmt::format("broker {} is listed twice", authority(b));
            break;
        }
        result.brokers.push_back(std::move(b));
    }
    if (!result.error.empty()) {
        result.brokers.clear();
    }
    return result;
}

std::string authority(const broker_address& broker)
{
    return host_port(broker.host, broker.port);
}

} // namespace aiot::common
