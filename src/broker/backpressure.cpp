#include "broker/backpressure.hpp"

namespace aiot::broker {

std::optional<peer_id> backpressure::to_close(const std::vector<client>& clients,
                                              clock::time_point stalled_since,
                                              clock::time_point now) const
{
    if (!paused_ || now - stalled_since < cfg_.stall) {
        return std::nullopt;
    }
    const client* worst = nullptr;
    for (const auto& c : clients) {
        if (c.queued == 0 || now - c.last_progress < cfg_.stall) {
            continue;
        }
        if (!worst || c.queued > worst->queued || (c.queued == worst->queued && c.id < worst->id)) {
            worst = &c;
        }
    }
    return worst ? std::optional<peer_id>(worst->id) : std::nullopt;
}

} // namespace aiot::broker
