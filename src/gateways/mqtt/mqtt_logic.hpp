#pragma once
// The MQTT gateway's topic protocol (PROTOCOL.md section 5), sans-I/O.
// Events go in (the MQTT connection came up or went down, a message
// arrived, time passed, a web client wrote, the core expired a node);
// decisions come out as data: node events for the cache
// (take_node_events(); their statuses come back through applied()) and
// what to do on the MQTT connection (subscribe, unsubscribe, publish)
// through take_actions(). Single-threaded; no clock reads; every container
// bounded.
#include "gateways/core/fwd.hpp"
#include "gateways/core/gateway_core.hpp"
#include "gateways/core/node_event.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace aiot::gw::mqtt {

// Actions for the MQTT connection (never retained). node/check and the
// resource lists are subscribed at QoS 1, the values at values_qos, each
// in its own subscribe_topics.
struct subscribe_topics {
    std::vector<std::string> topics;
    int qos = 1;
};
struct unsubscribe_topics {
    std::vector<std::string> topics;
};
struct publish_message {
    std::string topic;
    std::string payload;
    int qos = 1;
};
using action = std::variant<subscribe_topics, unsubscribe_topics, publish_message>;

struct logic_config {
    std::size_t max_nodes = 10000;
    std::size_t max_resources = 60;            // resource topics per node
    std::size_t max_name_bytes = 64;           // node id, resource name, write endpoint
    std::size_t max_payload_bytes = 64 * 1024; // larger MQTT payloads are ignored
    std::chrono::seconds check_interval{30};   // gateway/check; zero: never
    std::size_t warnings_per_tick = 10;        // rejected input logged per tick, the rest counted
    // An undiscovered node checking in is asked for its resources again,
    // but not sooner than this after the last request, doubled after each
    // request up to 8 times this: under a burst the answer may just be
    // queued, and asking at every check multiplied the load (25,784
    // requests for 10,000 nodes, issue 16).
    std::chrono::seconds rediscover_interval{5};
    // QoS of the value subscriptions (node/<id>/<resource>); node/check and
    // node/<id>/resources are always QoS 1. At 0 the MQTT broker sends
    // values without waiting for acknowledgements (mosquitto's window is 20
    // unacknowledged QoS 1 messages per client, and the gateway is one
    // client receiving every node's values: issue 16).
    int values_qos = 1;
    // QoS of the discovery requests (gateway/<id>/discover). At 1 each
    // needs a PUBACK, which under a burst comes back behind the values, and
    // a place in the client's max_in_flight window; at 0 the gateway spent
    // a fifth to a quarter less CPU on a 10,000-node burst (issue 16). An
    // unanswered request for resources is asked again (rediscover_interval);
    // one for values only hastens the node's first value. gateway/check and
    // writes are always QoS 1.
    int discovery_qos = 0;
};

// True if `name` can be one level of a topic we subscribe to or publish:
// not empty, at most max_bytes, no '/', '+', '#' and no control character.
bool valid_topic_level(std::string_view name, std::size_t max_bytes);

class mqtt_logic {
public:
    struct node_state {
        std::string uid;
        std::vector<std::string> resources; // subscribed node/<id>/<res>, in order
        bool discovered = false;            // its resource list arrived
        std::uint64_t admitted = 0;         // admission order (undiscovered_ key)
        time_point asked{};                 // last request for its resource list
        unsigned asks = 0;                  // requests for it so far
    };

    // A null logger means get_logger("gw.mqtt"); an empty make_uid means
    // common::make_uuid.
    mqtt_logic(logic_config config, std::shared_ptr<spdlog::logger> log,
               std::function<std::string()> make_uid = {});

    // The MQTT session is up (first time or again): subscribe node/check and
    // every known node's topics, publish gateway/check, and ask nodes whose
    // resource list never came for it again.
    void connected(time_point now);
    // Until the next connected(), nothing is published or subscribed.
    void disconnected();
    // A message on one of our subscriptions (or anything else the broker sends).
    void message(std::string_view topic, std::string_view payload);
    // About every second: gateway/check when due; summary of unlogged rejections.
    void tick(time_point now);
    // A web client wrote to one of our nodes: gateway/<id>/<endpoint>/set.
    void write(const write_command& w);
    // The core removed the node for silence (`out` is sent): forget it and
    // unsubscribe its topics.
    void node_expired(std::string_view uid);

    // Node changes decided since the last call, in order.
    std::vector<node_event> take_node_events();
    // The statuses of the last take_node_events(), in the same order (a
    // node is admitted only once the cache took it). May decide more
    // events and actions.
    void applied(const std::vector<registry_status>& statuses);
    // Everything decided for the MQTT connection since the last call, in
    // order. Take it after the node events are settled.
    std::vector<action> take_actions();

    const node_state* find(std::string_view node_id) const;
    std::size_t size() const { return nodes_.size(); }
    bool is_connected() const { return connected_; }
    // Messages ignored as invalid since the start.
    std::uint64_t rejected() const { return rejected_; }
    // Undiscovered nodes removed to admit new ones while the table was full.
    std::uint64_t evicted() const { return evicted_; }
    // Resource lists asked again because the last ask went unanswered
    // (failed discoveries).
    std::uint64_t rediscoveries() const { return rediscoveries_; }

private:
    void on_check(std::string_view payload);
    // The cache answered the `add` of a new node.
    void admitted(const std::string& node_id, const std::string& uid, registry_status status);
    void emit(node_event e, std::function<void(registry_status)> then = {});
    void on_resources(const std::string& node_id, node_state& n, std::string_view payload);
    void on_value(const std::string& node_id, node_state& n, std::string_view resource,
                  std::string_view payload);
    // node/<id>/resources to `discovery`, node/<id>/<res> for each resource
    // to `values` (may be the same vector).
    static void append_topics(const std::string& node_id, const node_state& n,
                              std::vector<std::string>& discovery,
                              std::vector<std::string>& values);
    void discover(const std::string& node_id, std::string_view what);
    void ask_resources(const std::string& node_id, node_state& n);
    // The table is full: removes the node that has waited longest for its
    // resource list, if any; false if every node completed discovery.
    bool evict_undiscovered(std::string_view for_node);
    void forget(std::map<std::string, node_state, std::less<>>::iterator node);

    // Counts an ignored message; logs it at warn while this tick's budget lasts.
    void reject(const std::string& reason);

    logic_config config_;
    std::vector<node_event> events_;
    std::vector<std::function<void(registry_status)>> then_;  // one per event in events_
    std::vector<std::function<void(registry_status)>> taken_; // ... of the last take
    std::shared_ptr<spdlog::logger> log_;
    std::function<std::string()> make_uid_;
    std::map<std::string, node_state, std::less<>> nodes_;      // node id -> state
    std::map<std::string, std::string, std::less<>> node_ids_; // uid -> node id
    // Nodes whose resource list has not come, oldest first: when the table
    // is full they make room, so ids published by anyone who can reach the
    // MQTT broker cannot lock out nodes that answer discovery.
    std::map<std::uint64_t, std::string> undiscovered_;
    std::uint64_t admissions_ = 0;
    std::uint64_t evicted_ = 0;
    std::uint64_t unlogged_evictions_ = 0;
    std::vector<action> actions_;
    bool connected_ = false;
    time_point next_check_{};
    time_point now_{}; // of the last connected() or tick()
    std::size_t warning_budget_;
    std::uint64_t unlogged_ = 0;
    std::uint64_t rejected_ = 0;
    std::uint64_t rediscoveries_ = 0;
    bool full_ = false; // max_nodes reached with every node discovered (logged once per episode)
};

} // namespace aiot::gw::mqtt
