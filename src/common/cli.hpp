#pragma once
// Command line and configuration file shared by every aiot service
// (PROTOCOL.md section 8). CLI11 stays out of this header.
#include <cstdint>
#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace aiot::common {

struct common_options {
    std::string broker_host = "localhost";
    std::uint16_t broker_port = 8000;
    std::string key_file; // set to default_key_path() by add_common_options
    bool debug = false;
};

// Adds --broker-host, --broker-port, --key-file, --debug and --config
// FILE (Python-style `name = value`; command line wins over file wins over
// default), and makes --help show every option's default. Call it before
// adding the service's own options.
void add_common_options(CLI::App& app, common_options& opts);

// Makes --config read Python-style files (add_common_options does this).
void use_python_config(CLI::App& app);

// Parses argv. Returns the exit code when the program must stop (--help,
// or an error already printed), std::nullopt to go on.
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv);

} // namespace aiot::common
