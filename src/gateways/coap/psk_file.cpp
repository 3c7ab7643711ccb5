#include "psk_file.hpp"

#include "common/hex.hpp"
#include "common/text.hpp"

#include <fmt/format.h>

namespace aiot::gw::coap {

namespace {

bool set_why(std::string* why, std::string text)
{
    if (why != nullptr) {
        *why = std::move(text);
    }
    return false;
}

bool has_blank(std::string_view s)
{
    return s.find_first_of(" \t") != std::string_view::npos;
}

} // namespace

std::optional<std::string> decode_psk_key(std::string_view text, std::string* why)
{
    if (text.empty()) {
        set_why(why, "empty key");
        return std::nullopt;
    }
    std::string key;
    if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        const auto digits = text.substr(2);
        if (digits.empty() || digits.size() % 2 != 0) {
            set_why(why, "a hex key (0x...) needs an even number of hex digits, at least 2");
            return std::nullopt;
        }
        for (std::size_t i = 0; i < digits.size(); i += 2) {
            const int hi = common::hex_digit(digits[i]);
            const int lo = common::hex_digit(digits[i + 1]);
            if (hi < 0 || lo < 0) {
                set_why(why, fmt::format("'{}' is not a hex digit in a 0x key",
                                         hi < 0 ? digits[i] : digits[i + 1]));
                return std::nullopt;
            }
            key.push_back(static_cast<char>(hi << 4 | lo));
        }
    } else {
        key = std::string(text);
    }
    if (key.size() > max_psk_key) {
        set_why(why, fmt::format("key of {} bytes (at most {})", key.size(), max_psk_key));
        return std::nullopt;
    }
    return key;
}

psk_file parse_psk_file(std::string_view text, std::size_t max_entries)
{
    psk_file out;
    const auto fail = [&](std::size_t line, const std::string& what) {
        out.keys.clear();
        out.error = fmt::format("line {}: {}", line, what);
        return out;
    };
    std::size_t number = 0;
    while (!text.empty()) {
        ++number;
        const auto end = text.find('\n');
        auto line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        line = common::trim(line);
        if (line.empty() || line.front() == '#') {
            continue;
        }
        const auto eq = line.find('=');
        if (eq == std::string_view::npos) {
            return fail(number, "expected 'identity = key'");
        }
        const auto identity = common::trim(line.substr(0, eq));
        const auto value = common::trim(line.substr(eq + 1));
        if (identity.empty()) {
            return fail(number, "empty identity before '='");
        }
        if (identity.size() > max_psk_identity) {
            return fail(number, fmt::format("identity of {} bytes (at most {})", identity.size(),
                                            max_psk_identity));
        }
        if (has_blank(identity)) {
            return fail(number, fmt::format("identity '{}' contains a blank",
                                            common::printable(identity, 64)));
        }
        std::string why;
        auto key = decode_psk_key(value, &why);
        if (!key) {
            return fail(number, fmt::format("identity '{}': {}", common::printable(identity, 64), why));
        }
        if (out.keys.count(identity) != 0) {
            return fail(number, fmt::format("identity '{}' given twice", common::printable(identity, 64)));
        }
        if (out.keys.size() >= max_entries) {
            return fail(number, fmt::format("more than {} identities", max_entries));
        }
        out.keys.emplace(std::string(identity), std::move(*key));
    }
    return out;
}

} // namespace aiot::gw::coap
