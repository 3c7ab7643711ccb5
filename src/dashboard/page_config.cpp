#include "page_config.hpp"

#include <filesystem>
#include <utility>
#include <system_error>

namespace aiot::dashboard {
namespace {

std::string image_url(const std::string& value, std::string_view route,
                      std::string_view fallback)
{
    if (value.empty()) {
        return std::string{fallback};
    }
    return is_local_file(value) ? std::string{route} : value;
}

} // namespace

bool is_local_file(const std::string& value)
{
    if (value.empty() || value.find("://") != std::string::npos) {
        return false;
    }
    std::error_code ec;
    return std::filesystem::is_regular_file(value, ec);
}

common::json page_config(const config& cfg)
{
    // The list of --broker-host; the first entry also as broker_host and
    // broker_port (a page from before lists reads those).
    auto list = common::parse_broker_list(cfg.common.broker_host, cfg.common.broker_port);
    auto brokers = common::json::array();
    for (const auto& b : list.brokers) {
        brokers.push_back({{"host", b.host}, {"port", b.port}});
    }
    const bool listed = !list.brokers.empty();
    return {
        {"title", cfg.title},
        {"logo", image_url(cfg.logo, logo_route, "")},
        {"favicon", image_url(cfg.favicon, favicon_route, "favicon.svg")},
        {"camera_url", cfg.camera_url},
        {"map_api_key", cfg.map_api_key},
        {"map_tile_url", cfg.map_tile_url == "none" ? std::string{} : cfg.map_tile_url},
        {"broker_host", listed ? list.brokers.front().host : cfg.common.broker_host},
        {"broker_port", listed ? list.brokers.front().port : cfg.common.broker_port},
        {"brokers", std::move(brokers)},
        {"broker_ssl", cfg.broker_ssl},
        {"version", AIOT_VERSION},
    };
}

std::string html_escape(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

std::string json_for_script(const common::json& value)
{
    // '<', '>' and '&' only occur inside JSON strings, where \u escapes
    // stand for the same characters.
    const std::string text = common::serialize(value);
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
        case '<': out += "\\u003c"; break;
        case '>': out += "\\u003e"; break;
        case '&': out += "\\u0026"; break;
        default: out += c;
        }
    }
    return out;
}

std::string render_index(std::string_view tmpl, const config& cfg)
{
    const auto data = page_config(cfg);
    const std::pair<std::string_view, std::string> values[] = {
        {"{{title}}", html_escape(cfg.title)},
        {"{{favicon}}", html_escape(data.at("favicon").get<std::string>())},
        {"{{config}}", json_for_script(data)},
    };
    // One pass: substituted text is never scanned again.
    std::string page;
    page.reserve(tmpl.size() + 1024);
    std::size_t pos = 0;
    while (pos < tmpl.size()) {
        const auto open = tmpl.find("{{", pos);
        if (open == std::string_view::npos) {
            break;
        }
        page.append(tmpl.substr(pos, open - pos));
        pos = open + 2;
        bool matched = false;
        for (const auto& [name, text] : values) {
            if (tmpl.substr(open, name.size()) == name) {
                page += text;
                pos = open + name.size();
                matched = true;
                break;
            }
        }
        if (!matched) {
            page += "{{";
        }
    }
    if (pos < tmpl.size()) {
        page.append(tmpl.substr(pos));
    }
    return page;
}

} // namespace aiot::dashboard
