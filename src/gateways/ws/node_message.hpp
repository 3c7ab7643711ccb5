#pragma once
// The websocket node protocol (PROTOCOL.md section 6), sans-I/O: what a
// node may send and what the gateway sends it.
#include "gateways/core/node_registry.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::gw::ws {

// A node message: {"type":"update","data":{"<res>":V,...}}. Either the
// updates (by resource name; values keep their JSON type) or, when the
// message is invalid, the reason (cut to fit a close frame). At most
// max_updates pairs are taken; `skipped` counts the rest.
struct node_message {
    std::vector<resource> updates;
    std::size_t skipped = 0;
    std::string error;

    bool valid() const { return error.empty(); }
};

node_message parse_node_message(std::string_view text, std::size_t max_updates = 64);

// Gateway -> node.
std::string make_discover_request();                                        // {"request":"discover"}
std::string make_node_write(std::string_view endpoint, std::string_view payload); // {"endpoint","payload"}

} // namespace aiot::gw::ws
