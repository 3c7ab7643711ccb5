#pragma once
// What a protocol adapter's logic asks of the node cache. gateway_service
// implements it; unit tests of an adapter's logic pass a recording double
// instead, so the logic needs no io_context.
#include "gateways/core/node_registry.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace aiot::gw {

class node_sink {
public:
    virtual ~node_sink() = default;
    virtual registry_status add_node(std::string_view uid, const std::vector<resource>& initial) = 0;
    virtual registry_status set_resource(std::string_view uid, std::string_view name,
                                         json value) = 0;
    virtual registry_status touch(std::string_view uid) = 0;
    virtual registry_status reset_node(std::string_view uid,
                                       const std::vector<std::string>& keep) = 0;
    // Removes the node at once (web clients get `out`); false if unknown.
    virtual bool remove_node(std::string_view uid) = 0;
};

} // namespace aiot::gw
