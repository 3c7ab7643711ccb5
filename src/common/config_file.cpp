#include "config_file.hpp"

#include "common/text.hpp"

#include <cctype>

namespace aiot::common {
namespace {

bool is_identifier(std::string_view s)
{
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) {
        return false;
    }
    for (const char c : s) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
            return false;
        }
    }
    return true;
}

// Reads a quoted string starting at s[0] (the quote); returns the decoded
// text and sets `rest` to what follows the closing quote.
std::optional<std::string> read_string(std::string_view s, std::string_view& rest)
{
    const char quote = s[0];
    std::string out;
    for (std::size_t i = 1; i < s.size(); ++i) {
        const char c = s[i];
        if (c == quote) {
            rest = s.substr(i + 1);
            return out;
        }
        if (c == '\\' && i + 1 < s.size()) {
            const char e = s[++i];
            switch (e) {
            case 'n': out += '\n'; break;
            case 't': out += '\t'; break;
            case 'r': out += '\r'; break;
            case '\\': case '\'': case '"': out += e; break;
            default: out += '\\'; out += e; break;
            }
            continue;
        }
        out += c;
    }
    return std::nullopt;
}

bool is_number(std::string_view s)
{
    if (s.empty()) {
        return false;
    }
    std::size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    bool digits = false;
    bool dot = false;
    for (; i < s.size(); ++i) {
        if (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '_') {
            digits = digits || s[i] != '_';
        } else if (s[i] == '.' && !dot) {
            dot = true;
        } else {
            return false;
        }
    }
    return digits;
}

} // namespace

std::vector<config_entry> parse_config(std::string_view text, const std::string& origin)
{
    std::vector<config_entry> entries;
    int line_no = 0;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        auto line = trim(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        ++line_no;
        const auto fail = [&](const std::string& what) {
            return config_error(origin + ":" + std::to_string(line_no) + ": " + what);
        };
        if (line.empty() || line[0] == '#') {
            continue;
        }
        const auto eq = line.find('=');
        if (eq == std::string_view::npos) {
            throw fail("expected 'name = value'");
        }
        const auto name = trim(line.substr(0, eq));
        if (!is_identifier(name)) {
            throw fail("'" + std::string(name) + "' is not an option name");
        }
        auto raw = trim(line.substr(eq + 1));
        config_entry entry{std::string(name), std::nullopt, line_no};
        std::string_view rest;
        if (!raw.empty() && (raw[0] == '\'' || raw[0] == '"')) {
            auto s = read_string(raw, rest);
            if (!s) {
                throw fail("unterminated string");
            }
            entry.value = std::move(*s);
        } else {
            const auto hash = raw.find('#');
            rest = hash == std::string_view::npos ? std::string_view{} : raw.substr(hash);
            raw = trim(raw.substr(0, hash));
            if (raw == "None") {
                entry.value = std::nullopt;
            } else if (raw == "True") {
                entry.value = "true";
            } else if (raw == "False") {
                entry.value = "false";
            } else if (is_number(raw)) {
                std::string v;
                for (const char c : raw) {
                    if (c != '_') {
                        v += c;
                    }
                }
                entry.value = v;
            } else {
                throw fail("cannot read value '" + std::string(raw) +
                           "' (use 'text', a number, True, False or None)");
            }
        }
        rest = trim(rest);
        if (!rest.empty() && rest[0] != '#') {
            throw fail("unexpected text after the value: '" + std::string(rest) + "'");
        }
        entries.push_back(std::move(entry));
    }
    return entries;
}

} // namespace aiot::common
