// aiot-ws-gateway: websocket nodes (ws://<host>:<port>/node) to the aiot
// broker (PROTOCOL.md sections 3 and 6).
#include "common/cli.hpp"
#include "common/logging.hpp"
#include "gateways/core/run_gateway.hpp"
#include "gateways/ws/ws_node_server.hpp"

#include <CLI/CLI.hpp>

int main(int argc, char** argv)
{
    using namespace aiot;
    CLI::App app{"aiot-ws-gateway: bridges websocket nodes (ws://<host>:<port>/node) to the aiot "
                 "broker"};
    gw::gateway_config config;
    gw::ws::server_config server;
    gw::add_gateway_options(app, config, "aiot-ws-gateway", false);
    app.add_option("--gateway-port", server.port, "Port the nodes connect to");
    // Not --bind and --max-message-size in a config file: those keys are
    // the broker's (1 MiB there, 64 KiB here).
    app.add_option("--gateway-bind", server.bind_address,
                   "Listen address (:: is IPv6 and IPv4, with a fallback to 0.0.0.0)");
    common::command_line_only(
        app.add_option("--bind", server.bind_address, "Same as --gateway-bind"), "gateway_bind");
    app.add_option("--gateway-max-message-size", server.max_message_bytes,
                   "Largest node message in bytes (larger: close 1009)")
        ->check(CLI::PositiveNumber);
    common::command_line_only(app.add_option("--max-message-size", server.max_message_bytes,
                                             "Same as --gateway-max-message-size")
                                  ->check(CLI::PositiveNumber),
                              "gateway_max_message_size");
    app.add_option("--max-nodes-per-address", server.max_connections_per_address,
                   "Nodes (connections) one IP address may have at once; 0: no limit")
        ->capture_default_str();
    if (auto code = common::parse_command_line(app, argc, argv)) {
        return *code;
    }
    config.max_time = 0; // a websocket node lives as long as its connection
    server.max_connections = config.limits.max_nodes;

    common::init_logging(config.common.debug);
    auto log = common::get_logger("gw.ws");
    return gw::run_gateway(config, "WebSocket", log,
                           [&](boost::asio::io_context& ioc, gw::gateway_service& service) {
                               return std::make_unique<gw::ws::ws_node_server>(ioc, service,
                                                                               server, log);
                           });
}
