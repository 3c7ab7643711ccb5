// ws-test-node: a simulated websocket node for aiot-ws-gateway.
#include "common/logging.hpp"
#include "common/net.hpp"
#include "common/stop_signals.hpp"
#include "ws_test_node.hpp"

#include <CLI/CLI.hpp>

int main(int argc, char** argv)
{
    using namespace aiot;
    CLI::App app{"ws-test-node: a simulated websocket node (name, os, board, led, temperature) "
                 "for aiot-ws-gateway"};
    app.option_defaults()->always_capture_default();
    utils::ws_test_node_config config;
    double temperature_s = 5;
    double retry_s = 2;
    bool debug = false;
    app.add_option("--gateway-host", config.host, "Websocket gateway host name or address");
    app.add_option("--gateway-port", config.port, "Websocket gateway port");
    app.add_option("--name", config.name, "The node's name resource");
    app.add_option("--temperature-interval", temperature_s, "Seconds between temperatures")
        ->check(CLI::PositiveNumber);
    app.add_option("--retry-delay", retry_s, "Seconds between connection attempts")
        ->check(CLI::PositiveNumber);
    app.add_flag("--debug", debug, "Log debug messages");
    CLI11_PARSE(app, argc, argv);
    const auto ms = [](double s) { return std::chrono::milliseconds(static_cast<long>(s * 1000)); };
    config.temperature_interval = ms(temperature_s);
    config.retry_delay = ms(retry_s);

    common::init_logging(debug);
    auto log = common::get_logger("ws-test-node");
    net::io_context ioc{1};
    utils::ws_test_node node(ioc, config, log);
    aiot::common::stop_signals signals(ioc, [&](int) { node.stop(); });
    node.start();
    ioc.run();
    log->info("stopped");
    return 0;
}
