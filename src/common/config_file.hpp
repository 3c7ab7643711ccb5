#pragma once
// The Python-style configuration file of the original (config-example.py):
// one `name = value` per line, values 'text' / "text", integers, floats,
// True / False and None, `#` comments.
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::common {

struct config_entry {
    std::string name;                 // as written: broker_port
    std::optional<std::string> value; // text of the value; nullopt for None
    int line = 0;
};

class config_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Throws config_error("<origin>:<line>: <what>") on a line it cannot read.
std::vector<config_entry> parse_config(std::string_view text, const std::string& origin);

} // namespace aiot::common
