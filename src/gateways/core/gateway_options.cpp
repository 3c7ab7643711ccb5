#include "gateway_options.hpp"

#include <CLI/CLI.hpp>

namespace aiot::gw {

void add_gateway_options(CLI::App& app, gateway_config& config, const std::string& program,
                         bool with_max_time)
{
    common::add_common_options(app, config.common, program);
    common::add_uplink_options(app, config.common);
    app.option_defaults()->group(common::every_gateway);
    if (with_max_time) {
        app.add_option("--max-time", config.max_time,
                       "Seconds without news from a node before it is removed (0: never)");
    }
    app.add_option_function<std::size_t>(
           "--max-cache-mb",
           [&config](std::size_t mb) { config.limits.max_total_bytes = mb << 20; },
           "Megabytes the node cache (every resource of every node) may hold; values "
           "beyond it are refused and logged")
        ->default_str(std::to_string(config.limits.max_total_bytes >> 20))
        ->check(CLI::Range(1, 65536));
    app.add_option("--metrics-port", config.metrics_port,
                   "Serve Prometheus metrics at http://<metrics-bind>:<port>/metrics (off unless given; 0: any free port; gateways sharing a host and a config file need one each, on their command lines)");
    app.add_option("--metrics-bind", config.metrics_bind,
                   "Address the metrics are served on (default loopback only)");
    common::own_options_follow(app, program);
}

} // namespace aiot::gw
