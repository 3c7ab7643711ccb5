#include "discovery_retry.hpp"

#include <algorithm>
#include <cmath>

namespace aiot::gw::coap {

discovery_retry::discovery_retry(retry_limits limits) : limits_(limits)
{
    limits_.factor = std::max(limits_.factor, 1.0);
    limits_.max_running = std::max<std::size_t>(limits_.max_running, 1);
}

std::optional<discovery_retry::decision> discovery_retry::failed(const std::string& uid,
                                                                 time_point now)
{
    auto it = nodes_.find(uid);
    if (it == nodes_.end()) {
        it = nodes_.emplace(uid, entry{}).first;
    }
    auto& e = it->second;
    if (e.running) {
        e.running = false;
        --running_;
    }
    if (e.due) {
        schedule_.erase({*e.due, uid}); // failed again before its turn
        e.due.reset();
    }
    if (e.retries >= limits_.max_retries) {
        nodes_.erase(it);
        return std::nullopt;
    }
    const double ms = static_cast<double>(limits_.first.count()) *
                      std::pow(limits_.factor, static_cast<double>(e.retries));
    const auto delay = std::min(limits_.max_delay,
                                std::chrono::milliseconds(static_cast<long long>(ms)));
    ++e.retries;
    e.due = now + delay;
    schedule_.emplace(*e.due, uid);
    return decision{*e.due, e.retries, delay};
}

void discovery_retry::reset(std::string_view uid)
{
    const auto it = nodes_.find(uid);
    if (it == nodes_.end()) {
        return;
    }
    if (it->second.running) {
        --running_;
    }
    if (it->second.due) {
        schedule_.erase({*it->second.due, it->first});
    }
    nodes_.erase(it);
}

std::vector<std::string> discovery_retry::take_due(time_point now)
{
    std::vector<std::string> due;
    while (!schedule_.empty() && schedule_.begin()->first <= now &&
           running_ < limits_.max_running) {
        auto uid = schedule_.begin()->second;
        schedule_.erase(schedule_.begin());
        auto& e = nodes_.find(uid)->second;
        e.due.reset();
        e.running = true;
        ++running_;
        due.push_back(std::move(uid));
    }
    return due;
}

std::optional<discovery_retry::time_point> discovery_retry::next_due() const
{
    if (schedule_.empty() || running_ >= limits_.max_running) {
        return std::nullopt;
    }
    return schedule_.begin()->first;
}

} // namespace aiot::gw::coap
