#pragma once
// How the page options reach the page: as JSON data (GET /config.json, and
// the same object embedded in index.html), never as markup.
#include "common/message.hpp"
#include "config.hpp"

#include <string>
#include <string_view>

namespace aiot::dashboard {

// A --logo / --favicon naming a local image file is served at these paths.
inline constexpr std::string_view logo_route = "/_aiot/logo";
inline constexpr std::string_view favicon_route = "/_aiot/favicon";

// True when `value` names an existing regular file (rather than a URL).
bool is_local_file(const std::string& value);

// {"title","logo","favicon","camera_url","map_api_key","map_tile_url",
//  "broker_host","broker_port","brokers","broker_ssl","version"}. Empty
// strings mean "not set". brokers: [{"host","port"}...], the list of
// --broker-host in the order the page tries them (empty when the text is
// refused); broker_host and broker_port: its first entry. The page maps a
// host "localhost" to its own host name, in every entry.
common::json page_config(const config& cfg);

// &, <, >, " and ' as character references.
std::string html_escape(std::string_view text);

// JSON text that is safe inside <script type="application/json">: <, > and
// & are written as \u escapes, so "</script>" cannot end the block.
std::string json_for_script(const common::json& value);

// Fills the index.html template: {{title}} and {{favicon}} (HTML-escaped)
// and {{config}} (json_for_script of page_config).
std::string render_index(std::string_view tmpl, const config& cfg);

} // namespace aiot::dashboard
