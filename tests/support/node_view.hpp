#pragma once
// What a web client learns about nodes from the broker: every node's
// resources (last value and how many updates), and which uids went out.
// Header-only helper for end-to-end tests of the gateways.
#include "support/ws_client.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

namespace aiot::test {

class node_view {
public:
    using json = nlohmann::json;

    struct node {
        std::map<std::string, json> resources;
        std::map<std::string, std::size_t> updates; // per resource
    };

    // Applies one broker -> client message (new, update, out, reset).
    void apply(const json& m)
    {
        const auto type = m.value("type", "");
        const auto uid = m.value("uid", "");
        if (type == "new") {
            nodes_[uid];
            out_.erase(uid);
        } else if (type == "update" && m.contains("endpoint") && m.contains("data")) {
            auto& n = nodes_[uid];
            const auto endpoint = m["endpoint"].get<std::string>();
            n.resources[endpoint] = m["data"];
            ++n.updates[endpoint];
        } else if (type == "out") {
            nodes_.erase(uid);
            out_.insert(uid);
        } else if (type == "reset") {
            nodes_[uid].resources.clear();
        }
    }

    // Called by watch() with each message before it is applied (a test's
    // own checks on the stream, e.g. no second `new` without an `out`).
    std::function<void(const json&)> on_message;

    // Reads the client's messages into the view until pred holds (true) or
    // the timeout passes (false).
    bool watch(ws_client& client, const std::function<bool(const node_view&)>& pred,
               std::chrono::milliseconds timeout = std::chrono::seconds(10))
    {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!pred(*this)) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                return false;
            }
            const auto m = client.receive_json(left);
            if (m) {
                if (on_message) {
                    on_message(*m);
                }
                apply(*m);
            } else if (!client.is_open()) {
                return pred(*this);
            }
        }
        return true;
    }

    // Until resource `name` of uid equals value.
    bool wait_value(ws_client& client, const std::string& uid, const std::string& name,
                    const json& value, std::chrono::milliseconds timeout = std::chrono::seconds(10))
    {
        return watch(
            client,
            [&](const node_view& v) {
                const auto* r = v.resource(uid, name);
                return r && *r == value;
            },
            timeout);
    }

    // Until `count` more updates of resource `name` of uid arrived.
    bool wait_updates(ws_client& client, const std::string& uid, const std::string& name,
                      std::size_t count = 2,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10))
    {
        const auto target = updates(uid, name) + count;
        return watch(
            client, [&](const node_view& v) { return v.updates(uid, name) >= target; }, timeout);
    }

    // The uid of the first node whose resource `name` equals value.
    std::optional<std::string> find(const std::string& name, const json& value) const
    {
        for (const auto& [uid, n] : nodes_) {
            const auto it = n.resources.find(name);
            if (it != n.resources.end() && it->second == value) {
                return uid;
            }
        }
        return std::nullopt;
    }

    const json* resource(const std::string& uid, const std::string& name) const
    {
        const auto n = nodes_.find(uid);
        if (n == nodes_.end()) {
            return nullptr;
        }
        const auto r = n->second.resources.find(name);
        return r == n->second.resources.end() ? nullptr : &r->second;
    }

    std::size_t updates(const std::string& uid, const std::string& name) const
    {
        const auto n = nodes_.find(uid);
        if (n == nodes_.end()) {
            return 0;
        }
        const auto u = n->second.updates.find(name);
        return u == n->second.updates.end() ? 0 : u->second;
    }

    bool has(const std::string& uid) const { return nodes_.count(uid) > 0; }
    bool is_out(const std::string& uid) const { return out_.count(uid) > 0; }
    const std::map<std::string, node>& nodes() const { return nodes_; }

private:
    std::map<std::string, node> nodes_;
    std::set<std::string> out_;
};

} // namespace aiot::test
