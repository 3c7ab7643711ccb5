#include "request_queue.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

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
    if (it->second.waiting.empty() && it->second.in_flight == 0 && !it->second.listed &&
        !it->second.write_listed) {
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
    if (r.kind == request_kind::write) {
        ++writes_queued_;
        if (!q.write_listed) {
            q.write_listed = true;
            write_turns_.push_back(it->first);
        }
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
    std::size_t writes = 0;
    std::erase_if(waiting, [writes_too, &writes](const coap_request& r) {
        const bool drop = writes_too || r.kind != request_kind::write;
        writes += drop && r.kind == request_kind::write ? 1 : 0;
        return drop;
    });
    queued_ -= before - waiting.size();
    writes_queued_ -= writes;
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

void request_queue::launch(node_queue& q, std::vector<coap_request>& ready)
{
    auto r = std::move(q.waiting.front());
    q.waiting.pop_front();
    --queued_;
    writes_queued_ -= r.kind == request_kind::write ? 1 : 0;
    ++q.in_flight;
    r.id = next_id_++;
    flying_.emplace(r.id, r);
    ready.push_back(std::move(r));
}

std::vector<coap_request> request_queue::take_ready(std::size_t max_reads)
{
    auto ready = take_writes();
    const auto limit = ready.size() + std::min(max_reads, limits_.max_in_flight);
    while (flying_.size() < limits_.max_in_flight && ready.size() < limit && !turns_.empty()) {
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
            launch(q, ready);
        }
        offer_turn(it->first, q);
        erase_if_idle(it);
    }
    return ready;
}

// Each node with a write waiting sends the writes at its front that its
// caps allow; those that sent go behind those that could not, so nodes
// alternate. A write behind a read of its node waits for that read.
std::vector<coap_request> request_queue::take_writes()
{
    std::vector<coap_request> ready;
    if (write_turns_.empty()) {
        return ready; // the common case: no deque made (each allocates)
    }
    std::deque<std::string> waited;
    std::deque<std::string> served;
    const auto can_send = [this](const node_queue& q) {
        return flying_.size() < limits_.max_in_flight && !q.waiting.empty() &&
               q.waiting.front().kind == request_kind::write &&
               q.in_flight < limits_.max_in_flight_per_node;
    };
    for (auto& uid : std::exchange(write_turns_, {})) {
        const auto it = nodes_.find(uid);
        if (it == nodes_.end()) {
            continue;
        }
        auto& q = it->second;
        const bool sent = can_send(q);
        while (can_send(q)) {
            launch(q, ready);
        }
        if (std::none_of(q.waiting.begin(), q.waiting.end(), [](const coap_request& r) {
                return r.kind == request_kind::write;
            })) {
            q.write_listed = false;
            erase_if_idle(it);
            continue;
        }
        (sent ? served : waited).push_back(std::move(uid));
    }
    write_turns_ = std::move(waited);
    write_turns_.insert(write_turns_.end(), std::make_move_iterator(served.begin()),
                        std::make_move_iterator(served.end()));
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
