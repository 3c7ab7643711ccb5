#include "common/refusal_log.hpp"

#include <algorithm>
#include <utility>

namespace aiot::common {

refusal_log::refusal_log(refusal_log_config config) : config_(config)
{
    config_.max_addresses = std::max<std::size_t>(config_.max_addresses, 1);
}

void refusal_log::close_window(entry& e, time_point now)
{
    if (e.suppressed > 0) {
        pending_.push_back({e.address, e.suppressed});
    }
    e.window_start = now;
    e.count = 0;
    e.suppressed = 0;
}

refusal_decision refusal_log::refused(std::string_view address, time_point now)
{
    auto found = by_address_.find(std::string(address));
    if (found == by_address_.end()) {
        if (entries_.size() >= config_.max_addresses) {
            auto& oldest = entries_.back();
            if (oldest.suppressed > 0) {
                pending_.push_back({oldest.address, oldest.suppressed});
            }
            by_address_.erase(oldest.address);
            entries_.pop_back();
        }
        entries_.push_front(entry{std::string(address), now, 0, 0});
        found = by_address_.emplace(entries_.front().address, entries_.begin()).first;
    } else {
        entries_.splice(entries_.begin(), entries_, found->second);
    }
    auto& e = *found->second;
    if (now - e.window_start >= config_.interval) {
        close_window(e, now);
    }
    ++e.count;
    refusal_decision d;
    d.log = e.count <= config_.logged_per_interval;
    if (!d.log) {
        ++e.suppressed;
    }
    if (e.count > config_.free_per_interval) {
        const auto over = std::min<std::uint64_t>(e.count - config_.free_per_interval - 1, 20);
        d.delay = std::min(config_.max_delay,
                           std::chrono::milliseconds(config_.first_delay.count() << over));
    }
    return d;
}

std::vector<refusal_summary> refusal_log::take_summaries(time_point now)
{
    for (auto& e : entries_) {
        if (e.suppressed > 0 && now - e.window_start >= config_.interval) {
            close_window(e, now);
        }
    }
    // Addresses quiet for a whole interval are forgotten.
    while (!entries_.empty() && now - entries_.back().window_start >= 2 * config_.interval &&
           entries_.back().suppressed == 0) {
        by_address_.erase(entries_.back().address);
        entries_.pop_back();
    }
    return std::exchange(pending_, {});
}

} // namespace aiot::common
