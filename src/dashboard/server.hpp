#pragma once
// The HTTP server of aiot-dashboard: a listener and keep-alive sessions
// (C++20 coroutines) that carry requests to request_handler (the page) or
// the REST API (api.hpp, over live_feed) and back. With a certificate
// (--tls-cert, --tls-key) it speaks https only: a plain HTTP request on the
// port gets a 400 saying so, and every https answer carries HSTS.
#include "common/listener.hpp"
#include "common/metrics.hpp"
#include "common/metrics_http.hpp"
#include "common/net_http.hpp"
#include "config.hpp"
#include "live_feed.hpp"
#include "request_handler.hpp"

#include <spdlog/logger.h>

#include <cstdint>
#include <memory>
#include <unordered_map>

namespace boost::asio::ssl {
class context;
}

namespace aiot::dashboard {

class server {
public:
    // Limits of one request (the page only ever sends small GETs).
    static constexpr std::uint32_t header_limit = 16 * 1024;
    static constexpr std::uint64_t body_limit = 64 * 1024;

    // Throws std::runtime_error when the certificate or key cannot be used.
    server(net::io_context& ioc, const config& cfg);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Binds (--bind, --web-port) and starts accepting. Throws
    // std::runtime_error naming the address when it cannot be bound.
    void start();

    // The bound address (the real port when web_port was 0).
    tcp::endpoint local_endpoint() const;

    // Renders the page again from index.html (SIGHUP).
    bool reload();

    // Stops accepting and closes every connection; run() then returns.
    void stop();

private:
    void on_accept(tcp::socket socket);
    net::awaitable<void> run_session(tcp::socket socket, std::uint64_t id);
    // Requests and answers on one connection, plain or TLS, until it ends.
    template <class Stream>
    net::awaitable<void> serve(Stream& stream, beast::flat_buffer& buffer, std::uint64_t id,
                               bool https);
    // A plain HTTP request on the https port: answered 400, then closed.
    net::awaitable<void> refuse_plain(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                      std::uint64_t id);
    // The REST API (api.hpp): answered from the live table, the history
    // (on the database thread) or by a write through the broker.
    net::awaitable<response> handle_api(const request& req, std::string_view body);
    response metrics_answer(const request& req);
    void on_finished(std::exception_ptr e, const char* what);

    net::io_context& ioc_;
    config cfg_;
    std::shared_ptr<spdlog::logger> log_;
    request_handler handler_;
    common::metrics metrics_;
    std::unique_ptr<common::loop_lag> lag_;
    std::unique_ptr<live_feed> feed_;
    std::unique_ptr<net::ssl::context> tls_; // null: plain http
    std::uint64_t plain_refused_ = 0;
    common::listener listener_;
    std::unordered_map<std::uint64_t, beast::tcp_stream*> sessions_;
    std::uint64_t next_id_ = 1;
    bool stopping_ = false;
    bool at_capacity_ = false;
};

} // namespace aiot::dashboard
