#pragma once
// Simulated CoAP nodes (PROTOCOL.md section 9), any number in one process
// and one libcoap context: node i serves its resources on its own address
// (--node-host + i, e.g. 127.0.0.2, 127.0.0.3, ...) at --node-port, posts
// `reset:<uid>` when it starts, `alive:<uid>` every alive interval and its
// values to the gateway's /server, and follows PUTs on /led (logged, and
// posted back as `led:<v>`). Talks coaps with --psk-identity/--psk-key.
// Runs on one io_context.
#include "gateways/core/fwd.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace aiot::utils {

struct coap_test_node_config {
    std::string gateway_host = "localhost";
    std::uint16_t gateway_port = 5683;
    std::string node_host = "127.0.0.1"; // address of node 0
    std::uint16_t node_port = 5683;
    // DTLS with a pre-shared key (coaps) towards the gateway when
    // psk_identity is set (psk_key: the key bytes); the gateway then
    // reaches the node through that session.
    std::string psk_identity;
    std::string psk_key;
    std::string uid;       // node 0's uid (others: uid-<i>); empty: random
    std::size_t nodes = 1; // more than one: IPv4 node_host only
    bool temperature = false;
    bool pressure = false;
    bool imu = false;
    bool led = false;
    bool robot = false;
    bool js = false;
    bool version = false;
    std::chrono::milliseconds alive_interval{30000};
    std::chrono::milliseconds value_interval{5000}; // temperature and pressure
    std::chrono::milliseconds imu_interval{200};
    std::chrono::milliseconds version_interval{2000};
    double start_rate = 2000; // nodes started per second (spreads the first resets)
};

class coap_test_node {
public:
    // Opens every node's endpoint; throws std::runtime_error naming the
    // address that failed. Needs a gw::coap::libcoap_runtime.
    coap_test_node(boost::asio::io_context& ioc, coap_test_node_config config,
                   std::shared_ptr<spdlog::logger> log);
    ~coap_test_node();
    coap_test_node(const coap_test_node&) = delete;
    coap_test_node& operator=(const coap_test_node&) = delete;

    void start();
    void stop();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace aiot::utils
