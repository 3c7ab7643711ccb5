#pragma once
// The one object a gateway main creates: the gateway core, the broker
// uplink and the 1-second tick, on the daemon's io_context. The protocol
// adapter reports its nodes through add_node/set_resource/touch/
// reset_node/remove_node and gets write requests and expired nodes through
// on_write/on_node_expired. Call everything on the io_context's thread.
// It is the node_sink an adapter's sans-I/O logic talks to.
#include "gateways/core/fwd.hpp"
#include "gateways/core/gateway_core.hpp"
#include "gateways/core/gateway_options.hpp"
#include "gateways/core/node_sink.hpp"

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::gw {

class gateway_service : public node_sink {
public:
    // Loads the key file (throws common::key_error with a one-line message).
    // protocol: the `protocol` resource of every node ("CoAP", "MQTT",
    // "WebSocket"). A null logger means get_logger("gw").
    gateway_service(boost::asio::io_context& ioc, const gateway_config& config,
                    std::string protocol, std::shared_ptr<spdlog::logger> log);
    ~gateway_service() override;
    gateway_service(const gateway_service&) = delete;
    gateway_service& operator=(const gateway_service&) = delete;

    // Hooks for the adapter (set them before start()).
    // A web client asked to write to one of our nodes.
    void on_write(std::function<void(const write_command&)> handler);
    // A node was removed for silence (max_time): forget its protocol state.
    // Not called for remove_node().
    void on_node_expired(std::function<void(const std::string& uid)> handler);

    // Connects to the broker (retrying forever) and starts the tick.
    void start();
    // Closes the broker connection and stops the tick, so run() can return.
    void stop();

    // Adapter -> core (see gateway_core for the messages each one sends).
    registry_status add_node(std::string_view uid,
                             const std::vector<resource>& initial = {}) override;
    registry_status set_resource(std::string_view uid, std::string_view name,
                                 json value) override;
    registry_status touch(std::string_view uid) override;
    registry_status reset_node(std::string_view uid,
                               const std::vector<std::string>& keep = {}) override;
    bool remove_node(std::string_view uid) override;
    registry_status bind_key(std::string_view uid, std::string_view key);

    const node* find(std::string_view uid) const;
    const node* find_by_key(std::string_view key) const;
    const node_registry& nodes() const;
    bool broker_connected() const;
    // Messages for the broker not written yet: an adapter may stop taking
    // input while it is high (the uplink writes one message per turn of the
    // io_context).
    std::size_t broker_backlog() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace aiot::gw
