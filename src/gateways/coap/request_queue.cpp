#include "request_queue.hpp"

#include <algorithm>

namespace aiot::gw::coap {

request_queue::request_queue(queue_limits limits) : limits_(limits) {}

void request_queue::offer_turn(const std::string& uid, node_queue& q)
{
    if (!q.listed && !q.waiting.empty() && q.in_flight < limits_.max_in_flight_per_node) {
        q.listed = true;
        turns_.push_back(uid);
    }
}

void request_queue::erase_if_idle(std::map<std::string, node_queue, std::less<>>::iterator it)
{
    if (it->second.waiting.empty() && it->second.in_flight == 0 && !it->second.listed) {
        nodes_.erase(it);
    }
}

bool request_queue::push(coap_request r)
{
    auto it = nodes_.find(r.uid);
    if (it == nodes_.end()) {
        it = nodes_.emplace(r.uid, node_queue{}).first;
    }
    auto& q = it->second;
    if (q.waiting.size() >= limits_.max_queued_per_node) {
        erase_if_idle(it);
        return false;
    }
    q.waiting.push_back(std::move(r));
    ++queued_;
    offer_turn(it->first, q);
    return true;
}

void request_queue::drop_if(std::string_view uid, bool writes_too)
{
    const auto it = nodes_.find(uid);
    if (it == nodes_.end()) {
        return;
    }
    auto& waiting = it->second.waiting;
    const auto before = waiting.size();
    std::erase_if(waiting, [writes_too](const coap_request& r) {
        return writes_too || r.kind != request_kind::write;
    });
    queued_ -= before - waiting.size();
    erase_if_idle(it);
}

void request_queue::drop_discovery(std::string_view uid)
{
    drop_if(uid, false);
}

void request_queue::drop_all(std::string_view uid)
{
    drop_if(uid, true);
}

std::vector<coap_request> request_queue::take_ready()
{
    std::vector<coap_request> ready;
    while (flying_.size() < limits_.max_in_flight && !turns_.empty()) {
        const auto uid = std::move(turns_.front());
        turns_.pop_front();
        const auto it = nodes_.find(uid);
        if (it == nodes_.end()) {
            continue;
        }
        auto& q = it->second;
        q.listed = false;
        // One request per turn, so that nodes alternate.
        if (!q.waiting.empty() && q.in_flight < limits_.max_in_flight_per_node) {
            auto r = std::move(q.waiting.front());
            q.waiting.pop_front();
            --queued_;
            ++q.in_flight;
            r.id = next_id_++;
            flying_.emplace(r.id, r);
            ready.push_back(std::move(r));
        }
        offer_turn(it->first, q);
        erase_if_idle(it);
    }
    return ready;
}

std::optional<coap_request> request_queue::complete(std::uint64_t id)
{
    const auto f = flying_.find(id);
    if (f == flying_.end()) {
        return std::nullopt;
    }
    auto r = std::move(f->second);
    flying_.erase(f);
    if (const auto it = nodes_.find(r.uid); it != nodes_.end()) {
        --it->second.in_flight;
        offer_turn(it->first, it->second);
        erase_if_idle(it);
    }
    return r;
}

} // namespace aiot::gw::coap
