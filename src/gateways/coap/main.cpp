// aiot-coap-gateway: CoAP nodes (POST /alive, /server; discovery; writes)
// <-> the aiot broker (PROTOCOL.md sections 3 and 4).
#include "common/cli.hpp"
#include "common/logging.hpp"
#include "gateways/coap/coap_endpoint.hpp"
#include "gateways/coap/coap_io.hpp"
#include "gateways/coap/psk_file.hpp"
#include "gateways/core/run_gateway.hpp"

#include <CLI/CLI.hpp>

#include <fstream>
#include <sstream>

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
    std::string psk_file;
    bool no_plain = false;
    app.add_option("--coaps-port", coap.coaps_port,
                   "UDP port of DTLS (coaps) nodes; open only with --coap-psk-file");
    app.add_option("--coap-psk-file", psk_file,
                   "Pre-shared keys of DTLS nodes, 'identity = key' per line (key: 0x<hex> or "
                   "text; # comments): turns DTLS on (docs/deployment.md)")
        ->check(CLI::ExistingFile);
    app.add_flag("--no-plain-coap", no_plain,
                 "No plain CoAP port: DTLS nodes only (needs --coap-psk-file)");
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
    app.add_option("--coap-yield-bytes", coap.yield_bytes,
                   "Discovery slows down (--coap-reads-behind) while the nodes' datagrams "
                   "waiting in the kernel take more than this (bytes of kernel memory, about "
                   "800 a datagram; 0: never), so that values do not queue behind a burst of "
                   "registrations")
        ->check(CLI::Range(0, 1 << 30));
    app.add_option("--coap-reads-behind", coap.reads_per_round_behind,
                   "Discovery requests started per round of packets while the gateway is "
                   "behind on the nodes' packets (see --coap-yield-bytes)")
        ->check(CLI::Range(0, 4096));
    if (const auto code = common::parse_command_line(app, argc, argv)) {
        return *code;
    }
    coap.logic.max_nodes = config.limits.max_nodes;
    coap.plain = !no_plain;
    coap.request_timeout = std::chrono::milliseconds(static_cast<long>(request_timeout_s * 1000));

    common::init_logging(config.common.debug);
    const auto log = common::get_logger("gw.coap");
    if (!psk_file.empty()) {
        std::ifstream in(psk_file, std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        auto keys = gw::coap::parse_psk_file(in ? text.str() : std::string(), coap.logic.max_nodes);
        if (!in || !keys.error.empty()) {
            log->error("--coap-psk-file {}: {}", psk_file, in ? keys.error : "cannot read it");
            return 1;
        }
        coap.dtls = true;
        coap.psk_keys = std::move(keys.keys);
    }
    const gw::coap::libcoap_runtime libcoap(log, config.common.debug);
    return gw::run_gateway(config, "CoAP", log,
                           [&](boost::asio::io_context& ioc, gw::gateway_service& service) {
                               return std::make_unique<gw::coap::coap_endpoint>(ioc, coap,
                                                                                service, log);
                           });
}
