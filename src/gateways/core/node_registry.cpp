#include "node_registry.hpp"

#include "common/message.hpp"

#include <algorithm>

namespace aiot::gw {

const json* node::find(std::string_view name) const
{
    for (const auto& r : resources) {
        if (r.name == name) {
            return &r.value;
        }
    }
    return nullptr;
}

std::string_view to_string(registry_status s)
{
    switch (s) {
    case registry_status::ok: return "ok";
    case registry_status::exists: return "node already known";
    case registry_status::unknown_node: return "unknown node";
    case registry_status::invalid_name: return "empty or too long name";
    case registry_status::too_many_nodes: return "too many nodes";
    case registry_status::too_many_resources: return "too many resources";
    case registry_status::value_too_large: return "value too large";
    case registry_status::node_too_large: return "node's resources over their byte limit";
    case registry_status::cache_full: return "node cache full (byte budget)";
    }
    return "?";
}

node_registry::node_registry(registry_limits limits) : limits_(limits) {}

bool node_registry::valid_name(std::string_view name) const
{
    return !name.empty() && name.size() <= limits_.max_name_bytes;
}

node* node_registry::find_mutable(std::string_view uid)
{
    const auto it = nodes_.find(uid);
    return it == nodes_.end() ? nullptr : &it->second;
}

const node* node_registry::find(std::string_view uid) const
{
    const auto it = nodes_.find(uid);
    return it == nodes_.end() ? nullptr : &it->second;
}

registry_status node_registry::add(std::string_view uid, time_point now)
{
    if (!valid_name(uid)) {
        return registry_status::invalid_name;
    }
    if (nodes_.find(uid) != nodes_.end()) {
        return registry_status::exists;
    }
    if (nodes_.size() >= limits_.max_nodes) {
        return registry_status::too_many_nodes;
    }
    node n;
    n.uid = std::string(uid);
    n.last_seen = now;
    nodes_.emplace(n.uid, std::move(n));
    return registry_status::ok;
}

registry_status node_registry::touch(std::string_view uid, time_point now)
{
    node* n = find_mutable(uid);
    if (!n) {
        return registry_status::unknown_node;
    }
    n->last_seen = now;
    return registry_status::ok;
}

registry_status node_registry::set_resource(std::string_view uid, std::string_view name,
                                            json value)
{
    node* n = find_mutable(uid);
    if (!n) {
        return registry_status::unknown_node;
    }
    if (!valid_name(name)) {
        return registry_status::invalid_name;
    }
    const auto value_bytes = common::serialize(value).size();
    if (value_bytes > limits_.max_value_bytes) {
        return registry_status::value_too_large;
    }
    resource* existing = nullptr;
    for (auto& r : n->resources) {
        if (r.name == name) {
            existing = &r;
            break;
        }
    }
    if (!existing && n->resources.size() >= limits_.max_resources) {
        return registry_status::too_many_resources;
    }
    const std::size_t old_bytes =
        existing ? existing->name.size() + common::serialize(existing->value).size() : 0;
    const std::size_t new_bytes = name.size() + value_bytes;
    if (new_bytes > old_bytes) {
        const auto growth = new_bytes - old_bytes;
        if (n->bytes + growth > limits_.max_node_bytes) {
            return registry_status::node_too_large;
        }
        if (total_bytes_ + growth > limits_.max_total_bytes) {
            return registry_status::cache_full;
        }
    }
    n->bytes = n->bytes - old_bytes + new_bytes;
    total_bytes_ = total_bytes_ - old_bytes + new_bytes;
    if (existing) {
        existing->value = std::move(value);
    } else {
        n->resources.push_back({std::string(name), std::move(value)});
    }
    return registry_status::ok;
}

registry_status node_registry::clear_resources(std::string_view uid,
                                               const std::vector<std::string>& keep)
{
    node* n = find_mutable(uid);
    if (!n) {
        return registry_status::unknown_node;
    }
    std::erase_if(n->resources, [&](const resource& r) {
        const bool drop = std::find(keep.begin(), keep.end(), r.name) == keep.end();
        if (drop) {
            const auto bytes = r.name.size() + common::serialize(r.value).size();
            n->bytes -= bytes;
            total_bytes_ -= bytes;
        }
        return drop;
    });
    return registry_status::ok;
}

bool node_registry::remove(std::string_view uid)
{
    const auto it = nodes_.find(uid);
    if (it == nodes_.end()) {
        return false;
    }
    total_bytes_ -= it->second.bytes;
    nodes_.erase(it);
    return true;
}

std::vector<std::string> node_registry::expire(time_point now,
                                               std::chrono::steady_clock::duration max_age)
{
    std::vector<std::string> removed;
    for (auto it = nodes_.begin(); it != nodes_.end();) {
        if (now - it->second.last_seen > max_age) {
            removed.push_back(it->first);
            total_bytes_ -= it->second.bytes;
            it = nodes_.erase(it);
        } else {
            ++it;
        }
    }
    return removed;
}

} // namespace aiot::gw
