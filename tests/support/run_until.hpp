#pragma once
// Runs an io_context's handlers until pred() holds (true) or the timeout
// passes (false); each wait is for the next handler, at most `step`, never
// a sleep. For tests whose events come from other threads (Paho, libnats)
// or from timers: the io_context needs work (or a work guard) meanwhile.
#include "common/net.hpp"

#include <chrono>
#include <functional>

namespace aiot::test {

inline bool run_until(net::io_context& ioc, const std::function<bool()>& pred,
                      std::chrono::milliseconds timeout,
                      std::chrono::milliseconds step = std::chrono::milliseconds(20))
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        ioc.run_one_for(step);
    }
    return true;
}

} // namespace aiot::test
