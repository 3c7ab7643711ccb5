#include "common/text.hpp"

#include <cstdint>
#include <cstring>

namespace aiot::common {

std::size_t utf8_sequence_length(std::string_view text)
{
    if (text.empty()) {
        return 0;
    }
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const unsigned char c = s[0];
    if (c < 0x80) {
        return 1;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > text.size()) {
        return 0;
    }
    for (std::size_t k = 1; k < len; ++k) {
        if ((s[k] & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[k] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
        return 0;
    }
    return len;
}

bool valid_utf8(std::string_view text)
{
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    std::size_t i = 0;
    while (i < n) {
        // Fast path over ASCII, 8 bytes at a time.
        if (i + 8 <= n) {
            std::uint64_t w = 0;
            std::memcpy(&w, s + i, 8);
            if ((w & 0x8080808080808080ULL) == 0) {
                i += 8;
                continue;
            }
        }
        const auto len = utf8_sequence_length(text.substr(i));
        if (len == 0) {
            return false;
        }
        i += len;
    }
    return true;
}

std::optional<std::size_t> utf8_valid_prefix(std::string_view text)
{
    std::size_t i = 0;
    while (i < text.size()) {
        const auto len = utf8_sequence_length(text.substr(i));
        if (len != 0) {
            i += len;
            continue;
        }
        const auto tail = text.substr(i);
        if (tail.size() >= 4) {
            return std::nullopt;
        }
        // An incomplete sequence is a valid start if some continuation
        // completes it. The second byte is the only constrained one (E0: A0..,
        // ED: ..9F, F0: 90.., F4: ..8F), so these three fillers cover all.
        for (const char second : {'\x80', '\x90', '\xA0'}) {
            std::string probe(tail);
            probe.push_back(second);
            probe.append(2, '\x80');
            const auto n = utf8_sequence_length(probe);
            if (n > tail.size()) {
                return i;
            }
        }
        return std::nullopt;
    }
    return i;
}

std::string to_valid_utf8(std::string_view text)
{
    if (valid_utf8(text)) {
        return std::string(text);
    }
    std::string out;
    out.reserve(text.size() + 8);
    std::size_t i = 0;
    while (i < text.size()) {
        const auto len = utf8_sequence_length(text.substr(i));
        if (len == 0) {
            out += replacement_character;
            ++i;
        } else {
            out.append(text.substr(i, len));
            i += len;
        }
    }
    return out;
}

std::string_view trim(std::string_view text)
{
    constexpr std::string_view blanks = " \t\r\n";
    const auto first = text.find_first_not_of(blanks);
    if (first == std::string_view::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of(blanks) - first + 1);
}

std::string ascii_lower(std::string_view text)
{
    std::string out(text);
    for (auto& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
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

std::string printable(std::string_view text, std::size_t max_bytes)
{
    const bool cut = text.size() > max_bytes;
    const auto valid = to_valid_utf8(cut ? text.substr(0, max_bytes) : text);
    std::string out;
    out.reserve(valid.size() + 8);
    for (const char c : valid) {
        const auto b = static_cast<unsigned char>(c);
        if (b < 0x20 || b == 0x7f || b == '\\') {
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

std::string host_port(std::string_view host, std::uint16_t port)
{
    const bool brackets = host.find(':') != std::string_view::npos && !host.starts_with('[');
    std::string out;
    out.reserve(host.size() + 8);
    if (brackets) {
        out += '[';
    }
    out += host;
    if (brackets) {
        out += ']';
    }
    out += ':';
    out += std::to_string(port);
    return out;
}

std::vector<std::pair<std::string_view, std::string_view>> query_items(std::string_view target)
{
    std::vector<std::pair<std::string_view, std::string_view>> items;
    const auto q = target.find('?');
    if (q == std::string_view::npos) {
        return items;
    }
    auto query = target.substr(q + 1);
    query = query.substr(0, query.find('#'));
    while (!query.empty()) {
        const auto amp = query.find('&');
        const auto item = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (item.empty()) {
            continue;
        }
        const auto eq = item.find('=');
        items.emplace_back(item.substr(0, eq),
                           eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1));
    }
    return items;
}

} // namespace aiot::common
