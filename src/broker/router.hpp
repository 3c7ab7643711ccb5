#pragma once
// The broker's routing core (PROTOCOL.md section 2), free of I/O: events go
// in, deliveries come out. Peers are opaque ids chosen by the caller.
#include "common/message.hpp"

#include <spdlog/logger.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace aiot::broker {

using peer_id = std::uint64_t;

struct delivery {
    enum class target_kind { client, all_clients, all_gateways };

    target_kind target = target_kind::all_clients;
    peer_id client = 0; // when target == client
    // Serialised once by the adapter (common::serialize: the original's
    // bytes) and shared by every recipient.
    common::json payload;
    // all_clients: these clients are skipped (a `new` they already had).
    std::vector<peer_id> except;
};

class router {
public:
    explicit router(std::shared_ptr<spdlog::logger> log);

    // A web client connected on /ws; uuid is the id it is known by ("src",
    // and "dst" in gateway messages).
    void client_opened(peer_id id, std::string uuid);
    std::vector<delivery> client_message(peer_id id, common::message msg);
    void client_closed(peer_id id);

    void gateway_opened(peer_id id);
    std::vector<delivery> gateway_message(peer_id id, common::message msg);
    // One `out` broadcast per node the gateway had announced and no other
    // gateway holds (a node that moved to another gateway, or another
    // broker, stays).
    std::vector<delivery> gateway_closed(peer_id id);

    // Clients that sent `new`, in the order they subscribed.
    const std::vector<peer_id>& subscribers() const { return subscribers_; }
    const std::vector<peer_id>& gateways() const { return gateway_order_; }
    bool is_subscribed(peer_id id) const;
    // A connected client known by this uuid (it may not have sent `new`).
    bool has_client(std::string_view uuid) const;
    std::size_t client_count() const { return clients_.size(); }
    std::size_t gateway_count() const { return gateways_.size(); }
    // Nodes announced by a gateway (0 for an unknown gateway).
    std::size_t node_count(peer_id gateway) const;

private:
    struct client_state {
        std::string uuid;
        bool subscribed = false; // sent `new`: receives broadcasts and its dst replies
        // Nodes this client was sent `new` for, since their last `out`: a
        // gateway answering the client's `new` with its cache while it
        // announces the same node to all would otherwise send two.
        std::set<std::string, std::less<>> announced;
    };
    struct gateway_state {
        std::set<std::string, std::less<>> nodes;
    };

    // Broadcast, or delivery to the registered client named by dst.
    std::vector<delivery> to_dst(peer_id gw, common::json body, std::string_view what);
    // A `new` reaches each client once until the node's `out`.
    void once_per_client(const std::string& uid, std::vector<delivery>& out);
    void node_gone(const std::string& uid);
    // Takes `uid` from one gateway's holding; true when no gateway holds
    // it any more (the node is out for the clients).
    bool release(const std::string& uid);

    std::shared_ptr<spdlog::logger> log_;
    std::unordered_map<peer_id, client_state> clients_;
    std::unordered_map<std::string, peer_id> client_by_uuid_;
    // How many gateways hold each node (usually one; two while a gateway
    // moves, or one node is behind two gateways).
    std::unordered_map<std::string, unsigned> holders_;
    std::vector<peer_id> subscribers_;
    std::unordered_map<peer_id, gateway_state> gateways_;
    std::vector<peer_id> gateway_order_;
};

} // namespace aiot::broker
