#include "mime_types.hpp"

#include "common/text.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace aiot::dashboard {
namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 24> types{{
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"webmanifest", "application/manifest+json"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"xml", "application/xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"ico", "image/x-icon"},
    {"woff2", "font/woff2"},
    {"woff", "font/woff"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"wasm", "application/wasm"},
    {"pdf", "application/pdf"},
}};

} // namespace

std::string_view mime_type(std::string_view file_name)
{
    const auto ext = file_extension(file_name);
    const auto it = std::find_if(types.begin(), types.end(),
                                 [&](const auto& t) { return t.first == ext; });
    return it == types.end() ? std::string_view{"application/octet-stream"} : it->second;
}

std::string file_extension(std::string_view file_name)
{
    const auto slash = file_name.find_last_of('/');
    if (slash != std::string_view::npos) {
        file_name.remove_prefix(slash + 1);
    }
    const auto dot = file_name.rfind('.');
    if (dot == std::string_view::npos || dot == 0) {
        return {};
    }
    return common::ascii_lower(file_name.substr(dot + 1));
}

} // namespace aiot::dashboard
