#pragma once
// The REST API's logic (docs/API.md), with no sockets and no clock: a
// request target and body become a route (what to do, with checked
// parameters) or an error; node tables and history points become JSON
// answers. The server carries them out: the live table is the recorder's,
// history queries run on the database thread, writes go to the broker.
#include "dashboard/history/recorder.hpp"
#include "dashboard/history/store.hpp"
#include "dashboard/request_handler.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::dashboard::api {

using history::millis;

constexpr std::size_t default_limit = 1000;
constexpr std::size_t max_limit = 100'000;

struct route {
    enum class kind { nodes, node, history, write, error };
    kind what = kind::error;
    std::string uid;
    std::string resource;
    // history
    millis since = 0;
    millis until = 0;
    std::size_t limit = default_limit;
    // write: the payload to send (a JSON string's text, or a number as text)
    std::string payload;
    // error
    unsigned status = 0;
    std::string message;
};

// Whether the target is the API's (under /api/, or /api itself).
bool is_api(std::string_view target);

// method: "GET", "HEAD", "PUT"...; now: the default `until`.
route parse(std::string_view method, std::string_view target, std::string_view body, millis now);

// "2026-12-06T07:00:00Z", "2026-12-06T08:00:00.250+01:00", "2026-12-06"
// (midnight UTC), or seconds since the epoch ("1765004400", "1765004400.5").
std::optional<millis> parse_time(std::string_view text);
// "2026-12-06T07:00:00.000Z".
std::string iso_time(millis at);

nlohmann::json node_json(const history::live_node& node);
nlohmann::json nodes_json(const history::recorder& recorder);
nlohmann::json history_json(const route& r, std::string_view key,
                            const std::vector<history::point>& points);

// A JSON answer (with HEAD, the body is left out but counted).
response json_answer(unsigned status, const nlohmann::json& body, bool head = false);
// {"error": message, "status": status}.
response error_answer(unsigned status, std::string_view message, bool head = false);

} // namespace aiot::dashboard::api
