// coap-test-node: simulated CoAP node(s) for aiot-coap-gateway (tests,
// demos, load): PROTOCOL.md section 9.
#include "coap_test_node.hpp"

#include "common/logging.hpp"
#include "common/net.hpp"
#include "common/system.hpp"
#include "gateways/coap/coap_io.hpp"
#include "gateways/coap/psk_file.hpp"
#include "common/stop_signals.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace {

std::chrono::milliseconds seconds(double s)
{
    return std::chrono::milliseconds(static_cast<long>(s * 1000));
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App app{"coap-test-node: simulated CoAP node(s) posting to aiot-coap-gateway"};
    app.option_defaults()->always_capture_default();
    aiot::utils::coap_test_node_config c;
    double alive = 30, values = 5, imu = 0.2, version = 2;
    bool debug = false;
    app.add_option("--gateway-host", c.gateway_host, "Gateway host name or address");
    app.add_option("--gateway-port", c.gateway_port, "Gateway CoAP port");
    app.add_flag("--temperature", c.temperature, "Serve and post a temperature");
    app.add_flag("--pressure", c.pressure, "Serve and post a pressure");
    app.add_flag("--imu", c.imu, "Serve and post IMU readings");
    app.add_flag("--led", c.led, "Serve an LED (GET, PUT 1/0)");
    app.add_flag("--robot", c.robot, "Serve a robot (PUT u/d/l/r/s)");
    app.add_flag("--js", c.js, "Serve a JavaScript slot (GET, PUT)");
    app.add_flag("--version", c.version, "Serve and post a version");
    app.add_option("--node-host", c.node_host,
                   "Address the (first) node serves on; node i uses this address + i");
    app.add_option("--node-port", c.node_port, "UDP port the nodes serve on");
    app.add_option("--uid", c.uid, "Node uid (node i: <uid>-<i> with --nodes); default random");
    app.add_option("--nodes", c.nodes, "Number of simulated nodes in this process")
        ->check(CLI::Range(1, 60000));
    app.add_option("--alive-interval", alive, "Seconds between alive posts")
        ->check(CLI::Range(0.01, 86400.0));
    app.add_option("--value-interval", values, "Seconds between temperature/pressure posts")
        ->check(CLI::Range(0.01, 86400.0));
    app.add_option("--imu-interval", imu, "Seconds between IMU posts")
        ->check(CLI::Range(0.01, 86400.0));
    app.add_option("--version-interval", version, "Seconds between version posts")
        ->check(CLI::Range(0.01, 86400.0));
    app.add_option("--start-rate", c.start_rate, "Nodes started per second")
        ->check(CLI::PositiveNumber);
    std::string psk_key;
    auto* identity = app.add_option("--psk-identity", c.psk_identity,
                                    "Talk coaps (DTLS, pre-shared key) with this identity "
                                    "(--gateway-port defaults to 5684 then)");
    auto* key = app.add_option("--psk-key", psk_key, "The pre-shared key: 0x<hex> or text");
    identity->needs(key);
    key->needs(identity);
    app.add_flag("--debug", debug, "Log debug messages");
    CLI11_PARSE(app, argc, argv);
    if (!c.psk_identity.empty()) {
        std::string why;
        auto bytes = aiot::gw::coap::decode_psk_key(psk_key, &why);
        if (!bytes) {
            std::cerr << "--psk-key: " << why << "\n";
            return 1;
        }
        c.psk_key = std::move(*bytes);
        if (app.count("--gateway-port") == 0) {
            c.gateway_port = COAPS_DEFAULT_PORT;
        }
    }
    c.alive_interval = seconds(alive);
    c.value_interval = seconds(values);
    c.imu_interval = seconds(imu);
    c.version_interval = seconds(version);

    aiot::common::init_logging(debug);
    const auto log = aiot::common::get_logger("coap-test-node");
    try {
        aiot::gw::coap::libcoap_runtime libcoap(log, debug);
        aiot::common::raise_fd_limit();
        aiot::net::io_context ioc{1};
        aiot::utils::coap_test_node nodes(ioc, c, log);
        aiot::common::stop_signals signals(ioc, [&](int signal) {
            log->info("signal {}: stopping", signal);
            nodes.stop();
        });
        nodes.start();
        ioc.run();
    } catch (const std::exception& e) {
        log->error("{}", e.what());
        return 1;
    }
    log->info("stopped");
    return 0;
}
