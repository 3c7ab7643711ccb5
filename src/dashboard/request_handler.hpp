#pragma once
// The dashboard's HTTP logic as a function from request to response, with no
// sockets (A2 request_handler): static files under the web root, the
// rendered index page, /config.json, and the local logo/favicon files.
#include "config.hpp"

#include <spdlog/logger.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aiot::dashboard {

struct request {
    std::string method; // "GET", "HEAD", ...
    std::string target; // origin-form, e.g. "/app.js?v=1"
    std::string if_none_match;
    std::string if_modified_since;
};

struct response {
    unsigned status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;                 // empty for HEAD and 304
    std::uint64_t content_length = 0; // what GET would send (set for HEAD too)
    bool has_content_length = true;   // false for 304

    // The value of a header, "" when absent (case-sensitive names).
    std::string_view header(std::string_view name) const;
};

class request_handler {
public:
    // Files larger than this are refused (500) rather than read.
    static constexpr std::uintmax_t max_file_size = 64u << 20;

    request_handler(config cfg, std::shared_ptr<spdlog::logger> log);

    response handle(const request& req) const;

    const std::filesystem::path& root() const { return root_; }

private:
    response serve_file(const request& req, const std::filesystem::path& path,
                        std::string_view cache_control) const;
    response serve_index(const request& req) const;
    response serve_generated(const request& req, std::string body, std::string_view type) const;
    response error(const request& req, unsigned status, std::string_view text) const;
    bool inside_root(const std::filesystem::path& file) const;

    config cfg_;
    std::filesystem::path root_; // canonical
    std::shared_ptr<spdlog::logger> log_;
};

// Helpers, exposed for tests.
namespace detail {
// RFC 7231 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") of a Unix time.
std::string http_date(std::int64_t unix_seconds);
// Parses an IMF-fixdate; -1 when it is not one.
std::int64_t parse_http_date(std::string_view text);
// True when an If-None-Match value ("*", or a list of (weak) tags) matches.
bool etag_matches(std::string_view if_none_match, std::string_view etag);
} // namespace detail

} // namespace aiot::dashboard
