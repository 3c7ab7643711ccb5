#pragma once
// The protocol-independent gateway logic (PROTOCOL.md section 3), sans-I/O.
// Events go in (adapter: node_added, resource_changed, ...; broker:
// broker_connected, broker_message, ...; time: tick). Decisions come out as
// data through take_output(): texts for the broker, write commands for the
// adapter, and the uids of expired nodes. Single-threaded; no clock reads.
#include "gateways/core/fwd.hpp"
#include "gateways/core/node_event.hpp"
#include "gateways/core/node_registry.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::gw {

// A web client asked to act on a node this gateway owns.
struct write_command {
    std::string uid;
    std::string endpoint;
    std::string payload; // text (a JSON string as is, other values serialised)
    std::string src;     // the client id the broker added (may be empty)
};

struct core_output {
    std::vector<std::string> to_broker; // serialised JSON messages, in send order
    std::vector<write_command> writes;  // for the protocol adapter
    std::vector<std::string> expired;   // uids removed by tick(): drop protocol state

    bool empty() const { return to_broker.empty() && writes.empty() && expired.empty(); }
};

struct core_config {
    std::string protocol;                        // "CoAP", "MQTT", "WebSocket"
    std::chrono::seconds max_time{120};          // zero: nodes never expire
    std::chrono::seconds keepalive_interval{30}; // zero: no keep-alive
    registry_limits limits{};
};

class gateway_core {
public:
    // A null logger means get_logger("gw").
    gateway_core(core_config config, std::shared_ptr<spdlog::logger> log);

    // --- adapter events -------------------------------------------------
    // A new node: `protocol` first, then `initial` resources; announces
    // `new` then one `update` per resource. A refused initial resource is
    // skipped (logged); a resource named `protocol` is ignored.
    // exists: nothing changes (use touch/resource_changed).
    registry_status node_added(std::string_view uid, time_point now,
                               const std::vector<resource>& initial = {});
    // Stores the value, refreshes last-seen and sends `update`. Always
    // forwarded, even if unchanged (the dashboard charts every value).
    registry_status resource_changed(std::string_view uid, std::string_view name, json value,
                                     time_point now);
    // Refreshes last-seen.
    registry_status node_seen(std::string_view uid, time_point now);
    // The node rebooted: drops its resources except `protocol` and `keep`,
    // refreshes last-seen and sends `reset`.
    registry_status node_reset(std::string_view uid, time_point now,
                               const std::vector<std::string>& keep = {});
    // The adapter dropped the node (e.g. websocket closed): sends `out`.
    bool node_removed(std::string_view uid);
    // One of the above, as an adapter's logic returned it (node_event.hpp);
    // remove answers ok or unknown_node.
    registry_status apply(const node_event& e, time_point now);

    // --- broker events --------------------------------------------------
    // Re-announces every node (`new` dst all, then its resources), and
    // restarts the keep-alive cadence from `now`.
    void broker_connected(time_point now);
    // Until the next broker_connected, broker messages are dropped.
    void broker_disconnected();
    // A text from the broker: `new` with src C replays the cache to C; an
    // `update` write request for one of our nodes becomes a write_command;
    // anything else is ignored (logged).
    void broker_message(std::string_view text);

    // --- time -----------------------------------------------------------
    // Call about every second: expires nodes silent for more than max_time
    // (`out` + expired), sends the keep-alive when due.
    void tick(time_point now);

    // Everything decided since the last call.
    core_output take_output();

    const node_registry& registry() const { return registry_; }
    const core_config& config() const { return config_; }
    bool broker_connected() const { return connected_; }

private:
    void to_broker(const json& message);
    void announce(const node& n, std::string_view dst);
    void refused(std::string_view what, std::string_view uid, registry_status s) const;

    core_config config_;
    std::shared_ptr<spdlog::logger> log_;
    node_registry registry_;
    core_output out_;
    bool connected_ = false;
    time_point next_keepalive_{};
};

} // namespace aiot::gw
