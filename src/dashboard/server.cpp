#include "server.hpp"

#include "api.hpp"

#include "common/logging.hpp"
#include "common/text.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace aiot::dashboard {
namespace {

bool is_quiet_error(const beast::error_code& ec)
{
    return ec == net::error::operation_aborted || ec == beast::error::timeout ||
           ec == net::error::eof || ec == net::error::connection_reset ||
           ec == http::error::end_of_stream || ec == http::error::partial_message;
}

// The status to answer a request that could not be read, 0 for none.
unsigned status_for_read_error(const beast::error_code& ec)
{
    if (ec.category() != make_error_code(http::error::bad_target).category() ||
        is_quiet_error(ec)) {
        return 0;
    }
    if (ec == http::error::body_limit) {
        return 413;
    }
    if (ec == http::error::header_limit) {
        return 431;
    }
    return 400;
}

template <class Body>
void copy_head(response& res, http::response<Body>& out, bool keep_alive)
{
    for (auto& [name, value] : res.headers) {
        out.insert(name, value);
    }
    out.keep_alive(keep_alive);
}

http::response<http::string_body> to_beast(response res, unsigned version, bool keep_alive)
{
    http::response<http::string_body> out{static_cast<http::status>(res.status), version};
    copy_head(res, out, keep_alive);
    out.body() = std::move(res.body);
    if (res.has_content_length) {
        out.content_length(res.content_length);
    }
    return out;
}

// What a history request needs from the database thread.
struct history_answer {
    std::string key; // empty: no such node
    std::vector<history::point> points;
    std::string error;
};

// Runs a history query on the database thread; the answer comes back on
// the caller's executor.
template <class Token>
auto async_history(history::writer& w, std::string key, api::route route, Token&& token)
{
    return net::async_initiate<Token, void(history_answer)>(
        [&w](auto handler, std::string key_or_uid, api::route r) {
            auto work = net::make_work_guard(handler);
            auto shared = std::make_shared<decltype(handler)>(std::move(handler));
            w.run([shared, work, key = std::move(key_or_uid), r = std::move(r)](
                      history::store& s) mutable {
                history_answer a;
                try {
                    // A live node is asked by its key; anything else by
                    // what was given, which may be a key ("coap:AB12").
                    if (s.has_node(key)) {
                        a.key = key;
                        a.points = s.query(key, r.resource, r.since, r.until, r.limit);
                    }
                } catch (const std::exception& e) {
                    a.error = e.what();
                }
                net::post(work.get_executor(), [shared, a = std::move(a)]() mutable {
                    (*shared)(std::move(a));
                });
            });
        },
        token, std::move(key), std::move(route));
}

// The https context: TLS 1.2 at least, the certificate chain and its key
// (checked against each other).
std::unique_ptr<net::ssl::context> make_tls_context(const config& cfg)
{
    if (cfg.tls_cert.empty() || cfg.tls_key.empty()) {
        throw std::runtime_error("--tls-cert and --tls-key go together");
    }
    auto ctx = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
    ctx->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                     net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                     net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    error_code ec;
    ctx->use_certificate_chain_file(cfg.tls_cert.string(), ec);
    if (ec) {
        throw std::runtime_error("--tls-cert " + cfg.tls_cert.string() + ": " + ec.message());
    }
    ctx->use_private_key_file(cfg.tls_key.string(), net::ssl::context::pem, ec);
    if (ec) {
        throw std::runtime_error("--tls-key " + cfg.tls_key.string() + ": " + ec.message());
    }
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
        throw std::runtime_error("--tls-key " + cfg.tls_key.string() +
                                 " is not the key of --tls-cert " + cfg.tls_cert.string());
    }
    return ctx;
}

bool is_quiet_tls_error(const beast::error_code& ec)
{
    return is_quiet_error(ec) || ec == net::ssl::error::stream_truncated;
}

} // namespace

server::~server() = default;

server::server(net::io_context& ioc, const config& cfg)
    : ioc_(ioc),
      cfg_(cfg),
      log_(common::get_logger("dashboard.http")),
      handler_(cfg, common::get_logger("dashboard")),
      lag_(std::make_unique<common::loop_lag>(
          ioc, metrics_.gauge("aiot_dashboard_event_loop_lag_seconds",
                              "How late the event loop ran a timer, the most in the last second"))),
      feed_(std::make_unique<live_feed>(ioc, cfg, metrics_, common::get_logger("dashboard.feed"))),
      listener_(ioc, log_)
{
    if (!cfg_.tls_cert.empty() || !cfg_.tls_key.empty()) {
        tls_ = make_tls_context(cfg_);
    }
    metrics_.computed("aiot_dashboard_connections", "Open HTTP connections",
                      common::metrics::kind::gauge,
                      [this] { return static_cast<double>(sessions_.size()); });
}

void server::start()
{
    tcp::endpoint ep;
    try {
        ep = listener_.open(cfg_.bind, cfg_.web_port);
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(std::string(e.what()) + " (--bind, --web-port)");
    }
    log_->info("listening on {}://{}/, serving {}", tls_ ? "https" : "http",
               common::endpoint_text(ep), handler_.root().string());
    listener_.start([this](tcp::socket socket) { on_accept(std::move(socket)); });
    feed_->start();
    lag_->start();
}

bool server::reload()
{
    return handler_.reload();
}

tcp::endpoint server::local_endpoint() const
{
    return listener_.local_endpoint();
}

void server::stop()
{
    if (stopping_) {
        return;
    }
    stopping_ = true;
    listener_.close();
    feed_->stop();
    lag_->stop();
    beast::error_code ec;
    for (auto& [id, stream] : sessions_) {
        stream->socket().shutdown(tcp::socket::shutdown_both, ec);
        stream->socket().close(ec);
    }
    log_->info("stopped ({} connections closed)", sessions_.size());
}

void server::on_finished(std::exception_ptr e, const char* what)
{
    if (!e) {
        return;
    }
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        log_->error("{} failed: {}", what, ex.what());
    }
}

void server::on_accept(tcp::socket socket)
{
    if (sessions_.size() >= cfg_.max_connections) {
        if (!at_capacity_) {
            log_->warn("{} connections open: refusing new ones", sessions_.size());
            at_capacity_ = true;
        }
        beast::error_code ignored;
        socket.close(ignored);
        return;
    }
    if (at_capacity_) {
        log_->info("accepting connections again");
        at_capacity_ = false;
    }
    const auto id = next_id_++;
    net::co_spawn(ioc_, run_session(std::move(socket), id),
                  [this](std::exception_ptr e) { on_finished(e, "session"); });
}

net::awaitable<void> server::run_session(tcp::socket socket, std::uint64_t id)
{
    beast::tcp_stream stream(std::move(socket));
    sessions_.emplace(id, &stream);
    struct leave {
        server& s;
        std::uint64_t id;
        ~leave() { s.sessions_.erase(id); }
    } guard{*this, id};

    beast::error_code ec;
    const auto peer = stream.socket().remote_endpoint(ec);
    log_->debug("connection {} from {}", id, ec ? "?" : peer.address().to_string());

    beast::flat_buffer buffer;
    if (!tls_) {
        co_await serve(stream, buffer, id, false);
        stream.socket().shutdown(tcp::socket::shutdown_send, ec);
        log_->debug("connection {} closed", id);
        co_return;
    }
    // https: the first bytes say whether this is a TLS client hello.
    stream.expires_after(cfg_.handshake_timeout);
    const bool hello = co_await beast::async_detect_ssl(
        stream, buffer, net::redirect_error(net::use_awaitable, ec));
    if (ec) {
        if (!is_quiet_error(ec)) {
            log_->debug("connection {}: {}", id, ec.message());
        }
        co_return;
    }
    if (!hello) {
        co_await refuse_plain(stream, buffer, id);
        co_return;
    }
    beast::ssl_stream<beast::tcp_stream> tls(std::move(stream), *tls_);
    sessions_[id] = &beast::get_lowest_layer(tls);
    const auto used = co_await tls.async_handshake(net::ssl::stream_base::server, buffer.data(),
                                                   net::redirect_error(net::use_awaitable, ec));
    if (ec) {
        metrics_
            .counter("aiot_dashboard_tls_handshake_failures_total",
                     "TLS handshakes that failed or timed out")
            .inc();
        log_->debug("connection {}: TLS handshake failed: {}", id, ec.message());
        co_return;
    }
    buffer.consume(used);
    co_await serve(tls, buffer, id, true);
    beast::get_lowest_layer(tls).expires_after(cfg_.handshake_timeout);
    co_await tls.async_shutdown(net::redirect_error(net::use_awaitable, ec));
    if (ec && !is_quiet_tls_error(ec)) {
        log_->debug("connection {}: TLS shutdown: {}", id, ec.message());
    }
    log_->debug("connection {} closed", id);
}

net::awaitable<void> server::refuse_plain(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                          std::uint64_t id)
{
    metrics_
        .counter("aiot_dashboard_plain_http_refused_total",
                 "Plain HTTP requests on the https port, answered 400")
        .inc();
    if (plain_refused_++ == 0) {
        log_->warn("connection {}: a plain HTTP request on the https port: answered 400 (open "
                   "the page with https://; further ones are counted in "
                   "aiot_dashboard_plain_http_refused_total)",
                   id);
    } else {
        log_->debug("connection {}: plain HTTP on the https port: answered 400", id);
    }
    beast::error_code ec;
    http::request_parser<http::empty_body> parser;
    parser.header_limit(header_limit);
    co_await http::async_read_header(stream, buffer, parser,
                                     net::redirect_error(net::use_awaitable, ec));
    response res;
    res.status = 400;
    res.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
    res.body = "400 Bad Request: this port speaks https only; open the page with https://\n";
    res.content_length = res.body.size();
    auto out = to_beast(std::move(res), 11, false);
    stream.expires_after(cfg_.handshake_timeout);
    co_await http::async_write(stream, out, net::redirect_error(net::use_awaitable, ec));
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

template <class Stream>
net::awaitable<void> server::serve(Stream& stream, beast::flat_buffer& buffer, std::uint64_t id,
                                   bool https)
{
    auto& lowest = beast::get_lowest_layer(stream);
    beast::error_code ec;
    while (!stopping_) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(header_limit);
        parser.body_limit(body_limit);
        lowest.expires_after(cfg_.http_timeout);
        co_await http::async_read(stream, buffer, parser,
                                  net::redirect_error(net::use_awaitable, ec));
        if (ec) {
            const auto status = status_for_read_error(ec);
            if (status == 0) {
                if (!is_quiet_error(ec)) {
                    log_->debug("connection {}: read: {}", id, ec.message());
                }
                break;
            }
            log_->warn("connection {}: bad request ({}): answering {}", id, ec.message(), status);
            response res;
            res.status = status;
            res.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
            res.body = std::to_string(status) + " " + ec.message() + "\n";
            res.content_length = res.body.size();
            auto out = to_beast(std::move(res), 11, false);
            lowest.expires_after(cfg_.http_timeout);
            co_await http::async_write(stream, out, net::redirect_error(net::use_awaitable, ec));
            break;
        }
        const auto& req = parser.get();
        request r;
        r.method = std::string(req.method_string());
        r.target = std::string(req.target());
        r.if_none_match = std::string(req[http::field::if_none_match]);
        r.if_modified_since = std::string(req[http::field::if_modified_since]);
        r.accept_encoding = std::string(req[http::field::accept_encoding]);
        // (No co_await inside a ?: : GCC 12 miscompiles the temporaries.)
        response res;
        if (api::is_api(r.target)) {
            res = co_await handle_api(r, req.body());
        } else if (r.target == "/metrics" || r.target.starts_with("/metrics?")) {
            res = metrics_answer(r);
        } else {
            res = handler_.handle(r);
        }
        metrics_
            .counter("aiot_dashboard_http_requests_total", "HTTP requests answered, by status",
                     {{"status", std::to_string(res.status)}})
            .inc();
        log_->debug("connection {}: {} {} -> {}", id, r.method, r.target, res.status);
        if (https) {
            res.headers.emplace_back("Strict-Transport-Security", "max-age=31536000");
        }
        const bool keep_alive = req.keep_alive() && !stopping_;
        const auto version = req.version();
        // A file is streamed from disk (file_body), never read whole.
        http::file_body::value_type file;
        if (!res.file.empty()) {
            file.open(res.file.c_str(), beast::file_mode::scan, ec);
            if (ec) {
                log_->error("cannot open {}: {}", res.file.string(), ec.message());
                res = response{};
                res.status = 500;
                res.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
                res.body = "500 Internal Server Error: cannot read file\n";
                res.content_length = res.body.size();
                ec = {};
            }
        }
        lowest.expires_after(cfg_.http_timeout);
        if (file.is_open()) {
            http::response<http::file_body> out{static_cast<http::status>(res.status), version};
            copy_head(res, out, keep_alive);
            out.body() = std::move(file);
            out.prepare_payload(); // Content-Length: the size of the open file
            co_await http::async_write(stream, out, net::redirect_error(net::use_awaitable, ec));
        } else {
            auto out = to_beast(std::move(res), version, keep_alive);
            co_await http::async_write(stream, out, net::redirect_error(net::use_awaitable, ec));
        }
        if (ec) {
            if (!is_quiet_error(ec)) {
                log_->debug("connection {}: write: {}", id, ec.message());
            }
            break;
        }
        if (!keep_alive) {
            break;
        }
    }
}

response server::metrics_answer(const request& req)
{
    response res;
    if (req.method != "GET" && req.method != "HEAD") {
        res = api::error_answer(405, "GET /metrics");
        res.headers.emplace_back("Allow", "GET, HEAD");
        return res;
    }
    res.headers.emplace_back("Content-Type", std::string(common::metrics_content_type));
    res.headers.emplace_back("Cache-Control", "no-store");
    auto text = metrics_.render();
    res.content_length = text.size();
    if (req.method == "GET") {
        res.body = std::move(text);
    }
    return res;
}

net::awaitable<response> server::handle_api(const request& req, std::string_view body)
{
    const bool head = req.method == "HEAD";
    const auto route = api::parse(req.method, req.target, body, now_millis());
    const auto& recorder = feed_->recorder();
    const auto* node = route.uid.empty() ? nullptr : recorder.find(route.uid);
    static constexpr std::array<const char*, 5> route_names{"nodes", "node", "history", "write",
                                                            "error"};
    metrics_
        .counter("aiot_dashboard_api_requests_total", "REST API requests, by route",
                 {{"route", route_names.at(static_cast<std::size_t>(route.what))}})
        .inc();
    switch (route.what) {
    case api::route::kind::error:
        co_return api::error_answer(route.status, route.message, head);
    case api::route::kind::nodes:
        co_return api::json_answer(200, api::nodes_json(recorder), head);
    case api::route::kind::node:
        if (node == nullptr) {
            co_return api::error_answer(404, "no live node " + route.uid, head);
        }
        co_return api::json_answer(200, api::node_json(*node), head);
    case api::route::kind::write:
        if (node == nullptr) {
            co_return api::error_answer(404, "no live node " + route.uid);
        }
        if (!feed_->send_write(route.uid, route.resource, route.payload)) {
            co_return api::error_answer(503, "not connected to the broker; try again");
        }
        log_->info("API: {} {} = '{}' sent to the gateways", route.uid, route.resource,
                   common::printable(route.payload, 64));
        co_return api::json_answer(202, {{"uid", route.uid},
                                         {"resource", route.resource},
                                         {"value", route.payload},
                                         {"status", "sent"}});
    case api::route::kind::history: {
        auto* w = feed_->writer();
        if (w == nullptr) {
            co_return api::error_answer(404, "history is off (--no-history)", head);
        }
        std::string key = node != nullptr && !node->key.empty() ? node->key : route.uid;
        auto answer = co_await async_history(*w, std::move(key), route, net::use_awaitable);
        if (!answer.error.empty()) {
            log_->error("history query: {}", answer.error);
            co_return api::error_answer(500, "history query failed", head);
        }
        if (answer.key.empty()) {
            if (node == nullptr) {
                co_return api::error_answer(404, "no history for " + route.uid, head);
            }
            // A live node whose first readings are not written yet (the
            // writer batches them): its history is empty, not missing. The
            // page asks only for nodes in GET api/nodes, and a 404 there
            // would be a console error in the browser.
            answer.key = key;
        }
        co_return api::json_answer(200, api::history_json(route, answer.key, answer.points), head);
    }
    }
    co_return api::error_answer(500, "unhandled route", head);
}

} // namespace aiot::dashboard
