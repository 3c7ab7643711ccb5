#include "payload.hpp"

#include "common/hex.hpp"
#include "common/text.hpp"

namespace aiot::gw::coap {

using common::has_control;
using common::trim;

namespace {

// Why a name (uid, resource) cannot be used, or empty if it can.
std::string name_problem(std::string_view what, std::string_view name)
{
    if (name.empty()) {
        return std::string("empty ") + std::string(what);
    }
    if (!common::valid_utf8(name)) {
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
