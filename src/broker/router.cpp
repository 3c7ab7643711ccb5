#include "broker/router.hpp"

#include <algorithm>
#include <optional>

namespace aiot::broker {

using common::message_type;

namespace {

std::optional<std::string> string_field(const common::json& body, const char* name)
{
    const auto it = body.find(name);
    if (it == body.end() || !it->is_string()) {
        return std::nullopt;
    }
    return it->get<std::string>();
}

} // namespace

router::router(std::shared_ptr<spdlog::logger> log) : log_(std::move(log)) {}

void router::client_opened(peer_id id, std::string uuid)
{
    client_by_uuid_[uuid] = id;
    clients_[id] = client_state{std::move(uuid), false, {}};
}

void router::client_closed(peer_id id)
{
    const auto it = clients_.find(id);
    if (it == clients_.end()) {
        return;
    }
    if (it->second.subscribed) {
        std::erase(subscribers_, id);
    }
    const auto by_uuid = client_by_uuid_.find(it->second.uuid);
    if (by_uuid != client_by_uuid_.end() && by_uuid->second == id) {
        client_by_uuid_.erase(by_uuid);
    }
    clients_.erase(it);
}

bool router::has_client(std::string_view uuid) const
{
    return client_by_uuid_.contains(std::string(uuid));
}

bool router::is_subscribed(peer_id id) const
{
    const auto it = clients_.find(id);
    return it != clients_.end() && it->second.subscribed;
}

std::vector<delivery> router::client_message(peer_id id, common::message msg)
{
    const auto it = clients_.find(id);
    if (it == clients_.end()) {
        log_->warn("message from unknown client #{} ignored", id);
        return {};
    }
    auto& client = it->second;
    if (msg.type == message_type::new_) {
        if (client.subscribed) {
            // Each forwarded `new` makes every gateway replay its whole node
            // cache to this client: once per connection is enough.
            log_->debug("client {}: repeated new not forwarded", client.uuid);
            return {};
        }
        client.subscribed = true;
        subscribers_.push_back(id);
        log_->info("client {} subscribed to broadcasts", client.uuid);
    }
    log_->debug("client {}: {} message to {} gateway(s)", client.uuid, common::to_string(msg.type),
                gateways_.size());
    msg.body["src"] = client.uuid;
    std::vector<delivery> out;
    out.push_back(delivery{delivery::target_kind::all_gateways, 0, std::move(msg.body), {}});
    return out;
}

void router::gateway_opened(peer_id id)
{
    if (gateways_.emplace(id, gateway_state{}).second) {
        gateway_order_.push_back(id);
    }
}

std::size_t router::node_count(peer_id gateway) const
{
    const auto it = gateways_.find(gateway);
    return it == gateways_.end() ? 0 : it->second.nodes.size();
}

std::vector<delivery> router::to_dst(peer_id gw, common::json body, std::string_view what)
{
    std::vector<delivery> out;
    const auto dst = string_field(body, "dst");
    if (!dst) {
        log_->warn("gateway #{}: {} without a string dst ignored", gw, what);
        return out;
    }
    if (*dst == "all") {
        out.push_back(delivery{delivery::target_kind::all_clients, 0, std::move(body), {}});
        return out;
    }
    const auto client = client_by_uuid_.find(*dst);
    if (client == client_by_uuid_.end() || !is_subscribed(client->second)) {
        // As the original: dst is looked up among the clients that sent `new`.
        log_->debug("gateway #{}: {} for client {} which is gone or never sent new, dropped", gw,
                    what, *dst);
        return out;
    }
    out.push_back(delivery{delivery::target_kind::client, client->second, std::move(body), {}});
    return out;
}

std::vector<delivery> router::gateway_message(peer_id id, common::message msg)
{
    std::vector<delivery> out;
    const auto it = gateways_.find(id);
    if (it == gateways_.end()) {
        log_->warn("message from unknown gateway #{} ignored", id);
        return out;
    }
    auto& nodes = it->second.nodes;
    const auto type = common::to_string(msg.type);
    const auto uid = string_field(msg.body, "uid");
    if (!uid) {
        log_->warn("gateway #{}: {} message without a string uid ignored", id, type);
        return out;
    }

    switch (msg.type) {
    case message_type::new_: {
        if (!string_field(msg.body, "dst")) {
            log_->warn("gateway #{}: new for node {} without a string dst ignored", id, *uid);
            return out;
        }
        if (nodes.insert(*uid).second) {
            ++holders_[*uid];
            log_->info("node {} new (gateway #{})", *uid, id);
        } else {
            log_->debug("gateway #{}: new for known node {}", id, *uid);
        }
        out = to_dst(id, std::move(msg.body), "new");
        once_per_client(*uid, out);
        return out;
    }
    case message_type::update:
        if (*uid == "alive") {
            log_->debug("gateway #{}: keep-alive", id);
            return out;
        }
        if (!nodes.contains(*uid)) {
            log_->debug("gateway #{}: update for node {} it never announced, dropped", id, *uid);
            return out;
        }
        log_->debug("gateway #{}: update for node {}", id, *uid);
        return to_dst(id, std::move(msg.body), "update");
    case message_type::out: {
        const auto node = nodes.find(*uid);
        if (node == nodes.end()) {
            log_->debug("gateway #{}: out for node {} it never announced, dropped", id, *uid);
            return out;
        }
        nodes.erase(node);
        if (!release(*uid)) {
            log_->info("node {} out from gateway #{}, still held by another gateway", *uid, id);
            return out;
        }
        node_gone(*uid);
        log_->info("node {} out (gateway #{})", *uid, id);
        out.push_back(delivery{delivery::target_kind::all_clients, 0, std::move(msg.body), {}});
        return out;
    }
    case message_type::reset:
        log_->info("node {} reset (gateway #{})", *uid, id);
        out.push_back(delivery{delivery::target_kind::all_clients, 0, std::move(msg.body), {}});
        return out;
    }
    return out;
}

void router::once_per_client(const std::string& uid, std::vector<delivery>& out)
{
    if (out.empty()) {
        return;
    }
    auto& d = out.front();
    if (d.target == delivery::target_kind::client) {
        if (!clients_.at(d.client).announced.insert(uid).second) {
            log_->debug("new for node {} not sent again to client {}", uid,
                        clients_.at(d.client).uuid);
            out.clear();
        }
        return;
    }
    for (const auto id : subscribers_) {
        if (!clients_.at(id).announced.insert(uid).second) {
            d.except.push_back(id);
        }
    }
    if (!d.except.empty()) {
        log_->debug("new for node {} not sent again to {} client(s)", uid, d.except.size());
    }
}

bool router::release(const std::string& uid)
{
    const auto it = holders_.find(uid);
    if (it == holders_.end() || --it->second == 0) {
        if (it != holders_.end()) {
            holders_.erase(it);
        }
        return true;
    }
    return false;
}

void router::node_gone(const std::string& uid)
{
    for (auto& [id, client] : clients_) {
        client.announced.erase(uid);
    }
}

std::vector<delivery> router::gateway_closed(peer_id id)
{
    std::vector<delivery> out;
    const auto it = gateways_.find(id);
    if (it == gateways_.end()) {
        return out;
    }
    for (const auto& uid : it->second.nodes) {
        if (!release(uid)) {
            log_->info("node {} stays: held by another gateway than #{}", uid, id);
            continue;
        }
        node_gone(uid);
        log_->info("node {} out (gateway #{} closed)", uid, id);
        out.push_back(
            delivery{delivery::target_kind::all_clients, 0, common::make_out(uid), {}});
    }
    gateways_.erase(it);
    std::erase(gateway_order_, id);
    return out;
}

} // namespace aiot::broker
