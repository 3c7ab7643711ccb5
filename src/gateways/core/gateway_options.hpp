#pragma once
// What every gateway daemon is configured with, and the command-line
// options for it. CLI11 stays out of this header.
#include "common/backoff.hpp"
#include "common/cli.hpp"
#include "gateways/core/node_registry.hpp"

#include <chrono>
#include <optional>
#include <cstddef>
#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace aiot::gw {

struct gateway_config {
    common::common_options common; // --broker-host --broker-port --key-file --debug
    std::uint32_t max_time = 120;  // --max-time, seconds; 0: nodes never expire
    std::optional<std::uint16_t> metrics_port; // --metrics-port (0: any free port); unset: off
    std::string metrics_bind = "127.0.0.1"; // --metrics-bind

    // Tuning, without command-line options.
    std::chrono::seconds keepalive_interval{30};
    common::backoff_config retry{}; // towards the broker
    std::chrono::milliseconds tick_interval{1000};
    registry_limits limits{};
    std::size_t max_queued_messages = 1'000'000; // towards the broker
    std::size_t max_queued_bytes = 128u << 20;
};

// Adds the common options (add_common_options, --config included), and,
// under the every_gateway heading, --max-cache-mb and, if with_max_time,
// --max-time. The options added next are listed as "<program> only".
// Call before the gateway's own options.
void add_gateway_options(CLI::App& app, gateway_config& config, const std::string& program,
                         bool with_max_time = true);

} // namespace aiot::gw
