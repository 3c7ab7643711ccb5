#pragma once
// The dashboard's HTTP logic as a function from request to response, with no
// sockets: the page's own assets under the web root (nothing else: not its
// README, not package files), the index page rendered once (again on
// reload()), /config.json, and the local logo/favicon files. Files are not
// read here: the response names the file and the server streams it.
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
    std::string accept_encoding;
};

struct response {
    unsigned status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;                 // generated content; empty for HEAD, 304 and files
    std::filesystem::path file;       // a file to stream as the body (GET only)
    std::uint64_t content_length = 0; // what GET would send (set for HEAD too)
    bool has_content_length = true;   // false for 304

    // The value of a header, "" when absent (case-sensitive names).
    std::string_view header(std::string_view name) const;
};

class request_handler {
public:
    // The list of front-end library files served from node_modules/ (one
    // path a line, relative to the web root; `#` comments). The same list
    // tells scripts/install-deps what to precompress and CMake what to install.
    static constexpr std::string_view vendor_list = "vendor.list";

    request_handler(config cfg, std::shared_ptr<spdlog::logger> log);

    response handle(const request& req) const;

    // Renders index.html and the page options again (SIGHUP); false when
    // index.html cannot be read (the page then answers 404).
    bool reload();

    const std::filesystem::path& root() const { return root_; }

private:
    bool is_page_asset(const std::vector<std::string>& segments) const;
    response serve_file(const request& req, const std::filesystem::path& path,
                        std::string_view cache_control, std::string_view etag_suffix = "") const;
    response serve_generated(const request& req, const std::string& body, const std::string& etag,
                             std::string_view type) const;
    response error(const request& req, unsigned status, std::string_view text) const;
    bool inside_root(const std::filesystem::path& file) const;

    config cfg_;
    std::filesystem::path root_; // canonical
    std::shared_ptr<spdlog::logger> log_;
    std::vector<std::string> vendor_files_; // from vendor.list, sorted
    std::string index_;                     // rendered; empty: no index.html
    std::string index_etag_;
    std::string config_json_;
    std::string config_etag_;
};

// Helpers, exposed for tests.
namespace detail {
// RFC 7231 IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") of a Unix time.
std::string http_date(std::int64_t unix_seconds);
// Parses an IMF-fixdate; -1 when it is not one.
std::int64_t parse_http_date(std::string_view text);
// True when an If-None-Match value ("*", or a list of (weak) tags) matches.
bool etag_matches(std::string_view if_none_match, std::string_view etag);
// True when an Accept-Encoding value accepts gzip (gzip or *, q above 0).
bool accepts_gzip(std::string_view accept_encoding);
} // namespace detail

} // namespace aiot::dashboard
