#include "request_handler.hpp"

#include "mime_types.hpp"
#include "page_config.hpp"
#include "url_path.hpp"

#include "common/text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <system_error>

namespace aiot::dashboard {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view html_type = "text/html; charset=utf-8";
constexpr std::string_view json_type = "application/json";
constexpr std::string_view revalidate = "no-cache";
constexpr std::string_view vendor_cache = "public, max-age=86400";

// The page loads its scripts, styles and data from this server only; images
// (logo, camera, map tiles) and the broker's websocket may be elsewhere.
constexpr std::string_view content_security_policy =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src * data: blob:; media-src *; connect-src 'self' ws: wss: http: https:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'self'";

std::string reason_phrase(unsigned status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 500: return "Internal Server Error";
    default: return "Error";
    }
}

std::uint64_t fnv1a(std::string_view data)
{
    std::uint64_t h = 1469598103934665603ull;
    for (const char c : data) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ull;
    }
    return h;
}

bool is_head(const request& req) { return req.method == "HEAD"; }

void add_common_headers(response& res)
{
    res.headers.emplace_back("Server", "aiot-dashboard");
    res.headers.emplace_back("X-Content-Type-Options", "nosniff");
}

void set_body(response& res, const request& req, std::string body)
{
    res.content_length = body.size();
    if (!is_head(req)) {
        res.body = std::move(body);
    }
}

response not_modified(std::string etag, std::string_view cache_control,
                      std::string last_modified)
{
    response res;
    res.status = 304;
    res.has_content_length = false;
    add_common_headers(res);
    res.headers.emplace_back("ETag", std::move(etag));
    res.headers.emplace_back("Cache-Control", std::string{cache_control});
    if (!last_modified.empty()) {
        res.headers.emplace_back("Last-Modified", std::move(last_modified));
    }
    return res;
}

std::string generated_etag(const std::string& body)
{
    return fmt::format("\"g{:x}-{:x}\"", fnv1a(body), body.size());
}

// Whether `is` holds for an item of a comma-separated header value
// (items trimmed, empty ones included).
template <class Predicate>
bool any_item(std::string_view list, Predicate is)
{
    for (;;) {
        const auto comma = list.find(',');
        if (is(common::trim(list.substr(0, comma)))) {
            return true;
        }
        if (comma == std::string_view::npos) {
            return false;
        }
        list.remove_prefix(comma + 1);
    }
}

// The page's own folders and the file types each may serve.
struct asset_folder {
    std::string_view name;
    std::initializer_list<std::string_view> extensions;
};
const asset_folder asset_folders[] = {
    {"css", {"css"}},
    {"js", {"js", "mjs"}},
    {"icons", {"svg", "png"}},
};

} // namespace

namespace detail {

std::string http_date(std::int64_t unix_seconds)
{
    const std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    const auto n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return std::string(buf, n);
}

std::int64_t parse_http_date(std::string_view text)
{
    const std::string copy{text};
    std::tm tm{};
    const char* end = strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == nullptr || *end != '\0') {
        return -1;
    }
    return static_cast<std::int64_t>(timegm(&tm));
}

bool etag_matches(std::string_view if_none_match, std::string_view etag)
{
    const auto strip_weak = [](std::string_view tag) {
        return tag.substr(0, 2) == "W/" ? tag.substr(2) : tag;
    };
    return any_item(if_none_match, [&](std::string_view item) {
        return item == "*" || (!item.empty() && strip_weak(item) == strip_weak(etag));
    });
}

bool accepts_gzip(std::string_view accept_encoding)
{
    return any_item(accept_encoding, [](std::string_view item) {
        const auto semi = item.find(';');
        const auto coding = common::ascii_lower(common::trim(item.substr(0, semi)));
        if (coding != "gzip" && coding != "*") {
            return false;
        }
        const auto params = semi == std::string_view::npos ? std::string_view{}
                                                            : common::trim(item.substr(semi + 1));
        if (params.size() < 2 || (params[0] != 'q' && params[0] != 'Q') || params[1] != '=') {
            return true;
        }
        const auto q = std::string{common::trim(params.substr(2))};
        char* end = nullptr;
        const double value = std::strtod(q.c_str(), &end);
        return end != q.c_str() && value > 0;
    });
}

} // namespace detail

std::string_view response::header(std::string_view name) const
{
    for (const auto& [key, value] : headers) {
        if (key == name) {
            return value;
        }
    }
    return {};
}

request_handler::request_handler(config cfg, std::shared_ptr<spdlog::logger> log)
    : cfg_(std::move(cfg)), log_(std::move(log))
{
    if (cfg_.static_path.empty()) {
        cfg_.static_path = default_static_path();
    }
    std::error_code ec;
    root_ = fs::canonical(cfg_.static_path, ec);
    if (ec || !fs::is_directory(root_, ec)) {
        throw std::runtime_error("web folder '" + cfg_.static_path.string() +
                                 "' is not a readable directory (--static-path)");
    }
    std::ifstream list(root_ / std::string{vendor_list});
    for (std::string line; std::getline(list, line);) {
        const auto item = common::trim(line);
        if (!item.empty() && item.front() != '#') {
            vendor_files_.emplace_back(item);
        }
    }
    std::sort(vendor_files_.begin(), vendor_files_.end());
    if (vendor_files_.empty()) {
        log_->warn("{} lists no front-end library: the page will have no map",
                   (root_ / std::string{vendor_list}).string());
    }
    reload();
}

bool request_handler::reload()
{
    config_json_ = page_config(cfg_).dump(2) + "\n";
    config_etag_ = generated_etag(config_json_);
    const auto file = root_ / "index.html";
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in || !inside_root(file)) {
        log_->error("no readable index.html in {}", root_.string());
        index_.clear();
        index_etag_.clear();
        return false;
    }
    index_ = render_index(text.str(), cfg_);
    index_etag_ = generated_etag(index_);
    log_->info("page rendered from {} ({} bytes)", file.string(), index_.size());
    return true;
}

bool request_handler::is_page_asset(const std::vector<std::string>& segs) const
{
    if (segs.size() == 1) {
        const auto ext = file_extension(segs[0]);
        return ext == "svg" || ext == "png" || ext == "ico";
    }
    if (segs[0] == "node_modules") {
        std::string path = segs[0];
        for (std::size_t i = 1; i < segs.size(); ++i) {
            path += '/';
            path += segs[i];
        }
        return std::binary_search(vendor_files_.begin(), vendor_files_.end(), path);
    }
    for (const auto& folder : asset_folders) {
        if (segs[0] == folder.name) {
            const auto ext = file_extension(segs.back());
            return std::find(folder.extensions.begin(), folder.extensions.end(), ext) !=
                   folder.extensions.end();
        }
    }
    return false;
}

response request_handler::handle(const request& req) const
{
    if (req.method != "GET" && req.method != "HEAD") {
        log_->debug("{} {}: method not allowed", common::printable(req.method), common::printable(req.target, 200));
        auto res = error(req, 405, "");
        res.headers.emplace_back("Allow", "GET, HEAD");
        return res;
    }
    const auto path = parse_url_path(req.target);
    if (path.status != path_status::ok) {
        log_->warn("refused {} {}: {}", req.method, common::printable(req.target, 200), path.reason);
        return error(req, path.status == path_status::forbidden ? 403 : 400, path.reason);
    }
    const auto& segs = path.segments;
    if (segs.empty() || (segs.size() == 1 && segs[0] == "index.html")) {
        if (index_.empty()) {
            log_->error("no readable index.html in {}", root_.string());
            return error(req, 404, "");
        }
        return serve_generated(req, index_, index_etag_, html_type);
    }
    if (segs.size() == 1 && segs[0] == "config.json") {
        return serve_generated(req, config_json_, config_etag_, json_type);
    }
    if (segs.size() == 2 && segs[0] == "_aiot") {
        const std::string& image = segs[1] == "logo"      ? cfg_.logo
                                   : segs[1] == "favicon" ? cfg_.favicon
                                                          : std::string{};
        if (!is_local_file(image)) {
            return error(req, 404, "");
        }
        return serve_file(req, image, revalidate);
    }
    if (!is_page_asset(segs)) {
        log_->debug("{} {}: not an asset of the page", req.method, common::printable(req.target, 200));
        return error(req, 404, "");
    }
    fs::path file = root_;
    for (const auto& s : segs) {
        file /= s;
    }
    std::error_code ec;
    if (!fs::is_regular_file(file, ec) || path.trailing_slash) {
        log_->debug("{} {}: not found", req.method, common::printable(req.target, 200));
        return error(req, 404, "");
    }
    if (!inside_root(file)) {
        log_->warn("refused {} {}: resolves outside the web folder", req.method,
                   common::printable(req.target, 200));
        return error(req, 403, "outside the web folder");
    }
    if (segs[0] != "node_modules") {
        return serve_file(req, file, revalidate);
    }
    // The big libraries: gzip-compressed copies made at install (file.gz,
    // not older than the file) are sent to clients that accept gzip.
    auto gz = file;
    gz += ".gz";
    std::error_code gz_ec;
    if (detail::accepts_gzip(req.accept_encoding) && fs::is_regular_file(gz, gz_ec) &&
        fs::last_write_time(gz, gz_ec) >= fs::last_write_time(file, gz_ec) && !gz_ec &&
        inside_root(gz)) {
        auto res = serve_file(req, gz, vendor_cache, "-gz");
        for (auto& [name, value] : res.headers) {
            if (name == "Content-Type") {
                value = std::string{mime_type(file.filename().string())};
            }
        }
        if (res.status == 200) {
            res.headers.emplace_back("Content-Encoding", "gzip");
        }
        res.headers.emplace_back("Vary", "Accept-Encoding");
        return res;
    }
    auto res = serve_file(req, file, vendor_cache);
    res.headers.emplace_back("Vary", "Accept-Encoding");
    return res;
}

bool request_handler::inside_root(const fs::path& file) const
{
    std::error_code ec;
    const auto real = fs::canonical(file, ec);
    if (ec) {
        return false;
    }
    auto r = root_.begin();
    auto f = real.begin();
    for (; r != root_.end(); ++r, ++f) {
        if (f == real.end() || *r != *f) {
            return false;
        }
    }
    return f != real.end();
}

response request_handler::serve_file(const request& req, const fs::path& path,
                                     std::string_view cache_control,
                                     std::string_view etag_suffix) const
{
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    const auto mtime = fs::last_write_time(path, ec);
    if (ec) {
        return error(req, 404, "");
    }
    const auto sys_time = std::chrono::file_clock::to_sys(mtime);
    const auto since_epoch = sys_time.time_since_epoch();
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
    const auto nanos =
        std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count();
    std::string etag =
        fmt::format("\"{:x}-{:x}{}\"", size, static_cast<std::uint64_t>(nanos), etag_suffix);
    std::string last_modified = detail::http_date(seconds);

    // If-Modified-Since counts only without If-None-Match; -1 if absent or invalid.
    const auto since = detail::parse_http_date(req.if_modified_since);
    if (req.if_none_match.empty() ? since >= 0 && seconds <= since
                                  : detail::etag_matches(req.if_none_match, etag)) {
        return not_modified(std::move(etag), cache_control, std::move(last_modified));
    }

    response res;
    add_common_headers(res);
    const auto type = mime_type(path.filename().string());
    res.headers.emplace_back("Content-Type", std::string{type});
    res.headers.emplace_back("ETag", std::move(etag));
    res.headers.emplace_back("Last-Modified", std::move(last_modified));
    res.headers.emplace_back("Cache-Control", std::string{cache_control});
    if (type == html_type) {
        res.headers.emplace_back("Content-Security-Policy", std::string{content_security_policy});
    }
    res.content_length = size;
    if (!is_head(req)) {
        res.file = path; // streamed by the server
    }
    return res;
}

response request_handler::serve_generated(const request& req, const std::string& body,
                                          const std::string& etag, std::string_view type) const
{
    if (!req.if_none_match.empty() && detail::etag_matches(req.if_none_match, etag)) {
        return not_modified(etag, revalidate, "");
    }
    response res;
    add_common_headers(res);
    res.headers.emplace_back("Content-Type", std::string{type});
    res.headers.emplace_back("ETag", etag);
    res.headers.emplace_back("Cache-Control", std::string{revalidate});
    if (type == html_type) {
        res.headers.emplace_back("Content-Security-Policy", std::string{content_security_policy});
    }
    set_body(res, req, body);
    return res;
}

response request_handler::error(const request& req, unsigned status, std::string_view text) const
{
    response res;
    res.status = status;
    add_common_headers(res);
    res.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
    res.headers.emplace_back("Cache-Control", "no-store");
    std::string body = std::to_string(status) + " " + reason_phrase(status);
    if (!text.empty()) {
        body += ": ";
        body += text;
    }
    body += "\n";
    set_body(res, req, std::move(body));
    return res;
}

} // namespace aiot::dashboard
