#pragma once
// The gateway's websocket connection to the broker (ws://host:port/gw with
// the token subprotocol, or wss:// with `tls`; the dashboard uses it as a
// web client of /ws). Connects, retries forever with backoff and jitter
// (a quick first retry, then growing delays up to a cap), makes a fresh
// token for every attempt. With several brokers it tries them in order
// (common::broker_rotation): a failed attempt moves to the next at once, a
// lost connection to the next after the backoff delay, and the delay comes
// after a whole round failed. It stays on a broker that works: no return to
// the first one while it lasts (a return would cut a working connection
// and make every node be announced again). It
// sends through a bounded queue (one write in flight, of every message
// waiting, gathered) and hands every text
// message to a callback. Runs on the caller's io_context (one thread).
// No Beast in this header: the connection lives in broker_uplink.cpp.
#include "common/backoff.hpp"
#include "common/broker_list.hpp"
#include "common/keys.hpp"
#include "gateways/core/fwd.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::gw {

struct uplink_config {
    // Tried in this order (at least one; common::brokers() makes the list).
    std::vector<common::broker_address> brokers{{"localhost", 8000}};
    std::string target = "/gw";
    common::key_pair keys; // a fresh token is made from them for every attempt
    std::string token;     // fixed token instead (tests); empty: from keys
    std::string key_file;  // named in the error when the broker refuses the token
    // false: no token at all (a web client's connection to /ws, such as the
    // dashboard's own).
    bool send_token = true;
    std::string user_agent = "aiot-gateway";
    // wss://: TLS 1.2 or 1.3, the broker's certificate verified against
    // ca_file (PEM) or, when empty, the system's store, and its name (or
    // address) checked against the host of the broker being tried, which
    // is also sent as SNI (a name; an address is not).
    // insecure: no verification at all (tests; logged loudly).
    bool tls = false;
    std::string ca_file;
    bool insecure = false;
    common::backoff_config retry{};
    // A connection that lasted this long resets the backoff to a quick retry.
    std::chrono::seconds stable_after{10};
    std::chrono::milliseconds connect_timeout{10000}; // resolve+connect+handshake
    std::chrono::seconds idle_timeout{60};            // pings after half of it
    // stop(): how long the closing handshake may wait for the broker's
    // answer (behind whatever it still had queued for us) before the
    // socket is closed anyway. Keeps SIGTERM under load below 1 s.
    std::chrono::milliseconds close_timeout{300};
    std::size_t max_queued_messages = 1'000'000;
    std::size_t max_queued_bytes = 128u << 20;
    std::size_t max_incoming_bytes = 1u << 20;
};

class broker_uplink {
public:
    struct handlers {
        std::function<void()> connected;    // handshake done: announce now
        std::function<void()> disconnected; // an established connection was lost
        std::function<void(std::string_view)> message; // a text from the broker
        // The queue became empty: everything was written, or the
        // connection was lost (its queue dropped with it).
        std::function<void()> drained;
    };

    // Throws std::runtime_error when config.ca_file cannot be used, and
    // std::invalid_argument when config.brokers is empty.
    broker_uplink(boost::asio::io_context& ioc, uplink_config config, handlers h,
                  std::shared_ptr<spdlog::logger> log);
    ~broker_uplink(); // stops; no handler is called afterwards
    broker_uplink(const broker_uplink&) = delete;
    broker_uplink& operator=(const broker_uplink&) = delete;

    void start();
    // Closes the connection (going away) and stops retrying.
    void stop();
    // Queues a text for the broker. False (dropped) when not connected, or
    // when the queue is full: then the connection is dropped and remade, so
    // the broker gets a fresh announcement instead of a gap.
    bool send(std::string text);
    bool connected() const;
    // Messages queued and not yet written (0 when not connected).
    std::size_t queued() const;

private:
    class impl;
    std::shared_ptr<impl> impl_;
};

// Why a TLS handshake with the broker failed, for the log:
// "broker certificate not trusted: <OpenSSL's words>" when the
// certificate check failed (verify_result is OpenSSL's X509_V_ERR_*; 0 is
// X509_V_OK), else "TLS handshake: <handshake_error>".
std::string tls_failure_text(long verify_result, std::string_view handshake_error);

} // namespace aiot::gw
