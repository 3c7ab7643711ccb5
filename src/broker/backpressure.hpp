#pragma once
// Bounds the bytes the broker holds for all web clients together, without
// I/O: the server reports every change of a client queue, and this says
// when to stop and restart reading from gateways, and which clients to
// close when stopping alone does not help.
//
// The policy (docs/deployment.md, "Memory under load"):
// - when the bytes queued for clients pass the high-water mark, the broker
//   stops reading from gateways; TCP then slows the gateways down;
// - when they fall under the low-water mark, it reads again;
// - clients that make no progress can hold the total over the mark alone,
//   and then nothing would move: once reading has been stopped for `stall`,
//   the client with the largest queue among those whose writes have not
//   advanced for `stall` is closed; if reading stays stopped for another
//   `stall`, the next one, and so on.
// A client over its own queue limit is still closed at once (ws_session).
#include "broker/router.hpp"

#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

namespace aiot::broker {

struct backpressure_config {
    std::size_t high_water = 32 * 1024 * 1024;
    std::size_t low_water = 16 * 1024 * 1024;
    std::chrono::milliseconds stall{1000};
};

class backpressure {
public:
    using clock = std::chrono::steady_clock;
    enum class change { none, pause, resume };

    explicit backpressure(backpressure_config cfg = {}) : cfg_(cfg) {}

    // A client queue grew or shrank by `bytes`; says when reading from
    // gateways must stop (pause) or may start again (resume).
    change grew(std::size_t bytes)
    {
        total_ += bytes;
        if (!paused_ && total_ > cfg_.high_water) {
            paused_ = true;
            return change::pause;
        }
        return change::none;
    }
    change shrank(std::size_t bytes)
    {
        total_ -= bytes;
        if (paused_ && total_ < cfg_.low_water) {
            paused_ = false;
            return change::resume;
        }
        return change::none;
    }

    bool paused() const { return paused_; }
    std::size_t total() const { return total_; }
    const backpressure_config& config() const { return cfg_; }

    struct client {
        peer_id id = 0;
        std::size_t queued = 0;           // bytes waiting for it
        clock::time_point last_progress;  // its last completed write (or queue start)
    };
    // The client to close now, given that reading stopped at `stalled_since`
    // (the pause, or the last such close): none before `stall` has passed;
    // then the one with the largest queue among those without progress for
    // `stall`. One at a time: the others get a full `stall` to drain before
    // the next is judged.
    std::optional<peer_id> to_close(const std::vector<client>& clients,
                                    clock::time_point stalled_since, clock::time_point now) const;

private:
    backpressure_config cfg_;
    std::size_t total_ = 0;
    bool paused_ = false;
};

} // namespace aiot::broker
