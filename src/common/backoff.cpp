#include "common/backoff.hpp"

#include <algorithm>

namespace aiot::common {

backoff::backoff(backoff_config config, std::uint64_t seed) : config_(config), rng_(seed)
{
    config_.cap = std::max(config_.cap, std::chrono::milliseconds(1));
    config_.base = std::clamp(config_.base, std::chrono::milliseconds(1), config_.cap);
    config_.first = std::clamp(config_.first, std::chrono::milliseconds(0), config_.cap);
}

std::chrono::milliseconds backoff::next()
{
    const auto draw = [this](std::int64_t lo, std::int64_t hi) {
        return std::chrono::milliseconds(std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_));
    };
    const unsigned n = failures_++;
    if (n == 0) {
        return draw(0, config_.first.count());
    }
    // base * 2^(n-1), capped (the shift is bounded so it cannot overflow).
    const auto cap = config_.cap.count();
    const auto shift = std::min(n - 1, 30u);
    const auto ceiling = std::min<std::int64_t>(cap, config_.base.count() << shift);
    return draw(ceiling / 2, ceiling);
}

bool backoff::note_failure(std::string_view why)
{
    if (why == last_failure_) {
        return false;
    }
    last_failure_ = why;
    return true;
}

} // namespace aiot::common
