#pragma once
// A node_sink over a real gateway_core, for the fuzz targets that drive a
// protocol adapter's logic (the same wiring as gateway_service, minus I/O).
#include "gateways/core/gateway_core.hpp"
#include "gateways/core/node_sink.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace aiot::fuzz {

class core_sink final : public gw::node_sink {
public:
    explicit core_sink(gw::gateway_core& core) : core_(core) {}

    gw::registry_status add_node(std::string_view uid,
                                 const std::vector<gw::resource>& initial) override
    {
        return core_.node_added(uid, now, initial);
    }
    gw::registry_status set_resource(std::string_view uid, std::string_view name,
                                     gw::json value) override
    {
        return core_.resource_changed(uid, name, std::move(value), now);
    }
    gw::registry_status touch(std::string_view uid) override { return core_.node_seen(uid, now); }
    gw::registry_status reset_node(std::string_view uid,
                                   const std::vector<std::string>& keep) override
    {
        return core_.node_reset(uid, now, keep);
    }
    bool remove_node(std::string_view uid) override { return core_.node_removed(uid); }

    gw::time_point now{};

private:
    gw::gateway_core& core_;
};

} // namespace aiot::fuzz
