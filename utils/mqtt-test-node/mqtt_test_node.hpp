#pragma once
// Simulated MQTT nodes (PROTOCOL.md section 5, node side), any number in
// one process over one MQTT connection: they check in on node/check,
// answer discovery and gateway/check, publish temperature and pressure
// periodically and follow LED writes. Runs on one io_context.
#include "gateways/mqtt/mqtt_client.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace aiot::utils {

struct mqtt_test_node_config {
    std::vector<std::string> node_ids;
    std::chrono::milliseconds temperature_interval{5000};
    std::chrono::milliseconds pressure_interval{10000};
    std::chrono::milliseconds check_interval{30000};
};

class mqtt_test_node {
public:
    mqtt_test_node(boost::asio::io_context& ioc, gw::mqtt::client_config client,
                   mqtt_test_node_config config, std::shared_ptr<spdlog::logger> log);
    ~mqtt_test_node();
    mqtt_test_node(const mqtt_test_node&) = delete;
    mqtt_test_node& operator=(const mqtt_test_node&) = delete;

    void start();
    void stop();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace aiot::utils
