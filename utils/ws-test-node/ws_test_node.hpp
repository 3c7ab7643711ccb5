#pragma once
// A simulated websocket node (PROTOCOL.md section 6, node side): connects
// to ws://<host>:<port>/node (again after any loss), answers the discovery
// request with its resources, sends a temperature periodically and follows
// LED writes, echoing them as updates. Runs on one io_context.
#include "gateways/core/fwd.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace aiot::utils {

struct ws_test_node_config {
    std::string host = "localhost";
    std::uint16_t port = 8001;
    std::string name = "WebSocket test node";
    std::chrono::milliseconds temperature_interval{5000};
    std::chrono::milliseconds retry_delay{2000};
};

class ws_test_node {
public:
    ws_test_node(boost::asio::io_context& ioc, ws_test_node_config config,
                 std::shared_ptr<spdlog::logger> log);
    ~ws_test_node();
    ws_test_node(const ws_test_node&) = delete;
    ws_test_node& operator=(const ws_test_node&) = delete;

    void start();
    void stop();

private:
    class impl;
    std::shared_ptr<impl> impl_;
};

} // namespace aiot::utils
