#include "broker/http_session.hpp"

#include "broker/server.hpp"
#include "broker/tls.hpp"
#include "broker/ws/frame.hpp"
#include "broker/ws/handshake.hpp"
#include "broker/ws_session.hpp"
#include "common/listener.hpp"
#include "common/metrics.hpp"
#include "common/system.hpp"
#include "common/text.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace aiot::broker {

namespace {

constexpr std::size_t max_request_body = 4096;

std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

} // namespace

http_session::http_session(server& srv, transport stream)
    : server_(srv),
      stream_(std::move(stream)),
      deadline_(stream_.get_executor()),
      delay_timer_(stream_.get_executor())
{
    beast::error_code ec;
    const auto peer = stream_.socket().remote_endpoint(ec); // 0.0.0.0:0 if gone
    peer_address_ = common::address_text(peer.address());
    peer_name_ = common::endpoint_text(peer);
    server_.http_started(*this);
}

http_session::~http_session() { server_.http_ended(*this); }

void http_session::run()
{
    auto* tls = stream_.tls();
    if (!tls) {
        read_request();
        return;
    }
    // Each connection's handshake runs on its own, bounded by its own
    // deadline: a client that stalls holds nobody else up.
    set_deadline(server_.config().tls_handshake_timeout);
    tls->async_handshake(ssl::stream_base::server,
                         [self = shared_from_this()](const error_code& ec) {
                             self->on_tls_handshake(ec);
                         });
}

void http_session::on_tls_handshake(const error_code& ec)
{
    if (server_.stopping() || (ec == net::error::operation_aborted && !timed_out_)) {
        return;
    }
    if (ec) {
        const auto reason = tls_refusal_reason(ec, timed_out_);
        server_.count_tls_refusal(reason);
        const auto what =
            timed_out_ ? fmt::format("no TLS handshake within {} ms",
                                     server_.config().tls_handshake_timeout.count())
                       : ec.message();
        // Nothing to answer: without TLS there is no channel to answer on.
        server_.refused(peer_address_,
                        fmt::format("{}: TLS handshake failed ({}: {}), connection closed",
                                    peer_name_, reason, what),
                        server_.log());
        stream_.close();
        clear_deadline();
        return;
    }
    read_request();
}

void http_session::read_request()
{
    parser_.emplace();
    parser_->body_limit(max_request_body);
    set_deadline(server_.config().handshake_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                         self->on_read(ec);
                     });
}

void http_session::set_deadline(std::chrono::milliseconds limit)
{
    timed_out_ = false;
    deadline_.expires_after(limit);
    // Weak: a session whose work is over is not kept for its deadline.
    deadline_.async_wait([weak = weak_from_this()](const error_code& ec) {
        if (ec) {
            return;
        }
        if (const auto self = weak.lock()) {
            self->timed_out_ = true;
            self->stream_.close();
        }
    });
}

void http_session::clear_deadline() { deadline_.cancel(); }

void http_session::cancel()
{
    delay_timer_.cancel();
    clear_deadline();
    stream_.close();
}

void http_session::on_read(beast::error_code ec)
{
    if (timed_out_) {
        server_.log().warn("{}: no complete HTTP request in time, closed", peer_name_);
        return;
    }
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
        ec == net::error::connection_reset || server_.stopping()) {
        return;
    }
    if (ec) {
        refuse(http::status::bad_request, "bad request",
               fmt::format("{}: bad HTTP request ({})", peer_name_, ec.message()));
        return;
    }
    const auto& req = parser_->get();
    const std::string_view target(req.target().data(), req.target().size());
    const auto path = target.substr(0, target.find('?'));
    if (path == "/metrics") {
        serve_metrics(req.method() == http::verb::get || req.method() == http::verb::head,
                      req.method() == http::verb::head);
        return;
    }
    const bool is_client = path == "/ws";
    if (!is_client && path != "/gw") {
        refuse(http::status::not_found, "not found",
               fmt::format("{}: request for unknown path '{}'", peer_name_,
                           common::printable(path)));
        return;
    }
    if (!websocket::is_upgrade(req)) {
        refuse(http::status::upgrade_required, "websocket upgrade required",
               fmt::format("{}: {} request on {} is not a websocket upgrade", peer_name_,
                           common::printable(sv(req.method_string())), path));
        return;
    }
    if (req[http::field::sec_websocket_version] != "13") {
        refuse(http::status::upgrade_required, "websocket version 13 required",
               fmt::format("{}: unsupported websocket version '{}'", peer_name_,
                           common::printable(sv(req[http::field::sec_websocket_version]))));
        return;
    }
    const auto key = sv(req[http::field::sec_websocket_key]);
    if (!ws::valid_client_key(key)) {
        refuse(http::status::bad_request, "invalid Sec-WebSocket-Key",
               fmt::format("{}: invalid Sec-WebSocket-Key", peer_name_));
        return;
    }
    const auto protocols = sv(req[http::field::sec_websocket_protocol]);
    if (is_client) {
        const auto& allowed = server_.config().allowed_origins;
        if (!allowed.empty()) {
            const auto origin = normalized_origin(sv(req[http::field::origin]));
            if (std::find(allowed.begin(), allowed.end(), origin) == allowed.end()) {
                refuse(http::status::forbidden, "origin not allowed",
                       fmt::format("{}: web client from origin '{}' refused (not in "
                                   "--allowed-origins)",
                                   peer_name_, common::printable(origin)));
                return;
            }
        }
        upgrade(peer_role::client, first_subprotocol(protocols), common::make_uuid(),
                client_batch_window(target));
        return;
    }
    const auto token = gateway_token(protocols);
    if (!token) {
        refuse(http::status::unauthorized, "unauthorized",
               fmt::format("{}: gateway refused, Sec-WebSocket-Protocol is not 'token, <token>'",
                           peer_name_));
        return;
    }
    const auto max_age = server_.config().token_max_age_s;
    const auto check = common::check_gateway_token(
        server_.config().keys, *token,
        max_age ? std::optional<std::uint64_t>(max_age) : std::nullopt);
    if (check != common::token_check::valid) {
        refuse(http::status::unauthorized, "unauthorized",
               fmt::format("{}: gateway refused, {}", peer_name_, common::to_string(check)));
        return;
    }
    upgrade(peer_role::gateway, "token");
}

void http_session::upgrade(peer_role role, std::string_view subprotocol, std::string uuid,
                           std::chrono::milliseconds batch_window)
{
    const auto& req = parser_->get();
    auto response = switching_protocols(sv(req[http::field::sec_websocket_key]), subprotocol);
    // Bytes the client sent after its request belong to the websocket.
    std::string early(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    clear_deadline();
    auto session = std::make_shared<ws_session>(server_, server_.next_id(), role,
                                                std::move(stream_), peer_name_,
                                                peer_address_, std::move(uuid));
    session->set_batch_window(batch_window);
    session->start(std::move(response), std::move(early));
}

void http_session::serve_metrics(bool allowed, bool head)
{
    response_ = {};
    response_.version(11);
    response_.set(http::field::server, "aiot-broker");
    response_.set(http::field::connection, "close");
    response_.set(http::field::cache_control, "no-store");
    if (!allowed) {
        response_.result(http::status::method_not_allowed);
        response_.set(http::field::allow, "GET, HEAD");
        response_.set(http::field::content_type, "text/plain");
        response_.body() = "GET /metrics\n";
        response_.prepare_payload();
    } else {
        response_.result(http::status::ok);
        response_.set(http::field::content_type, std::string(common::metrics_content_type));
        auto text = server_.render_metrics();
        response_.content_length(text.size());
        if (!head) {
            response_.body() = std::move(text);
        }
    }
    send_refusal(); // written, then the connection half-closes like a refusal
}

void http_session::refuse(http::status status, std::string_view why, const std::string& reason)
{
    server_.count_refusal(static_cast<unsigned>(status));
    const auto delay = server_.refused(peer_address_, reason, server_.log());
    response_ = {};
    response_.version(11);
    response_.result(status);
    response_.set(http::field::server, "aiot-broker");
    response_.set(http::field::content_type, "text/plain");
    response_.set(http::field::connection, "close");
    if (status == http::status::upgrade_required) {
        response_.set(http::field::upgrade, "websocket");
        response_.set(http::field::sec_websocket_version, "13");
    }
    response_.body() = std::string(why) + "\n";
    response_.prepare_payload();
    if (delay.count() == 0) {
        send_refusal();
        return;
    }
    // An address that keeps failing waits for its answer; nobody else does.
    set_deadline(server_.config().handshake_timeout + delay);
    delay_timer_.expires_after(delay);
    delay_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec && !self->server_.stopping()) {
            self->send_refusal();
        }
    });
}

void http_session::send_refusal()
{
    set_deadline(server_.config().handshake_timeout);
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                          self->on_refused(ec);
                      });
}

void http_session::on_refused(beast::error_code ec)
{
    if (ec) {
        return;
    }
    // Half-close, then read until the client closes, so that unread request
    // bytes do not turn our close into a reset that loses the answer.
    stream_.shutdown_send();
    set_deadline(std::chrono::seconds(2));
    drain();
}

void http_session::drain()
{
    stream_.async_read_some(net::buffer(drain_buffer_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                if (!ec) {
                                    self->drain();
                                }
                            });
}

} // namespace aiot::broker
