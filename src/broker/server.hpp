#pragma once
// The broker's network side: listens, hands connections to http_session for
// the upgrade, keeps the live websocket sessions by id, runs the router and
// carries out its deliveries. One io_context, one thread: no locks.
//
// Ownership: a session (http_session, ws_session) is owned by its pending
// operations (shared_ptr captured by each handler; a gateway session whose
// reads are paused holds itself, see ws_session::parked_), never by the
// server. The server keeps plain pointers to the live ones, each added when
// the session starts and removed when it ends (http_session: its
// destructor; ws_session: finish(), which runs before its last handler
// returns). Sessions refer back to the server by reference, so the server
// must outlive them: destroy it only after io_context::run() has returned
// on its own, which happens once stop() has ended every session (no
// handler, hence no session, is left). ~server asserts that no session is
// registered any more.
#include "broker/backpressure.hpp"
#include "broker/cluster.hpp"
#include "broker/router.hpp"
#include "common/keys.hpp"
#include "common/listener.hpp"
#include "common/metrics.hpp"
#include "common/metrics_http.hpp"
#include "common/net_ssl.hpp"
#include "common/refusal_log.hpp"

#include <spdlog/logger.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace aiot::broker {

class http_session;
class nats_link;
class ws_session;

struct server_config {
    std::string bind_address = "::"; // "::" is dual-stack; 0.0.0.0 if IPv6 is missing
    std::uint16_t port = 8000;
    common::key_pair keys;
    std::uint64_t token_max_age_s = 0; // 0: tokens never expire (as the original)
    std::size_t max_message_size = 1024 * 1024;
    // per connection. 65,536: a burst of small updates (10,000 nodes
    // announcing at once, about 100 bytes each) fits; the bytes bound
    // below and the clients' high-water mark still cap the memory.
    std::size_t max_queue_messages = 65536;
    std::size_t max_queue_bytes = 16 * 1024 * 1024;
    // All web clients' queues together (backpressure.hpp).
    backpressure_config client_queues{};
    std::chrono::milliseconds handshake_timeout{10000};
    // TLS (wss:// and https:// on the port) when both are set: PEM files,
    // the certificate chain and its key (tls.hpp).
    std::string tls_cert;
    std::string tls_key;
    std::chrono::milliseconds tls_handshake_timeout{10000};
    std::chrono::milliseconds idle_timeout{120000}; // ping at half, close at full; 0: off
    std::chrono::milliseconds close_timeout{5000};
    // Origins web clients may come from ("https://dash.example.org"), lower
    // case, no trailing slash; empty: any origin (as the original).
    std::vector<std::string> allowed_origins;
    common::refusal_log_config refusals{};
    // Several brokers as one through NATS (cluster.hpp): off when empty.
    std::vector<std::string> nats_servers;
    cluster_config cluster{};
    std::string broker_id; // empty: a random one
};

class server {
public:
    server(net::io_context& ioc, server_config cfg);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Binds and starts accepting. Throws std::runtime_error if it cannot.
    void start();
    // Stops accepting and closes every connection with 1001 (going away);
    // the io_context runs out of work once they are gone.
    void stop();

    std::uint16_t port() const { return port_; }
    const server_config& config() const { return cfg_; }
    spdlog::logger& log() { return *ws_log_; }
    std::chrono::milliseconds close_timeout() const { return close_timeout_; }
    bool stopping() const { return stopping_; }
    // Scratch space for socket reads, shared by every session.
    std::span<char> read_buffer() { return read_buffer_; }
    peer_id next_id() { return ++last_id_; }

    // Input from `address` is refused: logs `what` to `log` (at debug level
    // once the address has had its lines) and says how long to wait before
    // answering (common::refusal_log).
    std::chrono::milliseconds refused(std::string_view address, std::string_view what,
                                      spdlog::logger& log);

    // Backpressure: every change of a web client's queue, and whether
    // gateways are read at the moment.
    void client_queue_grew(std::size_t bytes)
    {
        if (backpressure_.grew(bytes) == backpressure::change::pause) {
            pause_gateways();
        }
    }
    void client_queue_shrank(std::size_t bytes)
    {
        if (backpressure_.shrank(bytes) == backpressure::change::resume) {
            // Later, from the loop: this runs inside a session's write or
            // close, and resuming routes messages.
            net::post(ioc_, [this] { resume_gateways(); });
        }
    }
    bool gateway_reads_paused() const { return backpressure_.paused(); }
    // The time, read once per routed message while its deliveries are
    // queued (one clock read per message, not per recipient).
    std::chrono::steady_clock::time_point now() const
    {
        return delivering_ ? *delivering_ : std::chrono::steady_clock::now();
    }

    // Prometheus metrics (GET /metrics on the broker's port; docs/API.md).
    const common::metrics& metrics() const { return metrics_; }
    std::string render_metrics();
    // A connection closed by the broker for `reason` ("too_slow", "idle",
    // "protocol_error", "invalid_message"), and a refused handshake.
    void count_close(std::string_view reason);
    void count_refusal(unsigned status);
    // A failed TLS handshake, by reason (tls_refusal_reason()).
    void count_tls_refusal(std::string_view reason);

    // Called by the sessions.
    void http_started(http_session& s);
    void http_ended(http_session& s);
    void session_opened(ws_session& s);
    void session_message(ws_session& s, std::string_view text);
    // Once per session, when its connection is gone.
    void session_closed(ws_session& s);

private:
    void schedule_idle_check();
    void schedule_refusal_summary();
    // The message, or std::nullopt after closing s with 1003 and the reason.
    std::optional<common::message> parse(ws_session& s, std::string_view text);
    // publish: also for the other brokers (what this broker's own peers
    // said; not what came from NATS).
    void deliver(std::vector<delivery> deliveries, bool publish = false);
    void start_cluster();
    void schedule_cluster_tick();
    void cluster_received(std::string_view subject, std::string_view data);
    void apply(cluster_output out);
    void publish(const publication& p);
    // A gateway message for a client of another broker (or a replay it
    // asked for).
    void publish_directed(const common::message& msg);
    void pause_gateways();
    void resume_gateways();
    void schedule_stall_check();

    net::io_context& ioc_;
    server_config cfg_;
    std::unique_ptr<ssl::context> tls_; // set by start() when configured
    common::metrics metrics_;
    // Cells found once, for what is counted per message: [from][type],
    // from 0 = client, 1 = gateway; type index of message_type, 4: invalid.
    std::array<std::array<common::metric_cell*, 5>, 2> messages_in_{};
    common::metric_cell* deliveries_client_ = nullptr;
    common::metric_cell* deliveries_gateway_ = nullptr;
    common::metric_cell* bytes_out_ = nullptr;
    common::metric_cell* lag_ = nullptr;
    std::unique_ptr<common::loop_lag> lag_probe_;
    std::shared_ptr<spdlog::logger> log_;
    std::shared_ptr<spdlog::logger> ws_log_;
    router router_;
    common::listener listener_;
    net::steady_timer idle_timer_;
    net::steady_timer refusal_timer_;
    net::steady_timer stall_timer_;
    backpressure backpressure_;
    std::chrono::steady_clock::time_point paused_since_;
    std::optional<std::chrono::steady_clock::time_point> delivering_; // during deliver()
    std::uint64_t pauses_ = 0;
    common::refusal_log refusals_;
    std::uint16_t port_ = 0;
    std::chrono::milliseconds close_timeout_;
    bool stopping_ = false;
    peer_id last_id_ = 0;
    std::vector<char> read_buffer_;

    // Live sessions; each removes itself when its connection ends.
    std::unordered_set<http_session*> handshakes_;
    std::unordered_map<peer_id, ws_session*> clients_;
    std::unordered_map<peer_id, ws_session*> gateways_;

    // With --nats only.
    std::unique_ptr<cluster> cluster_;
    std::unique_ptr<nats_link> nats_;
    net::steady_timer cluster_timer_;
};

} // namespace aiot::broker
