#include "payload.hpp"

#include "common/hex.hpp"
#include "common/ws_frame.hpp"

#include <nlohmann/json.hpp>

namespace aiot::gw::coap {

namespace {

constexpr std::string_view blanks = " \t\r\n";

std::string_view trim(std::string_view text)
{
    const auto first = text.find_first_not_of(blanks);
    if (first == std::string_view::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of(blanks) - first + 1);
}

bool has_control(std::string_view text)
{
    for (const char c : text) {
        const auto b = static_cast<unsigned char>(c);
        if (b < 0x20 || b == 0x7f) {
            return true;
        }
    }
    return false;
}

// Why a name (uid, resource) cannot be used, or empty if it can.
std::string name_problem(std::string_view what, std::string_view name)
{
    if (name.empty()) {
        return std::string("empty ") + std::string(what);
    }
    if (!common::ws::valid_utf8(name)) {
        return std::string(what) + " is not valid UTF-8";
    }
    if (has_control(name)) {
        return std::string(what) + " holds control characters";
    }
    return {};
}

std::string percent_decode(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            const int hi = common::hex_digit(text[i + 1]);
            const int lo = common::hex_digit(text[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
                continue;
            }
        }
        out.push_back(text[i]); // not an escape: kept as is
    }
    return out;
}

} // namespace

parsed<alive_payload> parse_alive(std::string_view payload)
{
    const auto colon = payload.rfind(':');
    if (colon == std::string_view::npos) {
        return {std::nullopt, "expected 'alive:<uid>' or 'reset:<uid>'"};
    }
    const auto uid = trim(payload.substr(colon + 1));
    if (auto problem = name_problem("uid", uid); !problem.empty()) {
        return {std::nullopt, std::move(problem)};
    }
    return {alive_payload{payload.starts_with("reset"), std::string(uid)}, {}};
}

parsed<server_payload> parse_server(std::string_view payload)
{
    const auto colon = payload.find(':');
    if (colon == std::string_view::npos) {
        return {std::nullopt, "expected '<resource>:<value>'"};
    }
    const auto name = trim(payload.substr(0, colon));
    if (auto problem = name_problem("resource name", name); !problem.empty()) {
        return {std::nullopt, std::move(problem)};
    }
    return {server_payload{std::string(name), std::string(payload.substr(colon + 1))}, {}};
}

std::string to_valid_utf8(std::string_view text)
{
    if (common::ws::valid_utf8(text)) {
        return std::string(text);
    }
    // nlohmann's serialiser knows how to replace invalid sequences.
    const nlohmann::json j = std::string(text);
    return nlohmann::json::parse(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
        .get<std::string>();
}

std::string printable(std::string_view text, std::size_t max_bytes)
{
    const bool cut = text.size() > max_bytes;
    const auto valid = to_valid_utf8(cut ? text.substr(0, max_bytes) : text);
    std::string out;
    out.reserve(valid.size() + 8);
    for (const char c : valid) {
        const auto b = static_cast<unsigned char>(c);
        if (b < 0x20 || b == 0x7f) {
            static constexpr char digits[] = "0123456789abcdef";
            out += "\\x";
            out.push_back(digits[b >> 4]);
            out.push_back(digits[b & 0xf]);
        } else {
            out.push_back(c);
        }
    }
    if (cut) {
        out += "...";
    }
    return out;
}

std::vector<std::string> split_path(std::string_view path)
{
    std::vector<std::string> segments;
    std::size_t start = 0;
    while (start <= path.size()) {
        auto end = path.find('/', start);
        if (end == std::string_view::npos) {
            end = path.size();
        }
        if (end > start) {
            segments.push_back(percent_decode(path.substr(start, end - start)));
        }
        start = end + 1;
    }
    return segments;
}

} // namespace aiot::gw::coap
