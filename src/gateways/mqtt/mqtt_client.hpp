#pragma once
// An MQTT client (Eclipse Paho C++) that lives on an io_context: every
// Paho callback only posts to that io_context, so the handlers below run on
// its thread, and every call is made from it. Connects, and reconnects
// after any loss with backoff and jitter, forever, with a clean session (the
// connected handler re-subscribes). Received messages waiting for the io
// thread and unacknowledged publishes are both bounded. No Paho or Asio in
// this header.
#include "common/backoff.hpp"
#include "gateways/core/fwd.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>


namespace aiot::gw::mqtt {

// TLS towards the MQTT broker (--mqtt-ssl): the broker's certificate must
// chain to ca_file (else the system's trust store) and name the host it
// is reached at; cert_file/key_file (both or neither) are a client
// certificate for a broker that requires one. TLS 1.2 at least.
struct tls_config {
    bool enabled = false;
    std::string ca_file;
    std::string cert_file;
    std::string key_file;
};

struct client_config {
    std::string host = "localhost";
    std::uint16_t port = 1886; // the same default with TLS (mosquitto's TLS port is 8883)
    tls_config tls;
    std::string client_id; // empty: "aiot-<uuid8>"
    common::backoff_config retry{};
    std::chrono::seconds keep_alive{20};
    std::chrono::seconds connect_timeout{5};
    std::size_t max_pending_messages = 100'000; // received, not yet handled: newer ones dropped
    std::size_t max_pending_publishes = 20'000; // queued or not yet acknowledged: newer ones dropped
    // QoS 1 publishes handed to Paho and not acknowledged yet; the rest wait
    // in our queue. Paho scans its lists of pending commands, message ids
    // and tokens once per call, so 10,000 publishes handed over at once
    // cost it quadratic time (issue 16): keep its lists short.
    std::size_t max_in_flight = 256;
    std::size_t max_topics_per_request = 256;   // topics in one SUBSCRIBE/UNSUBSCRIBE
};

// "aiot-<prefix>-<8 random hex digits>": unique per instance.
std::string make_client_id(std::string_view prefix);

class mqtt_client {
public:
    struct handlers {
        std::function<void()> connected;    // session up (again): subscribe now
        std::function<void()> disconnected; // an established session was lost
        std::function<void(std::string_view topic, std::string_view payload)> message;
    };

    mqtt_client(boost::asio::io_context& ioc, client_config config, handlers h,
                std::shared_ptr<spdlog::logger> log);
    ~mqtt_client(); // no handler is called afterwards
    mqtt_client(const mqtt_client&) = delete;
    mqtt_client& operator=(const mqtt_client&) = delete;

    void start();
    // Disconnects (keeping the io_context busy until Paho is done, at most
    // 300 ms) and stops reconnecting.
    void stop();

    // Called on the io thread after the messages of one hand-over from
    // Paho were passed to handlers.message: a caller can act on a batch at
    // once (e.g. one SUBSCRIBE for many topics). Set it before start().
    void on_batch_end(std::function<void()> handler);

    bool connected() const;
    // False (nothing sent) when not connected, or for a publish when too
    // many are queued or unacknowledged (max_pending_publishes). A QoS 1
    // publish beyond max_in_flight waits in a queue, in order, and is
    // dropped if the session ends first. Failures are logged.
    bool subscribe(const std::vector<std::string>& topics, int qos = 1);
    bool unsubscribe(const std::vector<std::string>& topics);
    bool publish(const std::string& topic, std::string_view payload, int qos = 1,
                 bool retained = false);

    const std::string& server_uri() const;
    const std::string& client_id() const;
    // Received messages dropped because the io thread was behind.
    std::uint64_t dropped_messages() const;

private:
    class impl;
    std::shared_ptr<impl> impl_;
};

} // namespace aiot::gw::mqtt
