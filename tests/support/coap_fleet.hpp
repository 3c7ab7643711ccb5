#pragma once
// A fleet of simulated CoAP nodes that boot at the same moment, for the
// burst test and bench/coap_nodes --burst. Node i is a UDP socket of its
// own on base + i, port node_port, all in one epoll set on the caller's
// thread. At boot() every node posts `reset:<prefix><i>` (CON) to /alive at
// once, with no window. Every CON is retransmitted with RFC 7252's timing
// (ACK_TIMEOUT, ACK_RANDOM_FACTOR, MAX_RETRANSMIT; the timeout doubles)
// until it is answered. Once its reset is answered a node posts
// `values_per_node` values `<resource>:<seq>` to /server, value_interval
// apart (CON, or NON), starting value_delay plus a random part of one
// interval later, and `alive:<uid>` every alive_interval (the timer's
// phase: a random part of alive_spread after boot). It answers the
// gateway's discovery: /.well-known/core lists /name; /name is
// "node <i>". Everything is bounded: values_per_node, retransmissions.
#include "support/coap_message.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include <netinet/in.h>

namespace aiot::test {

struct fleet_config {
    int nodes = 1000;
    std::string base = "127.1.0.1"; // node i: base + i
    std::uint16_t node_port = 5683; // every node's own port (source of its posts too)
    std::uint16_t gateway_port = 5683; // on 127.0.0.1
    std::string uid_prefix = "burst-";
    std::string resource = "bench"; // values: <resource>:<seq>
    int values_per_node = 5;
    std::chrono::milliseconds value_interval{1000};
    std::chrono::milliseconds value_delay{1000}; // after the reset's answer
    bool con_values = true;
    std::chrono::milliseconds alive_interval{8000};
    std::chrono::milliseconds alive_spread{1000};
    // RFC 7252 section 4.8
    std::chrono::milliseconds ack_timeout{2000};
    double ack_random_factor = 1.5;
    int max_retransmit = 4;
    unsigned seed = 1;
};

class coap_fleet {
public:
    using clock = std::chrono::steady_clock;

    explicit coap_fleet(fleet_config config);
    ~coap_fleet();
    coap_fleet(const coap_fleet&) = delete;
    coap_fleet& operator=(const coap_fleet&) = delete;

    // Opens and binds every node's socket; false with a message in error().
    bool open();
    // Every node posts its reset now.
    void boot();
    // Handles what arrived and what is due, waiting at most timeout_ms.
    void poll(int timeout_ms);
    // Whether every value was sent (their last transmission included).
    bool values_done() const { return values_sent_ == total_values(); }

    std::uint64_t total_values() const
    {
        return static_cast<std::uint64_t>(config_.nodes) *
               static_cast<std::uint64_t>(config_.values_per_node);
    }
    // First transmission time of value seq (clock ticks in ns, 0: not sent).
    std::uint64_t sent_at(std::uint64_t seq) const { return sent_at_[seq]; }
    clock::time_point booted_at() const { return booted_at_; }
    const std::string& error() const { return error_; }

    struct counters {
        std::uint64_t resets_answered = 0;
        std::uint64_t reset_retransmissions = 0;
        std::uint64_t alives = 0;
        std::uint64_t alive_retransmissions = 0;
        std::uint64_t values_sent = 0;
        std::uint64_t value_retransmissions = 0;
        std::uint64_t given_up = 0;          // CONs never answered after MAX_RETRANSMIT
        std::uint64_t error_answers = 0;     // answers other than 2.xx
        std::uint64_t discovery_requests = 0; // GETs answered
    };
    const counters& stats() const { return stats_; }

    // Time in ns on the steady clock, as sent_at() uses.
    static std::uint64_t now_ns();

private:
    enum class kind : std::uint8_t { reset, alive, value };
    struct pending {
        std::uint16_t mid = 0;
        kind what = kind::reset;
        std::string bytes;
        int transmissions = 1;
        clock::duration timeout{};
    };
    struct node_state {
        int fd = -1;
        std::uint16_t next_mid = 1;
        bool reset_answered = false;
        int values_sent = 0;
        std::vector<pending> cons; // unanswered CONs
    };
    enum class timer_kind : std::uint8_t { retransmit, alive, value };
    struct timer {
        clock::time_point at;
        int node;
        timer_kind what;
        std::uint16_t mid; // retransmit
        bool operator>(const timer& o) const { return at > o.at; }
    };

    void send(int node, const coap_message& m);
    void send_con(int node, kind what, coap_message m);
    void on_datagram(int node, const sockaddr_in& from, std::string_view bytes);
    void on_timer(const timer& t);
    void send_value(int node);
    void send_alive(int node);
    clock::duration initial_timeout();

    fleet_config config_;
    std::vector<node_state> nodes_;
    int epoll_ = -1;
    sockaddr_in gateway_{};
    std::priority_queue<timer, std::vector<timer>, std::greater<>> timers_;
    std::unique_ptr<std::uint64_t[]> sent_at_;
    std::uint64_t values_sent_ = 0; // last transmission included
    std::uint64_t next_seq_ = 0;
    clock::time_point booted_at_{};
    std::mt19937 random_;
    counters stats_;
    std::string error_;
};

} // namespace aiot::test
