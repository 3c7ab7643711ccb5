// aiot-mqtt-gateway: MQTT nodes (through an MQTT broker such as mosquitto)
// to the aiot broker (PROTOCOL.md sections 3 and 5).
#include "common/cli.hpp"
#include "common/logging.hpp"
#include "gateways/core/run_gateway.hpp"
#include "gateways/mqtt/mqtt_gateway.hpp"
#include "gateways/mqtt/mqttsn_gateway.hpp"

#include <CLI/CLI.hpp>

int main(int argc, char** argv)
{
    using namespace aiot;
    CLI::App app{"aiot-mqtt-gateway: bridges MQTT nodes, through an MQTT broker, to the aiot "
                 "broker"};
    gw::gateway_config config;
    gw::mqtt::mqtt_gateway_config mqtt;
    gw::add_gateway_options(app, config, "aiot-mqtt-gateway");
    app.add_option("--mqtt-host", mqtt.client.host, "MQTT broker host name or address");
    app.add_option("--mqtt-port", mqtt.client.port, "MQTT broker port");
    auto* ssl = app.add_flag("--mqtt-ssl", mqtt.client.tls.enabled,
                             "Reach the MQTT broker over TLS (1.2 or later; the port stays "
                             "--mqtt-port, e.g. 8883 for mosquitto's usual TLS listener)");
    app.add_option("--mqtt-ca", mqtt.client.tls.ca_file,
                   "CA certificate (PEM) the MQTT broker's certificate must chain to (default: "
                   "the system's trust store)")
        ->check(CLI::ExistingFile)
        ->needs(ssl);
    auto* cert = app.add_option("--mqtt-cert", mqtt.client.tls.cert_file,
                                "Client certificate (PEM) for an MQTT broker that requires one")
                     ->check(CLI::ExistingFile)
                     ->needs(ssl);
    auto* key = app.add_option("--mqtt-key", mqtt.client.tls.key_file,
                               "Private key (PEM) of --mqtt-cert")
                    ->check(CLI::ExistingFile)
                    ->needs(cert);
    cert->needs(key);
    app.add_option("--mqtt-client-id", mqtt.client.client_id,
                   "MQTT client id (default: aiot-gw-<random>, unique per instance)");
    app.add_option("--mqtt-max-inflight", mqtt.client.max_in_flight,
                   "QoS 1 publishes handed to the MQTT library and not yet acknowledged, at most "
                   "(more wait in order)")
        ->check(CLI::Range(1, 65535));
    app.add_option("--mqtt-values-qos", mqtt.logic.values_qos,
                   "QoS of the value subscriptions (node/check and resource lists: always 1)")
        ->check(CLI::Range(0, 1));
    app.add_option("--mqtt-discovery-qos", mqtt.logic.discovery_qos,
                   "QoS of the discovery requests (gateway/check and writes: always 1)")
        ->check(CLI::Range(0, 1));
    gw::mqtt::mqttsn_gateway_config mqttsn;
    app.add_option("--mqttsn-port", mqttsn.port,
                   "UDP port of MQTT-SN v1.2 nodes (0: no MQTT-SN; the RIOT node uses 1885)");
    app.add_option("--mqttsn-bind", mqttsn.bind_address,
                   "Address the MQTT-SN port listens on (\"::\" takes IPv4 too)");
    if (auto code = common::parse_command_line(app, argc, argv)) {
        return *code;
    }
    if (mqtt.client.client_id.empty()) {
        mqtt.client.client_id = gw::mqtt::make_client_id("gw");
    }
    mqtt.logic.max_nodes = config.limits.max_nodes;
    mqttsn.topics = mqtt.logic;
    mqttsn.gateway = config;

    common::init_logging(config.common.debug);
    auto log = common::get_logger("gw.mqtt");
    return gw::run_gateway(config, "MQTT", log,
                           [&](boost::asio::io_context& ioc, gw::gateway_service& service) {
                               auto all = std::make_unique<gw::mqtt::adapter_list>();
                               all->add(std::make_unique<gw::mqtt::mqtt_gateway>(ioc, service,
                                                                                 mqtt, log));
                               if (mqttsn.port != 0) {
                                   all->add(std::make_unique<gw::mqtt::mqttsn_gateway>(
                                       ioc, mqttsn, common::get_logger("gw.mqttsn")));
                               }
                               return all;
                           });
}
