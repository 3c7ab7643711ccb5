#include "gateway_options.hpp"

#include <CLI/CLI.hpp>

namespace aiot::gw {

void add_gateway_options(CLI::App& app, gateway_config& config, bool with_max_time)
{
    common::add_common_options(app, config.common);
    if (with_max_time) {
        app.add_option("--max-time", config.max_time,
                       "Seconds without news from a node before it is removed (0: never)");
    }
}

} // namespace aiot::gw
