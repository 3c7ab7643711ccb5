// aiot-generate-keys: writes the key file shared by the broker and gateways.
#include "common/cli.hpp"
#include "common/keys.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

int main(int argc, char** argv)
{
    using namespace aiot::common;
    CLI::App app{"Generate the secret and the Fernet key shared by the aiot broker and "
                 "its gateways"};
    app.option_defaults()->always_capture_default();
    std::string path = default_key_path().string();
    bool force = false;
    app.add_option("--key-file", path, "Where to write the key file");
    app.add_flag("--force", force, "Replace an existing key file");
    if (auto code = parse_command_line(app, argc, argv)) {
        return *code;
    }
    try {
        const auto keys = generate_keys();
        save_keys(keys, path, force);
        // The secret stays in the file: nothing sensitive on the terminal.
        std::cout << "Keys written to " << path << "\n";
        for (const auto& w : key_permission_warnings(path)) {
            std::cerr << "aiot-generate-keys: warning: " << w << "\n";
        }
    } catch (const key_error& e) {
        std::cerr << "aiot-generate-keys: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
