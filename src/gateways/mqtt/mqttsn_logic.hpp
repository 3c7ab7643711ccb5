#pragma once
// The MQTT-SN v1.2 gateway's client handling, sans-I/O: datagrams from
// clients go in with the time; datagrams to send, and the clients'
// publishes, come out as data. A client is an opaque peer key (the adapter
// uses its UDP endpoint as text). Publishes for the clients go in through
// deliver(): each client subscribed to that exact topic gets it.
//
// Supported: CONNECT (with the will dialogue) / CONNACK, REGISTER / REGACK,
// PUBLISH QoS -1 (predefined and short topics), 0 and 1 with PUBACK,
// SUBSCRIBE / SUBACK and UNSUBSCRIBE / UNSUBACK with topic names, short
// names and predefined ids, PINGREQ / PINGRESP, DISCONNECT, SEARCHGW /
// GWINFO, the keep-alive timeout (1.5 x the client's duration, as the
// spec suggests), and the will on a lost client. Not supported, answered
// as such: QoS 2 (PUBACK / SUBACK "not supported"), wildcard topic
// filters (SUBACK "not supported"), sleeping clients (a DISCONNECT with a
// duration ends the session). A packet from a peer that is not connected
// gets a DISCONNECT, except a QoS 1 PUBLISH, which gets PUBACK "invalid
// topic id" (so a client that outlived a gateway restart notices at once).
//
// Bounds: max_clients sessions; per client max_topics registered topics,
// max_subscriptions subscriptions and max_inflight unacknowledged QoS 1
// publishes to it (retried every retry_interval, at most max_retries
// times). Bad datagrams are dropped with a log line (rate-limited per
// tick). Single-threaded; no clock reads.
#include "gateways/core/fwd.hpp"
#include "gateways/mqtt/mqttsn_codec.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::gw::mqttsn {

using time_point = std::chrono::steady_clock::time_point;

struct logic_config {
    std::uint8_t gateway_id = 1;
    std::size_t max_clients = 1000;
    std::size_t max_topics = 64;        // registered topic ids per client
    std::size_t max_subscriptions = 32; // per client
    std::size_t max_inflight = 16;      // QoS 1 publishes to a client awaiting PUBACK
    std::size_t max_topic_bytes = 256;
    std::size_t max_client_id_bytes = 23; // the spec's limit
    std::chrono::milliseconds retry_interval{3000};
    unsigned max_retries = 3;
    std::size_t warnings_per_tick = 10;
    // Topic ids both sides know (TopicIdType "predefined").
    std::map<std::uint16_t, std::string> predefined = {{1, "node/check"}, {2, "gateway/check"}};
};

// A datagram for the adapter to send.
struct outgoing {
    std::string peer;
    std::string bytes;
};

// A client's publish, for the topic logic.
struct client_publish {
    std::string client_id;
    std::string topic;
    std::string payload;
};

class mqttsn_logic {
public:
    struct subscription {
        std::string topic;
        int qos = 0;
    };
    struct client {
        std::string client_id;
        std::chrono::seconds keep_alive{0};
        time_point last_heard{};
        enum class state { awaiting_will_topic, awaiting_will_message, active } st = state::active;
        std::map<std::uint16_t, std::string> topics; // registered: id -> name
        std::vector<subscription> subscriptions;
        std::uint16_t next_topic_id = 1;
        std::uint16_t next_msg_id = 1;
        struct inflight {
            std::uint16_t msg_id;
            std::string bytes; // the PUBLISH, resent with DUP
            time_point next_retry;
            unsigned retries = 0;
        };
        std::deque<inflight> inflight;
        bool will = false;
        std::string will_topic;
        std::string will_message;
    };

    // A null logger means get_logger("gw.mqttsn").
    explicit mqttsn_logic(logic_config config, std::shared_ptr<spdlog::logger> log = nullptr);

    // One datagram from peer.
    void datagram(const std::string& peer, std::string_view bytes, time_point now);
    // A message for the clients subscribed to topic (QoS: the smaller of 1
    // and the subscription's).
    void deliver(std::string_view topic, std::string_view payload, time_point now);
    // About every second: keep-alive timeouts, QoS 1 retries, log summary.
    void tick(time_point now);

    std::vector<outgoing> take_datagrams();
    std::vector<client_publish> take_publishes();

    const client* find(std::string_view peer) const;
    std::size_t size() const { return clients_.size(); }
    std::uint64_t dropped() const { return dropped_; }

private:
    void on_connect(const std::string& peer, const connect& p, time_point now);
    void on_publish(const std::string& peer, client* c, const publish& p);
    void on_subscribe(const std::string& peer, client& c, const subscribe& p);
    void on_unsubscribe(const std::string& peer, client& c, const unsubscribe& p);
    void on_register(const std::string& peer, client& c, const register_& p);
    void on_puback(client& c, const puback& p);
    void finish_connect(const std::string& peer, client& c);
    // Removes the session; publishes the will if `lost`.
    void drop(const std::string& peer, bool lost, const std::string& why);
    void send(const std::string& peer, const packet& p);
    void reject(const std::string& peer, const std::string& reason);
    // The topic name of a publish's topic field for c (empty: unknown).
    std::string topic_of(const client* c, const flags& f, std::uint16_t id) const;
    bool valid_topic(std::string_view name) const;

    logic_config config_;
    std::shared_ptr<spdlog::logger> log_;
    std::map<std::string, client, std::less<>> clients_; // peer -> session
    std::vector<outgoing> out_;
    std::vector<client_publish> publishes_;
    std::size_t warning_budget_;
    std::uint64_t unlogged_ = 0;
    std::uint64_t dropped_ = 0;
};

} // namespace aiot::gw::mqttsn
