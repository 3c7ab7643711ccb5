// beast_reference_server: a small websocket server on Boost.Beast's own
// websocket::stream, the reference the conformance suite
// (tests/e2e/ws_conformance) compares aiot-broker with, and a fan-out
// target for bench/broker_fanout.
//
// Paths /gw and /ws (tokens are ignored; any other path gets 404). A chat
// fan-out in the manner of Beast's chat-multi example: each message from a
// /gw connection goes to every /ws connection, each message from a /ws
// connection to every /gw connection. Limits as aiot-broker's defaults:
// read_message_max = --max-message-size (1 MiB), a per-connection write
// queue bounded by count and bytes (overflow: close 1013).
//
// One io_context on one thread. With --port 0 it binds a free loopback
// port; the bound port is printed on stdout as one line once listening.
//
// A test tool, so its few classes share this one file: Beast translation
// units are slow to compile, and there is one of them here.
#include "common/logging.hpp"
#include "common/net_ws.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using namespace aiot;

struct config {
    std::string bind = "127.0.0.1";
    std::uint16_t port = 0;
    std::size_t max_message_size = 1024 * 1024;   // aiot-broker --max-message-size
    std::size_t max_queue_messages = 16384;       // aiot-broker --max-queue-messages
    std::size_t max_queue_bytes = 16 * 1024 * 1024; // aiot-broker --max-queue-bytes
};

enum class side { gateway, client };

class ws_session;

// The connections, by side. Only the io thread touches it; sessions are
// held weakly and leave in their destructor.
class shared_state {
public:
    explicit shared_state(config cfg) : cfg_(std::move(cfg)) {}

    const config& cfg() const { return cfg_; }
    void join(std::uint64_t id, side s, const std::weak_ptr<ws_session>& w)
    {
        (s == side::gateway ? gateways_ : clients_)[id] = w;
    }
    void leave(std::uint64_t id, side s)
    {
        (s == side::gateway ? gateways_ : clients_).erase(id);
        if (on_empty_ && gateways_.empty() && clients_.empty()) {
            on_empty_();
        }
    }
    // Called (while stopping) once no connection is left.
    void when_empty(std::function<void()> f)
    {
        on_empty_ = std::move(f);
        if (gateways_.empty() && clients_.empty()) {
            on_empty_();
        }
    }
    // Sends a message from side `from` to every connection of the other side.
    void fan_out(side from, const std::shared_ptr<const std::string>& msg, bool text);
    // Closes every connection with 1001 (going away).
    void close_all();
    std::uint64_t next_id() { return ++last_id_; }

private:
    config cfg_;
    std::unordered_map<std::uint64_t, std::weak_ptr<ws_session>> gateways_;
    std::unordered_map<std::uint64_t, std::weak_ptr<ws_session>> clients_;
    std::uint64_t last_id_ = 0;
    std::function<void()> on_empty_;
};

void fail(const beast::error_code& ec, const char* what)
{
    if (ec == net::error::operation_aborted || ec == websocket::error::closed ||
        ec == net::error::eof) {
        return;
    }
    common::get_logger("beast_reference")->debug("{}: {}", what, ec.message());
}

// One websocket connection: a read loop and a bounded write queue (one
// write outstanding, as Beast requires).
class ws_session : public std::enable_shared_from_this<ws_session> {
public:
    ws_session(tcp::socket socket, shared_state& state, side s)
        : ws_(std::move(socket)), state_(state), side_(s), id_(state.next_id())
    {
    }
    ~ws_session() { state_.leave(id_, side_); }

    void run(http::request<http::string_body> req)
    {
        ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
        ws_.read_message_max(state_.cfg().max_message_size);
        ws_.auto_fragment(false);
        ws_.async_accept(req, [self = shared_from_this()](const beast::error_code& ec) {
            self->on_accept(ec);
        });
    }

    void send(const std::shared_ptr<const std::string>& msg, bool text)
    {
        if (closing_) {
            return;
        }
        const auto& cfg = state_.cfg();
        if (queue_.size() >= cfg.max_queue_messages ||
            queued_bytes_ + msg->size() > cfg.max_queue_bytes) {
            // The message being written stays until its write completes.
            queue_.erase(queue_.begin() + (writing_ ? 1 : 0), queue_.end());
            queued_bytes_ = queue_.empty() ? 0 : queue_.front().msg->size();
            close(websocket::close_reason(websocket::close_code::try_again_later));
            return;
        }
        queue_.push_back({msg, text});
        queued_bytes_ += msg->size();
        if (queue_.size() == 1 && !writing_) {
            do_write();
        }
    }

    void close(const websocket::close_reason& why)
    {
        if (closing_) {
            return;
        }
        closing_ = true;
        if (writing_) {
            pending_close_ = why;
            return;
        }
        ws_.async_close(why, [self = shared_from_this()](const beast::error_code& ec) {
            if (ec) {
                fail(ec, "close");
            }
        });
    }

private:
    struct entry {
        std::shared_ptr<const std::string> msg;
        bool text;
    };

    void on_accept(const beast::error_code& ec)
    {
        if (ec) {
            return fail(ec, "accept");
        }
        state_.join(id_, side_, weak_from_this());
        do_read();
    }

    void do_read()
    {
        ws_.async_read(buffer_, [self = shared_from_this()](const beast::error_code& ec,
                                                            std::size_t) { self->on_read(ec); });
    }

    void on_read(const beast::error_code& ec)
    {
        if (ec) {
            return fail(ec, "read");
        }
        auto msg = std::make_shared<const std::string>(beast::buffers_to_string(buffer_.data()));
        buffer_.consume(buffer_.size());
        state_.fan_out(side_, msg, ws_.got_text());
        do_read();
    }

    void do_write()
    {
        writing_ = true;
        const auto& front = queue_.front();
        ws_.text(front.text);
        ws_.async_write(net::buffer(*front.msg),
                        [self = shared_from_this()](const beast::error_code& ec, std::size_t) {
                            self->on_write(ec);
                        });
    }

    void on_write(const beast::error_code& ec)
    {
        writing_ = false;
        if (ec) {
            queue_.clear();
            return fail(ec, "write");
        }
        queued_bytes_ -= queue_.front().msg->size();
        queue_.pop_front();
        if (pending_close_) {
            const auto why = *pending_close_;
            pending_close_.reset();
            closing_ = false;
            close(why);
            return;
        }
        if (!queue_.empty() && !closing_) {
            do_write();
        }
    }

    websocket::stream<beast::tcp_stream> ws_;
    beast::flat_buffer buffer_;
    shared_state& state_;
    side side_;
    std::uint64_t id_;
    std::deque<entry> queue_;
    std::size_t queued_bytes_ = 0;
    bool writing_ = false;
    bool closing_ = false;
    std::optional<websocket::close_reason> pending_close_;
};

void shared_state::fan_out(side from, const std::shared_ptr<const std::string>& msg, bool text)
{
    // Copy the targets first: a send may close a session.
    std::vector<std::shared_ptr<ws_session>> targets;
    for (const auto& [id, w] : from == side::gateway ? clients_ : gateways_) {
        if (auto s = w.lock()) {
            targets.push_back(std::move(s));
        }
    }
    for (const auto& s : targets) {
        s->send(msg, text);
    }
}

void shared_state::close_all()
{
    std::vector<std::shared_ptr<ws_session>> all;
    for (const auto* m : {&gateways_, &clients_}) {
        for (const auto& [id, w] : *m) {
            if (auto s = w.lock()) {
                all.push_back(std::move(s));
            }
        }
    }
    for (const auto& s : all) {
        s->close(websocket::close_reason(websocket::close_code::going_away));
    }
}

// Reads the upgrade request; hands /gw and /ws to a ws_session, answers
// anything else with 404.
class http_session : public std::enable_shared_from_this<http_session> {
public:
    http_session(tcp::socket socket, shared_state& state)
        : stream_(std::move(socket)), state_(state)
    {
    }

    void run()
    {
        parser_.body_limit(8192);
        stream_.expires_after(std::chrono::seconds(10));
        http::async_read(stream_, buffer_, parser_,
                         [self = shared_from_this()](const beast::error_code& ec, std::size_t) {
                             self->on_read(ec);
                         });
    }

private:
    void on_read(const beast::error_code& ec)
    {
        if (ec) {
            return fail(ec, "http read");
        }
        auto req = parser_.release();
        const auto target = req.target();
        if (websocket::is_upgrade(req) && (target == "/gw" || target == "/ws")) {
            stream_.expires_never();
            const auto s = target == "/gw" ? side::gateway : side::client;
            // Bytes read past the request would be lost: a client must wait
            // for the handshake's answer before sending frames.
            std::make_shared<ws_session>(stream_.release_socket(), state_, s)->run(std::move(req));
            return;
        }
        res_ = std::make_shared<http::response<http::string_body>>(http::status::not_found,
                                                                   req.version());
        res_->set(http::field::content_type, "text/plain");
        res_->body() = "not found\n";
        res_->keep_alive(false);
        res_->prepare_payload();
        http::async_write(stream_, *res_,
                          [self = shared_from_this()](const beast::error_code& wec, std::size_t) {
                              beast::error_code ignored;
                              self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                              if (wec) {
                                  fail(wec, "http write");
                              }
                          });
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    http::request_parser<http::string_body> parser_;
    std::shared_ptr<http::response<http::string_body>> res_;
    shared_state& state_;
};

class listener : public std::enable_shared_from_this<listener> {
public:
    listener(net::io_context& ioc, shared_state& state, const tcp::endpoint& at)
        : acceptor_(ioc), retry_(ioc), state_(state)
    {
        acceptor_.open(at.protocol());
        acceptor_.set_option(net::socket_base::reuse_address(true));
        acceptor_.bind(at);
        acceptor_.listen(net::socket_base::max_listen_connections);
    }

    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

    void run() { do_accept(); }

    void stop()
    {
        beast::error_code ec;
        acceptor_.close(ec);
        retry_.cancel();
    }

private:
    void do_accept()
    {
        acceptor_.async_accept(
            [self = shared_from_this()](const beast::error_code& ec, tcp::socket socket) {
                self->on_accept(ec, std::move(socket));
            });
    }

    void on_accept(const beast::error_code& ec, tcp::socket socket)
    {
        if (ec == net::error::operation_aborted || !acceptor_.is_open()) {
            return;
        }
        if (ec) {
            fail(ec, "accept");
            // e.g. out of file descriptors: wait a little and accept again.
            retry_.expires_after(std::chrono::milliseconds(100));
            retry_.async_wait([self = shared_from_this()](const beast::error_code& wec) {
                if (!wec) {
                    self->do_accept();
                }
            });
            return;
        }
        std::make_shared<http_session>(std::move(socket), state_)->run();
        do_accept();
    }

    tcp::acceptor acceptor_;
    net::steady_timer retry_;
    shared_state& state_;
};

} // namespace

int main(int argc, char** argv)
{
    config cfg;
    CLI::App app{"Websocket reference server on Boost.Beast (/gw and /ws fan-out)"};
    app.add_option("--bind", cfg.bind, "Listen address");
    app.add_option("--port", cfg.port, "Listen port (0: a free one, printed on stdout)");
    app.add_option("--max-message-size", cfg.max_message_size, "Largest message read (1009 above)")
        ->check(CLI::PositiveNumber);
    bool debug = false;
    app.add_flag("--debug", debug, "Log every failed connection");
    CLI11_PARSE(app, argc, argv);
    common::init_logging(debug);
    const auto log = common::get_logger("beast_reference");

    // Before the io_context: handlers it destroys may still hold sessions,
    // which leave the state in their destructor.
    shared_state state(cfg);
    net::io_context ioc{1};
    std::shared_ptr<listener> l;
    try {
        l = std::make_shared<listener>(
            ioc, state, tcp::endpoint(net::ip::make_address(cfg.bind), cfg.port));
    } catch (const std::exception& e) {
        log->error("cannot listen on {} port {}: {}", cfg.bind, cfg.port, e.what());
        return 1;
    }
    std::printf("%u\n", static_cast<unsigned>(l->port()));
    std::fflush(stdout);
    log->info("listening on {} port {}", cfg.bind, l->port());
    l->run();

    // SIGINT/SIGTERM: stop accepting, close everyone with 1001, let run()
    // drain; a peer that never answers its close is cut after 2 s.
    net::steady_timer deadline(ioc);
    net::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](const beast::error_code& ec, int) {
        if (ec) {
            return;
        }
        l->stop();
        deadline.expires_after(std::chrono::seconds(2));
        deadline.async_wait([&](const beast::error_code& wec) {
            if (!wec) {
                ioc.stop();
            }
        });
        state.close_all();
        // Connections still in their HTTP upgrade are not waited for.
        state.when_empty([&] { net::post(ioc, [&] { ioc.stop(); }); });
    });
    ioc.run();
    return 0;
}
