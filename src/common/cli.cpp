#include "cli.hpp"

#include "config_file.hpp"
#include "keys.hpp"

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace aiot::common {
namespace {

// Reads the original's config-example.py format into CLI11 items; option
// names with '_' become the '-' spelling of the command line.
class python_config : public CLI::Config {
public:
    std::string to_config(const CLI::App*, bool, bool, std::string) const override
    {
        return {};
    }

    std::vector<CLI::ConfigItem> from_config(std::istream& in) const override
    {
        std::ostringstream text;
        text << in.rdbuf();
        std::vector<config_entry> entries;
        try {
            entries = parse_config(text.str(), "config file");
        } catch (const config_error& e) {
            throw CLI::ConfigError(e.what());
        }
        std::vector<CLI::ConfigItem> result;
        for (auto& e : entries) {
            if (!e.value) {
                continue; // None: keep the default
            }
            CLI::ConfigItem item;
            item.name = e.name;
            std::replace(item.name.begin(), item.name.end(), '_', '-');
            item.inputs.push_back(std::move(*e.value));
            result.push_back(std::move(item));
        }
        return result;
    }
};

// CLI11 reads "nan" and "inf" into a double, and a range check lets NaN
// through (every comparison with it is false): refuse them for every
// floating-point option, from the command line or the config file.
void reject_non_finite(const CLI::App& app)
{
    for (const auto* opt : app.get_options()) {
        if (opt->get_type_name().find("FLOAT") == std::string::npos) {
            continue;
        }
        for (const auto& text : opt->results()) {
            char* end = nullptr;
            const double v = std::strtod(text.c_str(), &end);
            if (end != text.c_str() && !std::isfinite(v)) {
                throw CLI::ValidationError(opt->get_name(),
                                           "'" + text + "' is not a finite number");
            }
        }
    }
}

} // namespace

void use_python_config(CLI::App& app)
{
    app.set_config("--config", "", "Python-style config file (name = value per line)");
    app.config_formatter(std::make_shared<python_config>());
    // A key this program does not know, or knows as a command-line-only
    // spelling, belongs to another daemon: ignored, not an error.
    app.allow_config_extras(CLI::config_extras_mode::ignore_all);
}

void own_options_follow(CLI::App& app, const std::string& program)
{
    if (!program.empty()) {
        app.option_defaults()->group(program + " only");
    }
}

void add_common_options(CLI::App& app, common_options& opts, const std::string& program)
{
    app.option_defaults()->always_capture_default()->group(every_service);
    if (opts.key_file.empty()) {
        opts.key_file = default_key_path().string();
    }
    app.add_option("--broker-host", opts.broker_host,
                   "Broker host name or address; gateways and the dashboard also take a list "
                   "tried in order: host:port,host:port ([::1]:8000 for IPv6)");
    app.add_option("--broker-port", opts.broker_port, "Broker websocket port");
    app.add_option("--key-file", opts.key_file, "Key file (from aiot-generate-keys)");
    app.add_flag("--debug", opts.debug, "Log debug messages");
    use_python_config(app);
    if (!program.empty()) {
        app.footer("Config file (--config): the option names with '_' for '-'. One file can "
                   "serve every daemon: the options under \"" +
                   std::string(every_service) + "\" and \"" + every_gateway +
                   "\" are shared; those under \"" + program + " only\" are read by " +
                   program + " alone.");
    }
    own_options_follow(app, program);
}

void add_uplink_options(CLI::App& app, common_options& opts)
{
    app.add_flag("--broker-ssl", opts.broker_ssl,
                 "Reach the broker with wss:// (TLS), verifying its certificate")
        ->group(every_service);
    app.add_option("--broker-ca", opts.broker_ca,
                   "PEM file of the CA(s) the broker's certificate is checked against "
                   "(default: the system's store)")
        ->group(every_service);
    app.add_flag("--broker-insecure", opts.broker_insecure,
                 "With --broker-ssl, do not verify the broker's certificate (tests only)")
        ->group(every_service);
    // The port may come after the host on the command line or from the
    // config file: check once everything is read.
    app.final_callback([&opts] {
        const auto list = parse_broker_list(opts.broker_host, opts.broker_port);
        if (!list.ok()) {
            throw CLI::ParseError("--broker-host: " + list.error, 2);
        }
    });
}

std::vector<broker_address> brokers(const common_options& opts)
{
    auto list = parse_broker_list(opts.broker_host, opts.broker_port);
    if (!list.ok()) {
        throw std::invalid_argument("--broker-host: " + list.error);
    }
    return std::move(list.brokers);
}

CLI::Option* command_line_only(CLI::Option* opt, const std::string& file_key)
{
    opt->configurable(false);
    opt->description(opt->get_description() + " (command line only; in a config file: " +
                     file_key + ")");
    return opt;
}

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv)
{
    try {
        app.parse(argc, argv);
        reject_non_finite(app);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    return std::nullopt;
}

} // namespace aiot::common
