#include "run_gateway.hpp"

#include "common/net.hpp"
#include "common/system.hpp"
#include "gateways/core/gateway_service.hpp"
#include "common/stop_signals.hpp"

#include <spdlog/spdlog.h>

namespace aiot::gw {

int run_gateway(const gateway_config& config, std::string protocol,
                std::shared_ptr<spdlog::logger> log, const adapter_factory& make_adapter)
{
    try {
        const auto fds = common::raise_fd_limit();
        log->debug("open file limit: {} before, {} now", fds.before, fds.after);
        net::io_context ioc{1};
        gateway_service service(ioc, config, std::move(protocol), log); // loads the keys
        const auto adapter = make_adapter(ioc, service);
        common::stop_signals signals(ioc, [&](int signal) {
            log->info("signal {} received, shutting down", signal);
            adapter->stop();
            service.stop();
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
