#pragma once
// Many simulated MQTT nodes, each its own MQTT 3.1.1 connection (a raw TCP
// socket, not Paho: a Paho client per node costs threads and list scans
// that would measure the load tool), all on one thread with one epoll set.
// For the burst test and bench/mqtt_nodes --burst (docs/PERFORMANCE.md).
//
// connect() opens every connection (at most `connect_window` handshakes at
// a time: mosquitto's listen backlog is small) and subscribes each node to
// gateway/<id>/discover. start() then runs the fleet on its own thread:
//  - at once, every node publishes node/check {"id":"<id>"} (no window);
//  - a node answers `resources` with node/<id>/resources ["temperature"]
//    and `values` with node/<id>/temperature {"value":"init"};
//  - from then on (its topics are subscribed by then: the gateway
//    subscribes before it asks for values), it publishes `values` values,
//    `value_interval` apart, the first after a random part of one interval,
//    each {"value":"v<node>.<k>.<steady ns>"} (parse_value() reads it);
//  - every node publishes node/check again every `check_interval`.
// Bounded: a fixed number of nodes and values; stop() (or the destructor)
// ends the thread. Counters are atomics, safe to read from any thread.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace aiot::test {

struct mqtt_fleet_config {
    std::uint16_t port = 1883;      // mosquitto on 127.0.0.1
    int nodes = 1000;
    std::string id_prefix = "burst-"; // node i is <prefix><i>
    int qos = 1;                    // of every publish and of the subscription
    int values = 5;                 // per node, after its discovery
    std::chrono::milliseconds value_interval{1000};
    std::chrono::milliseconds check_interval{8000}; // zero: only the first check
    std::size_t connect_window = 256;
};

struct mqtt_value {
    int node = 0;
    int index = 0;
    std::uint64_t sent_ns = 0; // steady_clock
};
// Reads "v<node>.<k>.<ns>"; std::nullopt for anything else (e.g. "init").
std::optional<mqtt_value> parse_value(std::string_view data);
std::uint64_t steady_ns();

class mqtt_fleet {
public:
    explicit mqtt_fleet(mqtt_fleet_config config);
    ~mqtt_fleet();
    mqtt_fleet(const mqtt_fleet&) = delete;
    mqtt_fleet& operator=(const mqtt_fleet&) = delete;

    // Blocking, on the caller's thread: connects and subscribes every node.
    // Returns how many are ready (all of them unless something failed;
    // error() says what).
    std::size_t connect(std::chrono::milliseconds timeout);
    // Starts the fleet's thread: the burst of node/check, then the above.
    void start();
    void stop();

    const std::string& error() const { return error_; }
    std::string node_id(int i) const { return config_.id_prefix + std::to_string(i); }

    std::atomic<std::uint64_t> checks_sent{0};
    std::atomic<std::uint64_t> discover_requests{0};
    std::atomic<std::uint64_t> values_sent{0};
    std::atomic<std::uint64_t> nodes_done{0}; // sent all their values
    std::atomic<std::uint64_t> connections_lost{0};
    std::atomic<std::uint64_t> burst_ns{0}; // when the burst began (steady)
    // Seconds after the burst at which each node's first request for its
    // resources and for its values arrived, in arrival order. Written by
    // the fleet's thread: read them after stop().
    std::vector<double> resources_asked_s;
    std::vector<double> values_asked_s;

private:
    struct node;
    void run();
    bool pump(node& n); // reads what is there; false if the connection ended
    void handle_publish(node& n, std::string_view topic, std::string_view payload);
    void send(node& n, std::string bytes);
    void flush(node& n);
    void publish(node& n, std::string_view topic, std::string_view payload);

    mqtt_fleet_config config_;
    std::vector<node> nodes_;
    int epoll_ = -1;
    int wake_ = -1; // eventfd: stop()
    std::atomic<bool> stopping_{false};
    std::thread thread_;
    std::string error_;
};

} // namespace aiot::test
