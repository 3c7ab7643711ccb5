#include "base64.hpp"

#include <array>

namespace aiot::common {
namespace {

constexpr std::string_view std_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view url_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string encode(std::span<const std::uint8_t> in, std::string_view alphabet)
{
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        const std::uint32_t v = (in[i] << 16) | (in[i + 1] << 8) | in[i + 2];
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += alphabet[v & 63];
    }
    if (const std::size_t rest = in.size() - i; rest > 0) { // 1 or 2 bytes: padded
        const std::uint32_t v = (in[i] << 16) | (rest == 2 ? in[i + 1] << 8 : 0);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += rest == 2 ? alphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

constexpr std::array<std::int8_t, 256> make_decode_table()
{
    std::array<std::int8_t, 256> t{};
    t.fill(-1);
    for (std::size_t i = 0; i < 64; ++i) {
        t[static_cast<unsigned char>(std_alphabet[i])] = static_cast<std::int8_t>(i);
        t[static_cast<unsigned char>(url_alphabet[i])] = static_cast<std::int8_t>(i);
    }
    return t;
}

constexpr auto decode_table = make_decode_table();

} // namespace

std::string base64url_encode(std::span<const std::uint8_t> bytes)
{
    return encode(bytes, url_alphabet);
}

std::string base64_encode(std::span<const std::uint8_t> bytes)
{
    return encode(bytes, std_alphabet);
}

std::optional<std::vector<std::uint8_t>> base64url_decode(std::string_view text)
{
    std::vector<std::uint8_t> out;
    out.reserve(text.size() / 4 * 3);
    std::uint32_t acc = 0;
    std::size_t quad = 0;    // sextets in the current quantum
    std::size_t padding = 0; // '=' seen after the data
    for (const char c : text) {
        if (c == '=') {
            ++padding;
            continue;
        }
        const auto v = decode_table[static_cast<unsigned char>(c)];
        if (v < 0) {
            continue; // Python's non-strict decoder skips such characters
        }
        if (padding > 0) {
            // Data after padding: Python stops at a complete padded quantum;
            // anything else is an error. Refuse it, it never is a token.
            return std::nullopt;
        }
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        if (++quad == 4) {
            out.push_back(static_cast<std::uint8_t>(acc >> 16));
            out.push_back(static_cast<std::uint8_t>(acc >> 8));
            out.push_back(static_cast<std::uint8_t>(acc));
            acc = 0;
            quad = 0;
        }
    }
    if (quad == 1 || (quad > 0 && padding < 4 - quad)) {
        return std::nullopt; // incorrect padding
    }
    if (quad == 2) {
        out.push_back(static_cast<std::uint8_t>(acc >> 4));
    } else if (quad == 3) {
        out.push_back(static_cast<std::uint8_t>(acc >> 10));
        out.push_back(static_cast<std::uint8_t>(acc >> 2));
    }
    return out;
}

} // namespace aiot::common
