#pragma once
// Command line and configuration file shared by every aiot service
// (PROTOCOL.md section 8). CLI11 stays out of this header.
#include "common/broker_list.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
class Option;
} // namespace CLI

namespace aiot::common {

struct common_options {
    // One broker, or a list tried in order (for the gateways and the
    // dashboard): "a:8000,b:8000" (parse_broker_list; see brokers()).
    std::string broker_host = "localhost";
    std::uint16_t broker_port = 8000;
    std::string key_file; // set to default_key_path() by add_common_options
    bool debug = false;
    // How a gateway or the dashboard reaches the broker (add_uplink_options):
    // wss:// instead of ws://, its certificate checked against broker_ca
    // (PEM; empty: the system's store), or not at all (broker_insecure).
    bool broker_ssl = false;
    std::string broker_ca;
    bool broker_insecure = false;
};

// One config file can serve every daemon, so an option name (the file's
// key) means one thing only. --help shows every option under the heading
// of the daemons it applies to:
//   every_service: the same setting for every daemon (--broker-host ...);
//   every_gateway: the same setting for each gateway (--max-time ...);
//   "<program> only": read by that daemon alone; these names are unique
//   among the daemons (tests/unit/common/option_names_test.cpp runs the
//   five --help and fails on a name two daemons use for their own).
inline constexpr const char* every_service = "Every aiot service";
inline constexpr const char* every_gateway = "Every aiot gateway";

// Adds --broker-host, --broker-port, --key-file, --debug and --config
// FILE (Python-style `name = value`; command line wins over file wins over
// default), and makes --help show every option's default. Options added
// after this call are listed under "<program> only" (no heading when
// program is empty). Call it before adding the service's own options.
void add_common_options(CLI::App& app, common_options& opts, const std::string& program = {});

// Adds --broker-ssl, --broker-ca and --broker-insecure under the
// every_service heading (the daemons that connect to the broker: the
// gateways and the dashboard), and makes parsing check --broker-host as a
// list of brokers: a bad one stops the program with its reason (exit
// code 2, from parse_command_line). Uses the app's final_callback.
void add_uplink_options(CLI::App& app, common_options& opts);

// The brokers of --broker-host, an entry without a port on --broker-port.
// Throws std::invalid_argument (the reason) when the text is refused; after
// add_uplink_options and a successful parse it is not.
std::vector<broker_address> brokers(const common_options& opts);

// Lists the options added after this call under "<program> only".
void own_options_follow(CLI::App& app, const std::string& program);

// A command-line spelling kept for compatibility (e.g. --bind of the ws
// gateway, whose config-file key is gateway_bind): the config file does
// not set it, so a shared file's `bind` (the broker's) leaves it alone.
CLI::Option* command_line_only(CLI::Option* opt, const std::string& file_key);

// Makes --config read Python-style files (add_common_options does this).
void use_python_config(CLI::App& app);

// Parses argv. Returns the exit code when the program must stop (--help,
// or an error already printed), std::nullopt to go on.
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv);

} // namespace aiot::common
