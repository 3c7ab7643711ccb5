#include "common/json_text.hpp"

#include "common/text.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace aiot::common {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

// Appends `s` quoted and escaped. Plain runs (printable ASCII other than
// '"' and '\\', valid UTF-8 sequences) are copied in one piece.
void append_string(std::string& out, std::string_view s)
{
    out += '"';
    std::size_t run = 0; // start of the plain run not yet copied
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            ++i;
            continue;
        }
        if (c >= 0x80) {
            if (const auto n = utf8_sequence_length(s.substr(i)); n != 0) {
                i += n;
                continue;
            }
        }
        out.append(s.data() + run, i - run);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            if (c < 0x20) {
                out += "\\u00";
                out += hex_digits[c >> 4];
                out += hex_digits[c & 0xf];
            } else {
                out += replacement_character; // not valid UTF-8
            }
        }
        ++i;
        run = i;
    }
    out.append(s.data() + run, i - run);
    out += '"';
}

template <class Int>
void append_integer(std::string& out, Int v)
{
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

void append_float(std::string& out, double v)
{
    if (std::isnan(v)) {
        out += "NaN";
        return;
    }
    if (std::isinf(v)) {
        out += v < 0 ? "-Infinity" : "Infinity";
        return;
    }
    // The shortest digits that read back as v, as Python's repr picks them.
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
    std::string_view sci(buf, static_cast<std::size_t>(r.ptr - buf));
    if (sci.front() == '-') {
        out += '-';
        sci.remove_prefix(1);
    }
    const auto e_pos = sci.find('e');
    std::string digits;
    for (const char ch : sci.substr(0, e_pos)) {
        if (ch != '.') {
            digits += ch;
        }
    }
    const int exponent = std::atoi(std::string(sci.substr(e_pos + 1)).c_str());
    const int decpt = exponent + 1; // value = 0.<digits> * 10^decpt
    const int ndigits = static_cast<int>(digits.size());
    if (decpt <= -4 || decpt > 16) {
        out += digits[0];
        if (ndigits > 1) {
            out += '.';
            out.append(digits, 1);
        }
        out += 'e';
        out += exponent < 0 ? '-' : '+';
        const int mag = std::abs(exponent);
        if (mag < 10) {
            out += '0';
        }
        append_integer(out, mag);
    } else if (decpt <= 0) {
        out += "0.";
        out.append(static_cast<std::size_t>(-decpt), '0');
        out += digits;
    } else if (decpt < ndigits) {
        out.append(digits, 0, static_cast<std::size_t>(decpt));
        out += '.';
        out.append(digits, static_cast<std::size_t>(decpt));
    } else {
        out += digits;
        out.append(static_cast<std::size_t>(decpt - ndigits), '0');
        out += ".0";
    }
}

void append_value(std::string& out, const json& v, std::size_t depth)
{
    switch (v.type()) {
    case json::value_t::null:
    case json::value_t::discarded:
    case json::value_t::binary:
        out += "null";
        return;
    case json::value_t::boolean:
        out += v.get<bool>() ? "true" : "false";
        return;
    case json::value_t::number_integer:
        append_integer(out, v.get<std::int64_t>());
        return;
    case json::value_t::number_unsigned:
        append_integer(out, v.get<std::uint64_t>());
        return;
    case json::value_t::number_float:
        append_float(out, v.get<double>());
        return;
    case json::value_t::string:
        append_string(out, v.get_ref<const std::string&>());
        return;
    case json::value_t::array:
    case json::value_t::object:
        break;
    }
    if (depth >= max_json_depth) {
        out += "null";
        return;
    }
    const bool object = v.is_object();
    out += object ? '{' : '[';
    for (auto it = v.begin(); it != v.end(); ++it) {
        if (it != v.begin()) {
            out += ", ";
        }
        if (object) {
            append_string(out, it.key());
            out += ": ";
        }
        append_value(out, *it, depth + 1);
    }
    out += object ? '}' : ']';
}

} // namespace

std::size_t json_depth(std::string_view text, std::size_t limit)
{
    std::size_t depth = 0;
    std::size_t deepest = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') {
                ++i; // the escaped character cannot end the string
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        switch (c) {
        case '"': in_string = true; break;
        case '[':
        case '{':
            if (++depth > deepest) {
                deepest = depth;
                if (deepest > limit) {
                    return deepest;
                }
            }
            break;
        case ']':
        case '}':
            if (depth > 0) {
                --depth;
            }
            break;
        default: break;
        }
    }
    return deepest;
}

json_parse_result parse_json(std::string_view text, std::size_t max_depth)
{
    json_parse_result r;
    if (json_depth(text, max_depth) > max_depth) {
        r.error = json_error::too_deep;
        return r;
    }
    auto value = json::parse(text, nullptr, false);
    if (value.is_discarded()) {
        r.error = json_error::syntax;
        return r;
    }
    r.value = std::move(value);
    return r;
}

std::string_view to_string(json_error e)
{
    switch (e) {
    case json_error::none: return "valid JSON";
    case json_error::syntax: return "invalid JSON";
    case json_error::too_deep: return "JSON nested too deep";
    }
    return "?";
}

void serialize_to(std::string& out, const json& value) { append_value(out, value, 0); }

std::string serialize(const json& value)
{
    std::string out;
    out.reserve(128); // most messages fit: no reallocation while appending
    serialize_to(out, value);
    return out;
}

std::string python_float_repr(double value)
{
    std::string out;
    append_float(out, value);
    return out;
}

} // namespace aiot::common
