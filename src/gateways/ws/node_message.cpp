#include "node_message.hpp"

#include "common/message.hpp"

#include <spdlog/fmt/fmt.h>

#include <algorithm>

namespace aiot::gw::ws {

namespace {

node_message invalid(std::string reason)
{
    node_message m;
    m.error = common::truncate_close_reason(reason);
    return m;
}

// A short excerpt of the offending text for the close reason.
std::string quote(std::string_view text)
{
    constexpr std::size_t max = 60;
    // A text frame is valid UTF-8 (the websocket layer checks): cut at a boundary.
    return text.size() <= max ? std::string(text)
                              : common::truncate_close_reason(text, max) + "...";
}

} // namespace

node_message parse_node_message(std::string_view text, std::size_t max_updates)
{
    const auto parsed = common::parse_json(text);
    if (!parsed || !parsed.value->is_object()) {
        return invalid(fmt::format("Invalid message '{}'.", quote(text)));
    }
    const auto& j = *parsed.value;
    const auto type = j.find("type");
    if (type == j.end() || !type->is_string()) {
        return invalid(fmt::format("Invalid message '{}'.", quote(text)));
    }
    if (type->get_ref<const std::string&>() != "update") {
        return invalid(fmt::format("Invalid message type '{}'.",
                                   quote(type->get_ref<const std::string&>())));
    }
    const auto data = j.find("data");
    if (data == j.end() || !data->is_object()) {
        return invalid("Invalid message: 'data' must be an object of resource values.");
    }
    node_message m;
    m.updates.reserve(std::min(data->size(), max_updates));
    for (const auto& [name, value] : data->items()) {
        if (m.updates.size() == max_updates) {
            ++m.skipped;
            continue;
        }
        m.updates.push_back({name, value});
    }
    return m;
}

std::string make_discover_request()
{
    return common::serialize(json{{"request", "discover"}});
}

std::string make_node_write(std::string_view endpoint, std::string_view payload)
{
    return common::serialize(json{{"endpoint", endpoint}, {"payload", payload}});
}

} // namespace aiot::gw::ws
