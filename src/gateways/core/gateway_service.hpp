#pragma once
// The one object a gateway main creates: the gateway core, the broker
// uplink and the 1-second tick, on the daemon's io_context. The protocol
// adapter reports its nodes through apply() (the node events its sans-I/O
// logic returned) or add_node/set_resource/remove_node, and gets write
// requests and expired nodes through on_write/on_node_expired. Those two
// are called only from the service's own events (a broker message, the
// tick), never from inside apply() or add_node(): an adapter is never
// re-entered. Call everything on the io_context's thread.
#include "gateways/core/fwd.hpp"
#include "gateways/core/gateway_core.hpp"
#include "gateways/core/gateway_options.hpp"
#include "gateways/core/node_event.hpp"

#include <functional>
#include <memory>
#include <type_traits>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::common {
class metrics;
}

namespace aiot::gw {

class gateway_service {
public:
    // Loads the key file (throws common::key_error with a one-line message).
    // protocol: the `protocol` resource of every node ("CoAP", "MQTT",
    // "WebSocket"). A null logger means get_logger("gw").
    gateway_service(boost::asio::io_context& ioc, const gateway_config& config,
                    std::string protocol, std::shared_ptr<spdlog::logger> log);
    ~gateway_service();
    gateway_service(const gateway_service&) = delete;
    gateway_service& operator=(const gateway_service&) = delete;

    // Hooks for the adapter (set them before start()).
    // A web client asked to write to one of our nodes.
    void on_write(std::function<void(const write_command&)> handler);
    // A node was removed for silence (max_time): forget its protocol state.
    // Not called for remove_node().
    void on_node_expired(std::function<void(const std::string& uid)> handler);
    // The broker uplink wrote everything it had queued (or lost the
    // connection, which empties the queue): input held for a backlog can
    // be taken again.
    void on_broker_drained(std::function<void()> handler);
    // Counts messages to the broker, writes and expiries in `registry`,
    // named <prefix>messages_sent_total... (the registry must outlive the
    // service).
    void set_metrics(common::metrics& registry, const std::string& prefix);
    // The service's periodic tick (tick_interval), after the core's: the
    // adapter's own periodic work, so a gateway has one tick.
    void on_tick(std::function<void(time_point now)> handler);

    // Connects to the broker (retrying forever) and starts the tick.
    void start();
    // Closes the broker connection and stops the tick, so run() can return.
    void stop();

    // Adapter -> core (see gateway_core for the messages each one sends).
    // Applies the events in order; returns their statuses in that order.
    std::vector<registry_status> apply(std::vector<node_event> events);
    registry_status add_node(std::string_view uid, const std::vector<resource>& initial = {});
    registry_status set_resource(std::string_view uid, std::string_view name, json value);
    bool remove_node(std::string_view uid);

    const node* find(std::string_view uid) const;
    const node_registry& nodes() const;
    bool broker_connected() const;
    // Messages for the broker not written yet: an adapter may stop taking
    // input while it is high, until on_broker_drained.
    std::size_t broker_backlog() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// Applies a logic's node events through the service and hands the statuses
// back, until the logic decides no more (Logic: take_node_events() and
// applied(statuses), as mqtt_logic). Where applied() returns an optional
// (coap_logic: the reply that replaces the one to the request being
// handled), the last engaged one is returned.
template <class Logic>
auto settle(gateway_service& service, Logic& logic)
{
    using result = decltype(logic.applied(service.apply(logic.take_node_events())));
    if constexpr (std::is_void_v<result>) {
        for (auto events = logic.take_node_events(); !events.empty();
             events = logic.take_node_events()) {
            logic.applied(service.apply(std::move(events)));
        }
    } else {
        result last;
        for (auto events = logic.take_node_events(); !events.empty();
             events = logic.take_node_events()) {
            if (auto r = logic.applied(service.apply(std::move(events)))) {
                last = std::move(r);
            }
        }
        return last;
    }
}

} // namespace aiot::gw
