#pragma once
// Reads the HTTP upgrade request of a new connection (after the TLS
// handshake when the broker has a certificate) and either refuses it
// (404 unknown path, 426 not an upgrade, 400 bad key, 401 bad gateway
// token, 403 web client from an origin not allowed) or hands the socket to a
// ws_session in the role of a web client (/ws) or of a gateway (/gw).
#include "broker/transport.hpp"
#include "common/net_http.hpp"

#include <chrono>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace aiot::broker {

class server;
enum class peer_role : std::uint8_t;

class http_session : public std::enable_shared_from_this<http_session> {
public:
    http_session(server& srv, transport stream);
    ~http_session();
    http_session(const http_session&) = delete;
    http_session& operator=(const http_session&) = delete;

    void run();
    // Abandons the handshake (server stopping).
    void cancel();

private:
    void on_tls_handshake(const error_code& ec);
    void read_request();
    void on_read(beast::error_code ec);
    // Logs `reason` (unless the server's refusal log says this address has
    // had enough lines), then answers `status` after the delay it asks for.
    void refuse(http::status status, std::string_view why, const std::string& reason);
    void send_refusal();
    // GET /metrics: the registry's text (405 for other methods), then close.
    void serve_metrics(bool allowed, bool head);
    void on_refused(beast::error_code ec);
    void drain();
    void upgrade(peer_role role, std::string_view subprotocol, std::string uuid = {},
                 std::chrono::milliseconds batch_window = {});
    // The connection is cut when `limit` has passed (and timed_out_ set),
    // unless the deadline is moved or cleared first.
    void set_deadline(std::chrono::milliseconds limit);
    void clear_deadline();

    server& server_;
    transport stream_;
    net::steady_timer deadline_;
    bool timed_out_ = false;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http::response<http::string_body> response_;
    std::string peer_name_;    // address:port, for log lines
    std::string peer_address_; // address alone, for the refusal log
    net::steady_timer delay_timer_;
    char drain_buffer_[512];
};

} // namespace aiot::broker
