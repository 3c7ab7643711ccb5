#pragma once
// Why a TLS connection to the MQTT broker fails. Paho reports only "TCP/TLS
// connect failure", and its ssl error handler cannot be used (Paho C++ 1.2
// hands the C library a pointer into a copy of the options that dies when
// connect() returns). So after a failed attempt the client makes one TLS
// handshake of its own, with the same CA, host check and client
// certificate, and logs OpenSSL's reason ("certificate verify failed
// (unable to get local issuer certificate)"). Runs on the io_context; no
// Asio in this header.
#include "gateways/core/fwd.hpp"
#include "gateways/mqtt/mqtt_client.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace aiot::gw::mqtt {

// Connects to host:port, handshakes like Paho would, then waits up to
// `linger` for the broker to refuse the client after the handshake (TLS 1.3
// refuses a missing client certificate only then). done(reason) is called
// once on the io thread: OpenSSL's reason, or empty when TLS worked. The
// whole probe ends within `timeout` plus linger. Throws nothing.
void probe_tls(boost::asio::io_context& ioc, const std::string& host, std::uint16_t port,
               const tls_config& tls, std::chrono::milliseconds timeout,
               std::chrono::milliseconds linger, std::function<void(std::string)> done);

} // namespace aiot::gw::mqtt
