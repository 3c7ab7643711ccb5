#pragma once
// aiot-mqtt-gateway's MQTT-SN side (--mqttsn-port): a UDP socket (IPv6 and
// IPv4 on one dual-stack socket) carrying MQTT-SN v1.2 packets to an
// mqttsn_logic, whose clients' publishes go to the MQTT topic logic
// (mqtt_logic: the same node/..., gateway/... topics as MQTT nodes), and
// whose publishes for the clients go back to UDP. Its nodes have the
// resource protocol "MQTT-SN": they are announced through a broker
// connection of their own (a gateway_service with that protocol), in the
// same daemon, on the same io_context.
#include "gateways/core/gateway_options.hpp"
#include "gateways/core/run_gateway.hpp"
#include "gateways/mqtt/mqtt_logic.hpp"
#include "gateways/mqtt/mqttsn_logic.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace aiot::gw::mqtt {

struct mqttsn_gateway_config {
    std::uint16_t port = 0;          // --mqttsn-port; 0: no MQTT-SN
    std::string bind_address = "::"; // --mqttsn-bind; "::" takes IPv4 too
    mqttsn::logic_config sn;
    logic_config topics;
    gateway_config gateway; // broker, keys, max_time of the MQTT-SN nodes' uplink
};

class mqttsn_gateway final : public gateway_adapter {
public:
    mqttsn_gateway(boost::asio::io_context& ioc, mqttsn_gateway_config config,
                   std::shared_ptr<spdlog::logger> log = nullptr);
    ~mqttsn_gateway() override;
    mqttsn_gateway(const mqttsn_gateway&) = delete;
    mqttsn_gateway& operator=(const mqttsn_gateway&) = delete;

    // Binds the UDP port (throws if it cannot) and connects to the broker.
    void start() override;
    void stop() override;

    // The UDP port bound (useful with port 0 in tests... once started).
    std::uint16_t local_port() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// Several adapters started and stopped as one (for run_gateway).
class adapter_list final : public gateway_adapter {
public:
    void add(std::unique_ptr<gateway_adapter> a) { adapters_.push_back(std::move(a)); }
    void start() override
    {
        for (auto& a : adapters_) {
            a->start();
        }
    }
    void stop() override
    {
        for (auto& a : adapters_) {
            a->stop();
        }
    }
    void add_metrics(common::metrics& registry, const std::string& prefix) override
    {
        for (auto& a : adapters_) {
            a->add_metrics(registry, prefix);
        }
    }

private:
    std::vector<std::unique_ptr<gateway_adapter>> adapters_;
};

} // namespace aiot::gw::mqtt
