#include "coap_message.hpp"

namespace aiot::test {

namespace {

constexpr unsigned uri_path = 11;

void put_option_part(std::string& out, unsigned value, std::uint8_t& nibble)
{
    if (value < 13) {
        nibble = static_cast<std::uint8_t>(value);
    } else if (value < 269) {
        nibble = 13;
        out.push_back(static_cast<char>(value - 13));
    } else {
        nibble = 14;
        out.push_back(static_cast<char>((value - 269) >> 8));
        out.push_back(static_cast<char>((value - 269) & 0xff));
    }
}

// Reads an extended option delta or length; false if the message is cut.
bool get_option_part(std::string_view bytes, std::size_t& pos, unsigned& value)
{
    if (value == 13) {
        if (pos + 1 > bytes.size()) {
            return false;
        }
        value = 13 + static_cast<std::uint8_t>(bytes[pos++]);
    } else if (value == 14) {
        if (pos + 2 > bytes.size()) {
            return false;
        }
        value = 269 + (static_cast<std::uint8_t>(bytes[pos]) << 8 |
                       static_cast<std::uint8_t>(bytes[pos + 1]));
        pos += 2;
    } else if (value == 15) {
        return false;
    }
    return true;
}

} // namespace

std::string encode(const coap_message& m)
{
    std::string out;
    out.reserve(8 + m.token.size() + m.payload.size() + 16);
    out.push_back(static_cast<char>(0x40 | static_cast<unsigned>(m.type) << 4 | m.token.size()));
    out.push_back(static_cast<char>(m.code));
    out.push_back(static_cast<char>(m.mid >> 8));
    out.push_back(static_cast<char>(m.mid & 0xff));
    out += m.token;
    unsigned last = 0;
    for (const auto& segment : m.path) {
        std::string ext;
        std::uint8_t delta = 0;
        std::uint8_t length = 0;
        put_option_part(ext, uri_path - last, delta);
        put_option_part(ext, static_cast<unsigned>(segment.size()), length);
        out.push_back(static_cast<char>(delta << 4 | length));
        out += ext;
        out += segment;
        last = uri_path;
    }
    if (!m.payload.empty()) {
        out.push_back('\xff');
        out += m.payload;
    }
    return out;
}

std::optional<coap_message> decode(std::string_view bytes)
{
    if (bytes.size() < 4 || (static_cast<std::uint8_t>(bytes[0]) >> 6) != 1) {
        return std::nullopt;
    }
    coap_message m;
    const auto first = static_cast<std::uint8_t>(bytes[0]);
    m.type = static_cast<coap_type>((first >> 4) & 3);
    const std::size_t token_length = first & 0xf;
    m.code = static_cast<std::uint8_t>(bytes[1]);
    m.mid = static_cast<std::uint16_t>(static_cast<std::uint8_t>(bytes[2]) << 8 |
                                       static_cast<std::uint8_t>(bytes[3]));
    if (token_length > 8 || 4 + token_length > bytes.size()) {
        return std::nullopt;
    }
    m.token = std::string(bytes.substr(4, token_length));
    std::size_t pos = 4 + token_length;
    unsigned number = 0;
    while (pos < bytes.size()) {
        const auto b = static_cast<std::uint8_t>(bytes[pos++]);
        if (b == 0xff) {
            m.payload = std::string(bytes.substr(pos));
            break;
        }
        unsigned delta = b >> 4;
        unsigned length = b & 0xf;
        if (!get_option_part(bytes, pos, delta) || !get_option_part(bytes, pos, length) ||
            pos + length > bytes.size()) {
            return std::nullopt;
        }
        number += delta;
        if (number == uri_path) {
            m.path.emplace_back(bytes.substr(pos, length));
        }
        pos += length;
    }
    return m;
}

} // namespace aiot::test
