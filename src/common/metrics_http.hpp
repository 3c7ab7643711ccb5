#pragma once
// GET /metrics for the daemons that have no HTTP server of their own (the
// gateways, --metrics-port): a listener that answers one request per
// connection, from the registry, and closes. Requests are small and bounded
// (8 KiB, 5 s); anything but GET /metrics gets 404 or 405. Asio only.
//
// loop_lag measures how late the event loop runs a timer (once a second),
// the figure behind aiot_<daemon>_event_loop_lag_seconds.
#include "common/listener.hpp"
#include "common/metrics.hpp"
#include "common/net.hpp"

#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace aiot::common {

// The status, headers and body of an answer to `request` (the bytes read
// so far; complete once they hold "\r\n\r\n"): 200 with the metrics for
// GET or HEAD /metrics, else 404/405/400. Sans-I/O, for tests.
std::string metrics_http_answer(std::string_view request, const metrics& registry);

class metrics_http {
public:
    metrics_http(net::io_context& ioc, const metrics& registry,
                 std::shared_ptr<spdlog::logger> log);
    // Listens on address:port (0: any free port); throws like listener::open.
    tcp::endpoint start(const std::string& address, std::uint16_t port);
    void stop();

private:
    net::io_context& ioc_;
    const metrics& registry_;
    std::shared_ptr<spdlog::logger> log_;
    listener listener_;
};

class loop_lag {
public:
    // Keeps `gauge` at the largest lateness seen in the last interval, in
    // seconds.
    loop_lag(net::io_context& ioc, metric_cell& gauge,
             std::chrono::milliseconds every = std::chrono::milliseconds(250));
    ~loop_lag();
    void start();
    void stop();

private:
    void arm();

    net::steady_timer timer_;
    metric_cell& gauge_;
    std::chrono::milliseconds every_;
    std::chrono::steady_clock::time_point due_;
    std::chrono::steady_clock::time_point window_start_;
    double window_max_ = 0;
    bool stopped_ = false;
};

} // namespace aiot::common
