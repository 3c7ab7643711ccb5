#include "node_table.hpp"

#include <algorithm>
#include <utility>

namespace aiot::gw::coap {

std::string_view to_string(discovery_state s)
{
    switch (s) {
    case discovery_state::none: return "none";
    case discovery_state::running: return "running";
    case discovery_state::done: return "done";
    case discovery_state::failed: return "failed";
    }
    return "?";
}

node_table::node_table(std::size_t max_nodes, std::size_t max_per_address)
    : max_nodes_(max_nodes), max_per_address_(std::max<std::size_t>(max_per_address, 1))
{
}

std::string node_table::bind_address(coap_node& n, std::string_view address,
                                     std::uint32_t scope_id)
{
    if (const auto old = by_address_.find(n.address);
        old != by_address_.end() && old->second == n.uid) {
        by_address_.erase(old);
    }
    if (!n.address.empty()) {
        if (const auto c = per_address_.find(n.address); c != per_address_.end() && --c->second == 0) {
            per_address_.erase(c);
        }
    }
    n.address = std::string(address);
    n.scope_id = scope_id;
    ++per_address_[n.address];
    std::string previous;
    const auto [it, inserted] = by_address_.try_emplace(n.address, n.uid);
    if (!inserted && it->second != n.uid) {
        previous = std::exchange(it->second, n.uid);
    }
    return previous;
}

alive_outcome node_table::alive(std::string_view uid, bool reset, std::string_view address,
                                std::uint32_t scope_id)
{
    alive_outcome out;
    auto it = nodes_.find(uid);
    if (it == nodes_.end()) {
        if (nodes_.size() >= max_nodes_) {
            return out; // refused
        }
        if (const auto c = per_address_.find(address);
            c != per_address_.end() && c->second >= max_per_address_) {
            out.action = alive_action::address_full;
            return out;
        }
        it = nodes_.emplace(std::string(uid), coap_node{}).first;
        it->second.uid = it->first;
        out.action = alive_action::created;
        out.discover = true;
        out.address_changed = true;
        out.displaced = bind_address(it->second, address, scope_id);
        return out;
    }
    auto& n = it->second;
    out.address_changed = n.address != address || n.scope_id != scope_id;
    if (out.address_changed) {
        if (!reset) {
            out.action = alive_action::move_refused;
            return out;
        }
        n.pending_address = std::string(address);
        n.pending_scope = scope_id;
        out.action = alive_action::move_pending;
        return out;
    }
    const auto owner = by_address_.find(address);
    if (out.address_changed || owner == by_address_.end() || owner->second != n.uid) {
        // A new address, or one another node took over meanwhile.
        out.displaced = bind_address(n, address, scope_id);
    }
    if (reset) {
        out.action = alive_action::reset;
        out.discover = true;
    } else {
        out.action = alive_action::refreshed;
        out.discover = n.discovery == discovery_state::failed ||
                       n.discovery == discovery_state::none;
    }
    return out;
}

alive_outcome node_table::confirm_move(std::string_view uid)
{
    alive_outcome out;
    const auto it = nodes_.find(uid);
    if (it == nodes_.end() || it->second.pending_address.empty()) {
        return out; // refused: nothing to move
    }
    auto& n = it->second;
    const auto address = std::exchange(n.pending_address, {});
    out.displaced = bind_address(n, address, n.pending_scope);
    out.action = alive_action::reset;
    out.discover = true;
    out.address_changed = true;
    return out;
}

void node_table::cancel_move(std::string_view uid)
{
    if (const auto it = nodes_.find(uid); it != nodes_.end()) {
        it->second.pending_address.clear();
    }
}

std::uint64_t node_table::start_discovery(std::string_view uid)
{
    const auto it = nodes_.find(uid);
    if (it == nodes_.end()) {
        return 0;
    }
    auto& n = it->second;
    n.discovery = discovery_state::running;
    n.generation = next_generation_++;
    n.pending = 0;
    n.found = 0;
    n.lost = false;
    return n.generation;
}

coap_node* node_table::running_node(std::string_view uid, std::uint64_t generation)
{
    return running(uid, generation) ? &nodes_.find(uid)->second : nullptr;
}

bool node_table::running(std::string_view uid, std::uint64_t generation) const
{
    const auto* n = find(uid);
    return n && n->generation == generation && n->discovery == discovery_state::running;
}

std::optional<discovery_state> node_table::discovery_listed(std::string_view uid,
                                                            std::uint64_t generation,
                                                            std::size_t count)
{
    auto* n = running_node(uid, generation);
    if (!n) {
        return std::nullopt;
    }
    n->pending = count;
    if (count == 0) {
        n->discovery = discovery_state::done;
    }
    return n->discovery;
}

std::optional<discovery_state> node_table::discovery_read(std::string_view uid,
                                                          std::uint64_t generation,
                                                          bool answered, bool stored)
{
    auto* n = running_node(uid, generation);
    if (!n || n->pending == 0) {
        return std::nullopt;
    }
    n->lost = n->lost || !answered;
    n->found += stored ? 1 : 0;
    if (--n->pending == 0) {
        n->discovery = n->lost ? discovery_state::failed : discovery_state::done;
    }
    return n->discovery;
}

std::optional<discovery_state> node_table::discovery_failed(std::string_view uid,
                                                            std::uint64_t generation)
{
    auto* n = running_node(uid, generation);
    if (!n) {
        return std::nullopt;
    }
    n->discovery = discovery_state::failed;
    n->pending = 0;
    return n->discovery;
}

bool node_table::repeated(std::string_view uid, std::uint16_t mid)
{
    const auto it = nodes_.find(uid);
    if (it == nodes_.end()) {
        return false;
    }
    auto& n = it->second;
    const auto end = n.recent_mids.begin() + n.mids;
    if (std::find(n.recent_mids.begin(), end, mid) != end) {
        return true;
    }
    n.recent_mids[n.next_mid_slot] = mid;
    n.next_mid_slot = static_cast<std::uint8_t>((n.next_mid_slot + 1) % n.recent_mids.size());
    n.mids = static_cast<std::uint8_t>(std::min<std::size_t>(n.mids + 1u, n.recent_mids.size()));
    return false;
}

bool node_table::forget(std::string_view uid)
{
    const auto it = nodes_.find(uid);
    if (it == nodes_.end()) {
        return false;
    }
    if (const auto a = by_address_.find(it->second.address);
        a != by_address_.end() && a->second == it->second.uid) {
        by_address_.erase(a);
    }
    if (const auto c = per_address_.find(it->second.address);
        c != per_address_.end() && --c->second == 0) {
        per_address_.erase(c);
    }
    nodes_.erase(it);
    return true;
}

const coap_node* node_table::find(std::string_view uid) const
{
    const auto it = nodes_.find(uid);
    return it == nodes_.end() ? nullptr : &it->second;
}

const coap_node* node_table::find_by_address(std::string_view address) const
{
    const auto it = by_address_.find(address);
    return it == by_address_.end() ? nullptr : find(it->second);
}

} // namespace aiot::gw::coap
