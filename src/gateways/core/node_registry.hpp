#pragma once
// The nodes a gateway knows: resources and last-seen time. Each adapter
// keeps its own protocol state (CoAP address, MQTT node id, websocket
// session) keyed by uid; the registry knows only uids.
// Sans-I/O: no clock reads, time is passed in. Every container is bounded
// by registry_limits; a refusal is a status, never an exception.
#include "common/json_text.hpp"

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::gw {

using json = common::json;
using time_point = std::chrono::steady_clock::time_point;

struct resource {
    std::string name;
    json value;
};

struct node {
    std::string uid;
    std::vector<resource> resources; // in the order they were first set
    time_point last_seen{};
    std::size_t bytes = 0; // resource names and serialised values, counted in the budget

    // The value of resource `name`, or nullptr.
    const json* find(std::string_view name) const;
};

struct registry_limits {
    std::size_t max_nodes = 10000;
    std::size_t max_resources = 64;      // per node
    std::size_t max_value_bytes = 16384; // one value, serialised
    std::size_t max_name_bytes = 256;    // uid, resource name
    // Every node's resources together (names and serialised values): the
    // cache of one gateway never holds more than this, whatever nodes send.
    std::size_t max_total_bytes = 64u << 20;
    std::size_t max_node_bytes = 64u << 10; // one node's resources
};

enum class registry_status {
    ok,
    exists,             // add: the uid is already known (nothing changed)
    unknown_node,       // the uid is not known
    invalid_name,       // empty or longer than max_name_bytes
    too_many_nodes,     // max_nodes reached
    too_many_resources, // max_resources reached for this node
    value_too_large,    // value longer than max_value_bytes
    node_too_large,     // the node's resources would pass max_node_bytes
    cache_full,         // the whole cache would pass max_total_bytes
};

// A short text for logs ("too many nodes", ...).
std::string_view to_string(registry_status s);

class node_registry {
public:
    explicit node_registry(registry_limits limits = {});

    // A new node with no resources, last seen `now`.
    registry_status add(std::string_view uid, time_point now);
    // Sets last-seen to `now`.
    registry_status touch(std::string_view uid, time_point now);
    // Adds or replaces a resource (a new one goes last).
    registry_status set_resource(std::string_view uid, std::string_view name, json value);
    // Drops every resource whose name is not in `keep` (order kept).
    registry_status clear_resources(std::string_view uid, const std::vector<std::string>& keep);
    // Forgets the node. False if unknown.
    bool remove(std::string_view uid);
    // Removes the nodes not seen for more than max_age; returns their uids.
    std::vector<std::string> expire(time_point now, std::chrono::steady_clock::duration max_age);

    const node* find(std::string_view uid) const;
    bool contains(std::string_view uid) const { return find(uid) != nullptr; }
    std::size_t size() const { return nodes_.size(); }
    // Bytes counted against max_total_bytes.
    std::size_t total_bytes() const { return total_bytes_; }
    const registry_limits& limits() const { return limits_; }

    // Every node, ordered by uid.
    const std::map<std::string, node, std::less<>>& nodes() const { return nodes_; }

private:
    bool valid_name(std::string_view name) const;
    node* find_mutable(std::string_view uid);

    registry_limits limits_;
    std::map<std::string, node, std::less<>> nodes_;
    std::size_t total_bytes_ = 0;
};

} // namespace aiot::gw
