#pragma once
// The body of a gateway daemon's main, after option parsing: one
// io_context, the gateway_service, the protocol adapter, a clean stop on
// SIGINT/SIGTERM. An exception at start (missing key file, port in use) is
// logged and gives exit code 1.
#include "gateways/core/fwd.hpp"
#include "gateways/core/gateway_options.hpp"

#include <functional>
#include <memory>
#include <string>

namespace aiot::common {
class metrics;
}

namespace aiot::gw {

class gateway_service;

// What run_gateway needs of a protocol adapter.
class gateway_adapter {
public:
    virtual ~gateway_adapter() = default;
    virtual void start() = 0; // may throw (e.g. cannot listen)
    virtual void stop() = 0;  // close everything so run() can return
    // Registers the protocol's own metrics (names start with prefix, e.g.
    // "aiot_coap_gateway_"); the registry outlives the adapter's use of it.
    virtual void add_metrics(common::metrics& /*registry*/, const std::string& /*prefix*/) {}
};

using adapter_factory = std::function<std::unique_ptr<gateway_adapter>(
    boost::asio::io_context& ioc, gateway_service& service)>;

// Runs until a signal stopped everything; returns the exit code.
int run_gateway(const gateway_config& config, std::string protocol,
                std::shared_ptr<spdlog::logger> log, const adapter_factory& make_adapter);

} // namespace aiot::gw
