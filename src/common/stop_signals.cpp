#include "common/stop_signals.hpp"

#include "common/net.hpp"

#include <csignal>

namespace aiot::common {

struct stop_signals::impl {
    impl(net::io_context& ioc, std::function<void(int)> f)
        : signals(ioc, SIGINT, SIGTERM), on_stop(std::move(f))
    {
    }

    net::signal_set signals;
    std::function<void(int)> on_stop;
};

stop_signals::stop_signals(net::io_context& ioc, std::function<void(int)> on_stop)
    : impl_(std::make_shared<impl>(ioc, std::move(on_stop)))
{
    impl_->signals.async_wait([state = impl_](const error_code& ec, int signal) {
        if (ec) {
            return; // cancelled
        }
        // Removing the signals restores their default action.
        error_code ignored;
        state->signals.clear(ignored);
        if (auto f = std::exchange(state->on_stop, nullptr)) {
            f(signal);
        }
    });
}

stop_signals::~stop_signals()
{
    cancel();
}

void stop_signals::cancel()
{
    impl_->on_stop = nullptr;
    error_code ignored;
    impl_->signals.cancel(ignored);
    impl_->signals.clear(ignored);
}

} // namespace aiot::common
