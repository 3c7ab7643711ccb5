#pragma once
// Forward declarations that keep Asio and spdlog out of the core's headers.
namespace boost::asio {
class io_context;
}
namespace spdlog {
class logger;
}
