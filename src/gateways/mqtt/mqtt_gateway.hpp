#pragma once
// The MQTT gateway's adapter: wires an mqtt_client (Paho) and the topic
// logic (mqtt_logic) to the gateway_service. Everything runs on the
// service's io_context.
#include "gateways/core/fwd.hpp"
#include "gateways/core/run_gateway.hpp"
#include "gateways/mqtt/mqtt_client.hpp"
#include "gateways/mqtt/mqtt_logic.hpp"

#include <memory>

namespace aiot::gw {
class gateway_service;
}

namespace aiot::gw::mqtt {

struct mqtt_gateway_config {
    client_config client;
    logic_config logic;
};

class mqtt_gateway final : public gateway_adapter {
public:
    // Sets the service's on_write, on_node_expired and on_tick hooks (the
    // logic ticks with the service).
    mqtt_gateway(boost::asio::io_context& ioc, gateway_service& service, mqtt_gateway_config config,
                 std::shared_ptr<spdlog::logger> log);
    ~mqtt_gateway() override;
    mqtt_gateway(const mqtt_gateway&) = delete;
    mqtt_gateway& operator=(const mqtt_gateway&) = delete;

    void start() override;
    void stop() override;
    void add_metrics(common::metrics& registry, const std::string& prefix) override;

    const mqtt_logic& logic() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace aiot::gw::mqtt
