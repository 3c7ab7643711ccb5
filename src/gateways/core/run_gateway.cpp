#include "run_gateway.hpp"

#include "common/metrics.hpp"
#include "common/metrics_http.hpp"
#include "common/net.hpp"
#include "common/system.hpp"
#include "gateways/core/gateway_service.hpp"
#include "common/stop_signals.hpp"

#include <spdlog/spdlog.h>

#include <cctype>
#include <memory>

namespace aiot::gw {

namespace {

// "CoAP" -> "coap": the daemon's part of a metric name.
std::string service_name(const std::string& protocol)
{
    if (protocol == "WebSocket") {
        return "ws";
    }
    std::string out;
    for (const char c : protocol) {
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

} // namespace

int run_gateway(const gateway_config& config, std::string protocol,
                std::shared_ptr<spdlog::logger> log, const adapter_factory& make_adapter)
{
    try {
        const auto fds = common::raise_fd_limit();
        log->debug("open file limit: {} before, {} now", fds.before, fds.after);
        net::io_context ioc{1};
        const std::string protocol_name = protocol;
        gateway_service service(ioc, config, std::move(protocol), log); // loads the keys
        const auto adapter = make_adapter(ioc, service);
        // Metrics (--metrics-port): what the service knows, read at each scrape.
        common::metrics metrics;
        const std::string prefix = "aiot_" + service_name(protocol_name) + "_gateway_";
        using kind = common::metrics::kind;
        service.set_metrics(metrics, prefix);
        adapter->add_metrics(metrics, prefix);
        metrics.computed(prefix + "nodes", "Nodes known", kind::gauge,
                         [&] { return static_cast<double>(service.nodes().size()); });
        metrics.computed(prefix + "broker_connected", "1 while connected to the broker",
                         kind::gauge, [&] { return service.broker_connected() ? 1.0 : 0.0; });
        metrics.computed(prefix + "broker_queued_messages",
                         "Messages waiting to be written to the broker", kind::gauge,
                         [&] { return static_cast<double>(service.broker_backlog()); });
        common::loop_lag lag(ioc, metrics.gauge(prefix + "event_loop_lag_seconds",
                                                "How late the event loop ran a timer, the most "
                                                "in the last second"));
        std::unique_ptr<common::metrics_http> metrics_server;
        if (config.metrics_port) {
            metrics_server = std::make_unique<common::metrics_http>(ioc, metrics, log);
            metrics_server->start(config.metrics_bind, *config.metrics_port);
            lag.start();
        }
        common::stop_signals signals(ioc, [&](int signal) {
            log->info("signal {} received, shutting down", signal);
            adapter->stop();
            service.stop();
            lag.stop();
            if (metrics_server) {
                metrics_server->stop();
            }
        });
        adapter->start();
        service.start();
        ioc.run();
    } catch (const std::exception& e) {
        log->error("{}", e.what());
        return 1;
    }
    log->info("stopped");
    return 0;
}

} // namespace aiot::gw
