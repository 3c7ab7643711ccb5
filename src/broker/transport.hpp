#pragma once
// The byte stream of one broker connection: the accepted TCP socket, or
// TLS (Asio's ssl::stream over that socket) when the broker has a
// certificate. Both offer what the sessions use: async_read_some and
// async_write_some (so Beast's HTTP reader and net::async_write work on
// it), the socket underneath, and closing.
//
// Reading over TLS: bytes already decrypted (or received and not yet
// decrypted) wait inside the ssl::stream, where the socket's readiness does
// not show them. So a TLS connection is read with async_read_some alone,
// never with "wait until the socket is readable, then read" (a plain
// connection's way, ws_session.hpp). ssl::stream allows one read and one
// write in progress at the same time, which is what the sessions do.
#include "common/net_ssl.hpp"

#include <memory>
#include <utility>

namespace aiot::broker {

class transport {
public:
    using tls_stream = ssl::stream<tcp::socket>;
    using executor_type = tcp::socket::executor_type;

    // Plain TCP.
    explicit transport(tcp::socket socket) : socket_(std::move(socket)) {}
    // TLS over `socket`, server side, with the broker's context (which
    // must outlive the transport).
    transport(tcp::socket socket, ssl::context& context)
        : socket_(socket.get_executor()),
          tls_(std::make_unique<tls_stream>(std::move(socket), context))
    {
    }

    executor_type get_executor() { return socket_.get_executor(); }
    bool is_tls() const { return tls_ != nullptr; }
    // nullptr for a plain connection.
    tls_stream* tls() { return tls_.get(); }
    // The TCP socket (under TLS, the stream's own).
    tcp::socket& socket() { return tls_ ? tls_->next_layer() : socket_; }

    template <class MutableBuffers, class Handler>
    void async_read_some(const MutableBuffers& buffers, Handler&& handler)
    {
        if (tls_) {
            tls_->async_read_some(buffers, std::forward<Handler>(handler));
        } else {
            socket_.async_read_some(buffers, std::forward<Handler>(handler));
        }
    }

    template <class ConstBuffers, class Handler>
    void async_write_some(const ConstBuffers& buffers, Handler&& handler)
    {
        if (tls_) {
            tls_->async_write_some(buffers, std::forward<Handler>(handler));
        } else {
            socket_.async_write_some(buffers, std::forward<Handler>(handler));
        }
    }

    // No more bytes from us (TCP FIN). Over TLS no close_notify is sent:
    // the websocket closing handshake (or the HTTP answer's
    // Connection: close) already marks the end of the data.
    void shutdown_send()
    {
        error_code ignored;
        socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
    // Cuts the connection; pending operations end with operation_aborted.
    void close()
    {
        error_code ignored;
        socket().shutdown(tcp::socket::shutdown_both, ignored);
        socket().close(ignored);
    }

private:
    tcp::socket socket_; // the plain connection's (unused under TLS)
    std::unique_ptr<tls_stream> tls_;
};

} // namespace aiot::broker
