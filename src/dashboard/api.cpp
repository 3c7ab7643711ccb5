#include "dashboard/api.hpp"

#include "dashboard/url_path.hpp"
#include "common/text.hpp"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

namespace aiot::dashboard::api {

namespace {

using nlohmann::json;

route fail(unsigned status, std::string message)
{
    route r;
    r.what = route::kind::error;
    r.status = status;
    r.message = std::move(message);
    return r;
}

int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Percent-decoding of a query value ('+' is a space); nullopt when an
// escape is broken.
std::optional<std::string> decode_query_value(std::string_view v)
{
    std::string out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '+') {
            out += ' ';
        } else if (v[i] == '%') {
            const int hi = i + 1 < v.size() ? hex_digit(v[i + 1]) : -1;
            const int lo = i + 2 < v.size() ? hex_digit(v[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                return std::nullopt;
            }
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += v[i];
        }
    }
    return out;
}

template <class T>
bool digits(std::string_view& s, std::size_t n, T& out)
{
    if (s.size() < n) {
        return false;
    }
    T v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    s.remove_prefix(n);
    return true;
}

bool expect(std::string_view& s, char c)
{
    if (s.empty() || s.front() != c) {
        return false;
    }
    s.remove_prefix(1);
    return true;
}

} // namespace

bool is_api(std::string_view target)
{
    return target == "/api" || target.starts_with("/api/") || target.starts_with("/api?");
}

std::optional<millis> parse_time(std::string_view text)
{
    if (text.empty()) {
        return std::nullopt;
    }
    if (text.find('-') == std::string_view::npos || text.front() == '-') {
        // Seconds since the epoch, decimals allowed.
        double seconds = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
        if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(seconds) ||
            std::fabs(seconds) > 1e13) {
            return std::nullopt;
        }
        return static_cast<millis>(std::llround(seconds * 1000.0));
    }
    int year = 0;
    unsigned month = 0, day = 0, hour = 0, minute = 0, second = 0;
    std::string_view s = text;
    if (!digits(s, 4, year) || !expect(s, '-') || !digits(s, 2, month) || !expect(s, '-') ||
        !digits(s, 2, day)) {
        return std::nullopt;
    }
    millis fraction = 0;
    millis offset = 0;
    if (!s.empty()) {
        if (s.front() != 'T' && s.front() != 't' && s.front() != ' ') {
            return std::nullopt;
        }
        s.remove_prefix(1);
        if (!digits(s, 2, hour) || !expect(s, ':') || !digits(s, 2, minute)) {
            return std::nullopt;
        }
        if (!s.empty() && s.front() == ':' && (s.remove_prefix(1), !digits(s, 2, second))) {
            return std::nullopt;
        }
        if (!s.empty() && (s.front() == '.' || s.front() == ',')) {
            s.remove_prefix(1);
            millis scale = 100;
            bool any = false;
            while (!s.empty() && s.front() >= '0' && s.front() <= '9') {
                fraction += (s.front() - '0') * scale;
                scale /= 10;
                any = true;
                s.remove_prefix(1);
            }
            if (!any) {
                return std::nullopt;
            }
        }
        if (!s.empty() && (s.front() == 'Z' || s.front() == 'z')) {
            s.remove_prefix(1);
        } else if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
            const int sign = s.front() == '+' ? 1 : -1;
            s.remove_prefix(1);
            unsigned oh = 0, om = 0;
            if (!digits(s, 2, oh)) {
                return std::nullopt;
            }
            if (!s.empty() && s.front() == ':') {
                s.remove_prefix(1);
            }
            if (!s.empty() && !digits(s, 2, om)) {
                return std::nullopt;
            }
            if (oh > 23 || om > 59) {
                return std::nullopt;
            }
            offset = sign * static_cast<millis>((oh * 60 + om) * 60'000);
        }
    }
    if (!s.empty() || hour > 23 || minute > 59 || second > 60) {
        return std::nullopt;
    }
    const std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{month},
                                          std::chrono::day{day}};
    if (!ymd.ok()) {
        return std::nullopt;
    }
    const auto days = std::chrono::sys_days{ymd}.time_since_epoch().count();
    return static_cast<millis>(days) * 86'400'000 +
           static_cast<millis>((hour * 60 + minute) * 60 + second) * 1000 + fraction - offset;
}

std::string iso_time(millis at)
{
    const auto day_count = static_cast<long>(std::floor(static_cast<double>(at) / 86'400'000.0));
    const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{day_count}}};
    millis rest = at - static_cast<millis>(day_count) * 86'400'000;
    const auto ms = rest % 1000;
    rest /= 1000;
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                  static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()), static_cast<long long>(rest / 3600),
                  static_cast<long long>(rest / 60 % 60), static_cast<long long>(rest % 60),
                  static_cast<long long>(ms));
    return buf;
}

route parse(std::string_view method, std::string_view target, std::string_view body, millis now)
{
    const auto parsed = parse_url_path(target);
    if (parsed.status != path_status::ok) {
        return fail(400, "bad path: " + parsed.reason);
    }
    const auto& seg = parsed.segments;
    if (seg.empty() || seg[0] != "api") {
        return fail(404, "not an API path");
    }
    const bool read = method == "GET" || method == "HEAD";
    route r;
    if (seg.size() == 2 && seg[1] == "nodes") {
        if (!read) {
            return fail(405, "/api/nodes answers GET");
        }
        r.what = route::kind::nodes;
        return r;
    }
    if (seg.size() < 3 || seg[1] != "nodes") {
        return fail(404, "no such API path (see docs/API.md: /api/nodes...)");
    }
    r.uid = seg[2];
    if (seg.size() == 3) {
        if (!read) {
            return fail(405, "/api/nodes/{uid} answers GET");
        }
        r.what = route::kind::node;
        return r;
    }
    r.resource = seg[3];
    if (seg.size() == 4) {
        if (method != "PUT") {
            return fail(405, "/api/nodes/{uid}/{resource} answers PUT");
        }
        const auto doc = json::parse(body, nullptr, false);
        if (doc.is_discarded() || !doc.is_object() || !doc.contains("value")) {
            return fail(400, "the body must be a JSON object with a \"value\", e.g. {\"value\": \"1\"}");
        }
        const auto& v = doc["value"];
        if (v.is_string()) {
            r.payload = v.get<std::string>();
        } else if (v.is_number() || v.is_boolean()) {
            r.payload = v.dump();
        } else {
            return fail(400, "\"value\" must be a string or a number");
        }
        r.what = route::kind::write;
        return r;
    }
    if (seg.size() != 5 || seg[4] != "history") {
        return fail(404, "no such API path (see docs/API.md)");
    }
    if (!read) {
        return fail(405, "history answers GET");
    }
    r.what = route::kind::history;
    r.since = 0;
    r.until = now;
    r.limit = default_limit;
    for (const auto& [name, raw] : common::query_items(target)) {
        const auto value = decode_query_value(raw);
        if (!value) {
            return fail(400, "bad escape in the value of " + std::string(name));
        }
        if (name == "since" || name == "until") {
            if (value->empty()) {
                continue;
            }
            const auto t = parse_time(*value);
            if (!t) {
                return fail(400, std::string(name) +
                                     " must be ISO-8601 (2026-12-06T07:00:00Z) or epoch seconds");
            }
            (name == "since" ? r.since : r.until) = *t;
        } else if (name == "limit") {
            std::size_t n = 0;
            const auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), n);
            if (ec != std::errc{} || end != value->data() + value->size() || n == 0 ||
                n > max_limit) {
                return fail(400, "limit must be a whole number from 1 to " +
                                     std::to_string(max_limit));
            }
            r.limit = n;
        } else {
            return fail(400, "unknown parameter " + std::string(name) +
                                 " (since, until and limit are known)");
        }
    }
    if (r.since > r.until) {
        return fail(400, "since is after until");
    }
    return r;
}

json node_json(const history::live_node& node)
{
    json resources = json::object();
    for (const auto& [name, r] : node.resources) {
        resources[name] = r.value;
    }
    json out = {{"uid", node.uid},
                {"key", node.key.empty() ? json(nullptr) : json(node.key)},
                {"protocol", node.protocol.empty() ? json(nullptr) : json(node.protocol)},
                {"first_seen", iso_time(node.first_seen)},
                {"last_seen", iso_time(node.last_seen)},
                {"resources", std::move(resources)}};
    return out;
}

json nodes_json(const history::recorder& recorder)
{
    json list = json::array();
    for (const auto& [uid, node] : recorder.nodes()) {
        list.push_back(node_json(node));
    }
    return {{"nodes", std::move(list)}};
}

json history_json(const route& r, std::string_view key, const std::vector<history::point>& points)
{
    json values = json::array();
    for (const auto& p : points) {
        values.push_back({{"time", iso_time(p.at)},
                          {"t", p.at},
                          {"value", p.number ? json(*p.number) : json(nullptr)},
                          {"text", p.text}});
    }
    return {{"uid", r.uid},
            {"key", key},
            {"resource", r.resource},
            {"since", iso_time(r.since)},
            {"until", iso_time(r.until)},
            {"limit", r.limit},
            {"values", std::move(values)}};
}

response json_answer(unsigned status, const json& body, bool head)
{
    response res;
    res.status = status;
    res.headers.emplace_back("Content-Type", "application/json");
    res.headers.emplace_back("Cache-Control", "no-store");
    res.headers.emplace_back("X-Content-Type-Options", "nosniff");
    auto text = body.dump(-1, ' ', false, json::error_handler_t::replace);
    text += '\n';
    res.content_length = text.size();
    if (!head) {
        res.body = std::move(text);
    }
    return res;
}

response error_answer(unsigned status, std::string_view message, bool head)
{
    return json_answer(status, {{"error", message}, {"status", status}}, head);
}

} // namespace aiot::dashboard::api
