#pragma once
// The websocket node gateway's server (PROTOCOL.md section 6): nodes
// connect to ws://<host>:<port>/node; each connection is one node of the
// gateway_service (new on open, updates from its messages, out on close);
// web clients' writes go to the node as {"endpoint","payload"}. Any other
// path: 404. Invalid messages close with 1003, oversized ones with 1009; a
// node that does not read its writes is closed with 1013. No Beast here:
// it lives in ws_node_server.cpp.
#include "gateways/core/fwd.hpp"
#include "gateways/core/run_gateway.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace aiot::gw {
class gateway_service;
}

namespace aiot::gw::ws {

namespace detail {
class node_hub;
}

struct server_config {
    std::string bind_address = "::"; // "::" falls back to 0.0.0.0 without IPv6
    std::uint16_t port = 8001;       // 0: any free port (see port())
    std::size_t max_message_bytes = 64 * 1024;
    std::size_t max_connections = 10000;
    std::size_t max_connections_per_address = 100; // 0: no limit
    std::size_t max_queued_messages = 256; // writes waiting for one node
    std::size_t max_queued_bytes = 1u << 20;
    std::size_t max_updates_per_message = 64;
    std::chrono::seconds handshake_timeout{10}; // HTTP request and upgrade
    // A close (queue full, bad message...) waits for the write in flight
    // and the node's answer at most this long; then the socket is closed.
    // A node that stopped reading would otherwise hold its connection,
    // and a stopping gateway, forever.
    std::chrono::milliseconds close_timeout{2000};
    std::chrono::milliseconds shutdown_close_timeout{200}; // the same, on stop()
};

class ws_node_server final : public gateway_adapter {
public:
    // Sets the service's on_write hook.
    ws_node_server(boost::asio::io_context& ioc, gateway_service& service, server_config config,
                   std::shared_ptr<spdlog::logger> log);
    ~ws_node_server() override;
    ws_node_server(const ws_node_server&) = delete;
    ws_node_server& operator=(const ws_node_server&) = delete;

    // Listens; throws std::runtime_error naming the address on failure.
    void start() override;
    // Stops accepting and closes every connection (going away).
    void stop() override;
    void add_metrics(common::metrics& registry, const std::string& prefix) override;

    std::uint16_t port() const;
    std::size_t connection_count() const;

private:
    std::shared_ptr<detail::node_hub> hub_;
};

} // namespace aiot::gw::ws
