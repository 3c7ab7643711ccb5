#pragma once
// What a protocol adapter's sans-I/O logic decided about the node cache,
// as data: the logic returns these events, and one loop in the adapter
// hands them to the gateway service (gateway_core::apply), then gives the
// statuses back to the logic. The logic never calls the service, so the
// service can never call back into a logic that is half-way through an
// event.
#include "gateways/core/node_registry.hpp"

#include <string>
#include <vector>

namespace aiot::gw {

struct node_event {
    enum class kind { add, set, touch, reset, remove };

    kind what = kind::touch;
    std::string uid;
    std::string name;                 // set: the resource
    json value;                       // set: its value
    std::vector<resource> initial;    // add: resources after `protocol`
    std::vector<std::string> keep;    // reset: resources kept

    static node_event added(std::string uid, std::vector<resource> initial = {})
    {
        return {kind::add, std::move(uid), {}, {}, std::move(initial), {}};
    }
    static node_event changed(std::string uid, std::string name, json value)
    {
        return {kind::set, std::move(uid), std::move(name), std::move(value), {}, {}};
    }
    static node_event seen(std::string uid) { return {kind::touch, std::move(uid), {}, {}, {}, {}}; }
    static node_event was_reset(std::string uid, std::vector<std::string> keep = {})
    {
        return {kind::reset, std::move(uid), {}, {}, {}, std::move(keep)};
    }
    static node_event removed(std::string uid)
    {
        return {kind::remove, std::move(uid), {}, {}, {}, {}};
    }
};

} // namespace aiot::gw
