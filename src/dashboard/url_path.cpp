#include "url_path.hpp"

#include "common/hex.hpp"


namespace aiot::dashboard {
namespace {

url_path refuse(path_status status, std::string reason)
{
    url_path result;
    result.status = status;
    result.reason = std::move(reason);
    return result;
}

// Decodes one segment; on failure sets `out` to the refusal.
bool decode_segment(std::string_view raw, std::string& decoded, url_path& out)
{
    decoded.clear();
    for (std::size_t i = 0; i < raw.size(); ++i) {
        char c = raw[i];
        if (c == '%') {
            const int hi = i + 1 < raw.size() ? common::hex_digit(raw[i + 1]) : -1;
            const int lo = i + 2 < raw.size() ? common::hex_digit(raw[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                out = refuse(path_status::bad_request, "bad percent escape");
                return false;
            }
            c = static_cast<char>(hi * 16 + lo);
            if (c == '/' || c == '\\') {
                out = refuse(path_status::forbidden, "encoded slash");
                return false;
            }
            i += 2;
        }
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) {
            out = refuse(path_status::bad_request, byte == 0 ? "NUL byte" : "control byte");
            return false;
        }
        if (c == '\\') {
            out = refuse(path_status::forbidden, "backslash");
            return false;
        }
        decoded.push_back(c);
    }
    return true;
}

} // namespace

url_path parse_url_path(std::string_view target)
{
    if (target.empty() || target.front() != '/') {
        return refuse(path_status::bad_request, "target is not an absolute path");
    }
    const auto end = target.find_first_of("?#");
    const std::string_view path = target.substr(0, end);

    url_path result;
    result.trailing_slash = path.size() > 1 && path.back() == '/';
    std::string decoded;
    std::size_t pos = 1;
    while (pos <= path.size()) {
        auto next = path.find('/', pos);
        if (next == std::string_view::npos) {
            next = path.size();
        }
        const auto raw = path.substr(pos, next - pos);
        pos = next + 1;
        if (raw.empty()) {
            continue; // "//" collapses: never an absolute file path
        }
        if (!decode_segment(raw, decoded, result)) {
            return result;
        }
        if (decoded == "." || decoded == "..") {
            return refuse(path_status::forbidden, "dot segment");
        }
        if (decoded.front() == '.') {
            return refuse(path_status::forbidden, "hidden name");
        }
        result.segments.push_back(decoded);
    }
    return result;
}

} // namespace aiot::dashboard
