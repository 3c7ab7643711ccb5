// mqtt-test-node: one or more simulated MQTT nodes for aiot-mqtt-gateway.
#include "common/logging.hpp"
#include "common/net.hpp"
#include "common/system.hpp"
#include "common/stop_signals.hpp"
#include "mqtt_test_node.hpp"

#include <CLI/CLI.hpp>

int main(int argc, char** argv)
{
    using namespace aiot;
    CLI::App app{"mqtt-test-node: simulated MQTT nodes (name, os, board, ip, led, temperature, "
                 "pressure) for aiot-mqtt-gateway"};
    app.option_defaults()->always_capture_default();
    gw::mqtt::client_config client;
    std::string node_id = "mqtt-node-" + common::make_uuid().substr(0, 6);
    int count = 1;
    double temperature_s = 5;
    double pressure_s = 10;
    double check_s = 30;
    bool debug = false;
    app.add_option("--mqtt-host", client.host, "MQTT broker host name or address");
    app.add_option("--mqtt-port", client.port, "MQTT broker port");
    app.add_option("--node-id", node_id, "Node id (with --nodes N: <node-id>-1 ... <node-id>-N)");
    app.add_option("--nodes", count, "Number of nodes to simulate")->check(CLI::Range(1, 100000));
    app.add_option("--temperature-interval", temperature_s, "Seconds between temperatures")
        ->check(CLI::PositiveNumber);
    app.add_option("--pressure-interval", pressure_s, "Seconds between pressures")
        ->check(CLI::PositiveNumber);
    app.add_option("--check-interval", check_s, "Seconds between node/check messages")
        ->check(CLI::PositiveNumber);
    app.add_flag("--debug", debug, "Log debug messages");
    CLI11_PARSE(app, argc, argv);

    utils::mqtt_test_node_config config;
    for (int i = 1; i <= count; ++i) {
        config.node_ids.push_back(count == 1 ? node_id : node_id + "-" + std::to_string(i));
    }
    const auto ms = [](double s) { return std::chrono::milliseconds(static_cast<long>(s * 1000)); };
    config.temperature_interval = ms(temperature_s);
    config.pressure_interval = ms(pressure_s);
    config.check_interval = ms(check_s);
    client.client_id = gw::mqtt::make_client_id("node");

    common::init_logging(debug);
    auto log = common::get_logger("mqtt-test-node");
    net::io_context ioc{1};
    utils::mqtt_test_node nodes(ioc, client, config, log);
    aiot::common::stop_signals signals(ioc, [&](int) { nodes.stop(); });
    nodes.start();
    ioc.run();
    log->info("stopped");
    return 0;
}
