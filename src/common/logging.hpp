#pragma once
#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace aiot::common {

// Sets the level for every aiot logger (debug with --debug, else info) and
// the common pattern. Call once at start; loggers made later follow it.
void init_logging(bool debug);

// A named logger ("broker", "broker.ws", "gw.coap", ...) writing to stderr.
std::shared_ptr<spdlog::logger> get_logger(const std::string& name);

} // namespace aiot::common
