#pragma once
// What the dashboard's own broker connection sees, turned into history rows
// and a live table of nodes (for the REST API). No I/O and no clock: the
// caller passes each parsed broker message with the time it arrived.
//
// A node's stable key (its name in the history, so that a series survives
// a gateway restart, which gives MQTT and websocket nodes a new uid):
//   CoAP:      "coap:<uid>"  (the node's own uid, stable across reboots);
//   MQTT:      "mqtt:<id>"   (the resource `id`, the node's MQTT node id);
//   WebSocket: "ws:<name>"   (the resource `name`, when the node has one);
//   otherwise  "uid:<uid>"   (the broker's uid: history per connection).
// Until the key is known a node's values wait (at most pending_limit of
// them, and at most key_wait): then "uid:<uid>" is taken. A key, once
// chosen, stays for that uid.
#include "dashboard/history/store.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::dashboard::history {

struct live_resource {
    nlohmann::json value;
    millis at = 0;
};

struct live_node {
    std::string uid;
    std::string key; // empty until chosen
    std::string protocol;
    millis first_seen = 0;
    millis last_seen = 0;
    std::map<std::string, live_resource, std::less<>> resources;
    std::vector<sample> pending; // values waiting for the key
};

struct batch {
    std::vector<sample> samples;
    std::vector<event> events;
    bool empty() const { return samples.empty() && events.empty(); }
    std::size_t size() const { return samples.size() + events.size(); }
};

class recorder {
public:
    static constexpr std::size_t pending_limit = 64;
    static constexpr millis key_wait = 5000;
    static constexpr std::size_t max_nodes = 100'000;
    static constexpr std::size_t max_resources = 256; // per node
    static constexpr std::size_t max_text = 16 * 1024; // bytes of one value kept

    // One message from the broker (already parsed). Returns a reason when
    // it is not something a web client should receive (logged by the
    // caller); the message is then ignored.
    std::optional<std::string> on_message(const nlohmann::json& message, millis now);
    // Waiting values of nodes whose key did not come in key_wait.
    void tick(millis now);
    // The broker connection is gone: the live table empties (the next
    // connection brings a new snapshot); values already seen stay recorded.
    void on_disconnect();

    // Rows made since the last call.
    batch take();
    std::size_t pending_rows() const { return out_.size(); }

    const live_node* find(std::string_view uid) const;
    const std::map<std::string, live_node, std::less<>>& nodes() const { return nodes_; }
    // Values dropped because a bound was reached.
    std::uint64_t dropped() const { return dropped_; }

    // The key rule above, given what is known of a node (nullopt: wait).
    static std::optional<std::string> key_for(const live_node& node);

private:
    void record(live_node& node, std::string_view resource, const nlohmann::json& value,
                millis now);
    void settle_key(live_node& node, bool force);

    std::map<std::string, live_node, std::less<>> nodes_;
    batch out_;
    std::uint64_t dropped_ = 0;
};

// A value as stored: a JSON string's text, anything else as compact JSON.
std::string value_text(const nlohmann::json& value);

} // namespace aiot::dashboard::history
