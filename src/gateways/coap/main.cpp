// aiot-coap-gateway: CoAP nodes (POST /alive, /server; discovery; writes)
// <-> the aiot broker (PROTOCOL.md sections 3 and 4).
#include "common/cli.hpp"
#include "common/logging.hpp"
#include "gateways/coap/coap_endpoint.hpp"
#include "gateways/coap/coap_io.hpp"
#include "gateways/core/run_gateway.hpp"

#include <CLI/CLI.hpp>

int main(int argc, char** argv)
{
    using namespace aiot;
    CLI::App app{"aiot-coap-gateway: bridges CoAP nodes to the aiot broker"};
    gw::gateway_config config;
    gw::coap::coap_config coap;
    double request_timeout_s = 10;
    gw::add_gateway_options(app, config, "aiot-coap-gateway");
    app.add_option("--coap-port", coap.port, "UDP port the nodes post to");
    app.add_option("--coap-bind", coap.bind_address,
                   "Address to listen on (:: takes IPv4 too; 127.0.0.1 or ::1 for local only)");
    app.add_option("--interface", coap.interface,
                   "Network interface of link-local node addresses (fe80::...%<interface>)");
    app.add_option("--node-port", coap.node_port,
                   "UDP port of the nodes' own CoAP servers (discovery and writes)");
    app.add_option("--max-nodes", config.limits.max_nodes, "Nodes kept at most")
        ->check(CLI::PositiveNumber);
    app.add_option("--max-payload", coap.logic.max_payload,
                   "Largest payload taken from a node or written to one, in bytes")
        ->check(CLI::Range(16, 1024));
    app.add_option("--request-timeout", request_timeout_s,
                   "Seconds a node has to answer one request (retransmissions included)")
        ->check(CLI::Range(0.1, 3600.0));
    app.add_option("--max-requests", coap.logic.queue.max_in_flight,
                   "Requests to nodes in flight at once")
        ->check(CLI::Range(1, 4096));
    app.add_option("--max-requests-per-node", coap.logic.queue.max_in_flight_per_node,
                   "Requests to one node in flight at once")
        ->check(CLI::Range(1, 64));
    app.add_option("--coap-sessions", coap.max_idle_sessions,
                   "Idle peer sessions libcoap keeps (each packet costs a scan of them)")
        ->check(CLI::Range(1, 100000));
    app.add_option("--coap-receive-buffer", coap.receive_buffer,
                   "Receive buffer of the nodes' UDP socket in bytes, for bursts of nodes "
                   "booting at once (0: the system's default)")
        ->check(CLI::Range(0, 1 << 30));
    if (const auto code = common::parse_command_line(app, argc, argv)) {
        return *code;
    }
    coap.logic.max_nodes = config.limits.max_nodes;
    coap.request_timeout = std::chrono::milliseconds(static_cast<long>(request_timeout_s * 1000));

    common::init_logging(config.common.debug);
    const auto log = common::get_logger("gw.coap");
    const gw::coap::libcoap_runtime libcoap(log, config.common.debug);
    return gw::run_gateway(config, "CoAP", log,
                           [&](boost::asio::io_context& ioc, gw::gateway_service& service) {
                               return std::make_unique<gw::coap::coap_endpoint>(ioc, coap,
                                                                                service, log);
                           });
}
