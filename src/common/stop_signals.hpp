#pragma once
// Clean shutdown for every daemon's main: the first SIGINT or SIGTERM calls
// on_stop once (close acceptors and connections so run() returns) and
// gives the signals back their default action, so a second one ends the
// process at once.

#include <functional>
#include <memory>

namespace boost::asio {
class io_context;
}

namespace aiot::common {

class stop_signals {
public:
    stop_signals(boost::asio::io_context& ioc, std::function<void(int signal)> on_stop);
    ~stop_signals(); // cancels the wait (run() need not see a signal)
    stop_signals(const stop_signals&) = delete;
    stop_signals& operator=(const stop_signals&) = delete;

    // Stops waiting, without calling on_stop.
    void cancel();

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

} // namespace aiot::common
