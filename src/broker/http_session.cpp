#include "broker/http_session.hpp"

#include "broker/server.hpp"
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

http_session::http_session(server& srv, tcp::socket socket)
    : server_(srv), stream_(std::move(socket)), delay_timer_(stream_.get_executor())
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
    parser_.emplace();
    parser_->body_limit(max_request_body);
    stream_.expires_after(server_.config().handshake_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                         self->on_read(ec);
                     });
}

void http_session::cancel()
{
    beast::error_code ec;
    delay_timer_.cancel();
    stream_.socket().close(ec);
}

void http_session::on_read(beast::error_code ec)
{
    if (ec == beast::error::timeout) {
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
        upgrade(peer_role::client, first_subprotocol(protocols), common::make_uuid());
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

void http_session::upgrade(peer_role role, std::string_view subprotocol, std::string uuid)
{
    const auto& req = parser_->get();
    auto response = switching_protocols(sv(req[http::field::sec_websocket_key]), subprotocol);
    // Bytes the client sent after its request belong to the websocket.
    std::string early(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    stream_.expires_never();
    auto session = std::make_shared<ws_session>(server_, server_.next_id(), role,
                                                stream_.release_socket(), peer_name_,
                                                peer_address_, std::move(uuid));
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
    stream_.expires_after(server_.config().handshake_timeout + delay);
    delay_timer_.expires_after(delay);
    delay_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec && !self->server_.stopping()) {
            self->send_refusal();
        }
    });
}

void http_session::send_refusal()
{
    stream_.expires_after(server_.config().handshake_timeout);
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
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(std::chrono::seconds(2));
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
