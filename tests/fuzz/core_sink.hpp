#pragma once
// Applies a protocol adapter's node events to a real gateway_core, for the
// fuzz targets that drive an adapter's logic (the same loop as the
// gateway's, minus I/O).
#include "gateways/core/gateway_core.hpp"

#include <vector>

namespace aiot::fuzz {

// Until the logic decides no more events (Logic: take_node_events() and
// applied(statuses)).
template <class Logic>
void settle(gw::gateway_core& core, Logic& logic, gw::time_point now = {})
{
    for (auto events = logic.take_node_events(); !events.empty();
         events = logic.take_node_events()) {
        std::vector<gw::registry_status> statuses;
        for (const auto& e : events) {
            statuses.push_back(core.apply(e, now));
        }
        logic.applied(statuses);
    }
}

} // namespace aiot::fuzz
