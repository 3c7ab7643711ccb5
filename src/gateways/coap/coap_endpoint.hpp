#pragma once
// aiot-coap-gateway's protocol adapter: a libcoap context with a UDP
// endpoint and/or a DTLS (PSK) endpoint serving POST /alive and POST
// /server, client requests to the
// nodes (discovery reads, writes) and their time limits, all on the
// daemon's io_context. Every decision is coap_logic's; this class carries
// them out and feeds back what happened.
#include "gateways/core/fwd.hpp"
#include "gateways/coap/coap_logic.hpp"
#include "gateways/core/run_gateway.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace aiot::gw::coap {

struct coap_config {
    std::string bind_address = "::"; // "::" takes IPv4 too
    std::uint16_t port = 5683;
    bool plain = true;          // the UDP port (--no-plain-coap: false)
    // DTLS with pre-shared keys (--coap-psk-file): on coaps_port when
    // dtls is true, a node's identity must be in psk_keys (identity -> key
    // bytes). Discovery and writes reach a node that posted over DTLS
    // through the DTLS session it opened (its latest one), not node_port.
    bool dtls = false;
    std::uint16_t coaps_port = 5684;
    std::map<std::string, std::string, std::less<>> psk_keys;
    std::uint16_t node_port = 5683; // where nodes serve their resources
    std::string interface;          // scope of link-local node addresses
    logic_config logic{};
    std::chrono::milliseconds request_timeout{10000}; // per request, retransmissions included
    unsigned max_retransmit = 2;                      // libcoap CON retransmissions
    unsigned max_idle_sessions = 64;                  // peers libcoap remembers
    unsigned session_timeout_s = 60;                  // ... and for how long
    std::size_t max_broker_backlog = 512; // messages for the broker before packets wait
    // Receive buffer of the nodes' socket, in bytes (0: the system's
    // default). A burst of nodes booting at once must fit: a small CoAP
    // datagram takes about 1 kB of it.
    int receive_buffer = 8 << 20;
    // While the nodes' datagrams waiting in the kernel hold more than
    // yield_bytes (about 800 a datagram; 0: never), each round of packets
    // starts at most reads_per_round_behind discovery reads.
    std::size_t yield_bytes = 1024; // more than one small datagram
    std::size_t reads_per_round_behind = 1;
};

class coap_endpoint final : public gateway_adapter {
public:
    // Opens the endpoint; throws std::runtime_error naming the address when
    // it cannot (bad address, port taken, unknown interface). Needs a
    // libcoap_runtime. Registers the service's write and expiry hooks.
    coap_endpoint(boost::asio::io_context& ioc, coap_config config, gateway_service& service,
                  std::shared_ptr<spdlog::logger> log);
    ~coap_endpoint() override;
    coap_endpoint(const coap_endpoint&) = delete;
    coap_endpoint& operator=(const coap_endpoint&) = delete;

    void start() override;
    // Stops serving; requests in flight are abandoned.
    void stop() override;
    void add_metrics(common::metrics& registry, const std::string& prefix) override;

    const coap_logic& logic() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace aiot::gw::coap
