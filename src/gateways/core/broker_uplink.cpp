#include "broker_uplink.hpp"

#include "broker/ws/client_handshake.hpp"
#include "broker/ws/frame.hpp"
#include "common/broker_rotation.hpp"
#include "common/logging.hpp"
#include "common/net_http.hpp"
#include "common/net_ssl.hpp"
#include "common/write_queue.hpp"

#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <spdlog/spdlog.h>

#include <array>
#include <random>
#include <span>
#include <stdexcept>
#include <variant>

namespace aiot::gw {

namespace {

namespace ws = broker::ws;
using plain_stream = beast::tcp_stream;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

// Frames of one gathered write at most (the queue's front messages).
constexpr std::size_t batch_messages = 4096;
constexpr std::size_t batch_bytes = 256u << 10;
// The answer to the opening handshake, head and all, at most.
constexpr std::size_t max_answer_bytes = 16u << 10;

// One connection attempt: its stream, buffers and write queue. Every
// pending operation holds it, so it outlives its last handler even after
// the uplink has moved on to the next attempt. After the opening handshake
// the websocket protocol is the codec's (broker/ws/frame.hpp): the queued
// messages go out as masked frames in one gathered write, pings are
// answered, a close is answered and ends the connection.
struct connection {
    // tls: the context of a wss:// connection; nullptr: ws://.
    connection(net::io_context& ioc, const uplink_config& config, ssl::context* tls)
        : decoder(ws::role::client, config.max_incoming_bytes),
          queue(config.max_queued_messages, config.max_queued_bytes),
          timer(ioc),
          close_timer(ioc),
          masks(std::random_device{}())
    {
        if (tls) {
            stream.emplace<tls_stream>(ioc, *tls);
        } else {
            stream.emplace<plain_stream>(ioc);
        }
    }

    // Calls f with the byte stream, whichever it is.
    template <class F>
    void with_stream(F&& f)
    {
        if (auto* p = std::get_if<plain_stream>(&stream)) {
            f(*p);
        } else {
            f(std::get<tls_stream>(stream));
        }
    }
    beast::tcp_stream& tcp()
    {
        if (auto* p = std::get_if<plain_stream>(&stream)) {
            return *p;
        }
        return std::get<tls_stream>(stream).next_layer();
    }

    // A fresh masking key for each frame (RFC 6455 5.3).
    ws::mask_key next_mask()
    {
        const auto bits = masks();
        return {static_cast<std::uint8_t>(bits), static_cast<std::uint8_t>(bits >> 8),
                static_cast<std::uint8_t>(bits >> 16), static_cast<std::uint8_t>(bits >> 24)};
    }
    void add_ping()
    {
        const auto mask = next_mask();
        ws::append_frame(control, ws::opcode::ping, {}, &mask);
    }

    std::variant<std::monostate, plain_stream, tls_stream> stream;
    std::string key;    // Sec-WebSocket-Key of the opening handshake
    std::string answer; // the request, then the server's answer as read
    std::array<char, 16u << 10> input{};
    ws::decoder decoder;
    common::write_queue<std::string> queue;
    std::string out;     // the frames of the write in flight
    std::string control; // control frames for the next write (pong, close)
    bool writing = false;
    bool closing = false;     // our close frame is queued or sent: data stops
    bool peer_closed = false; // the broker's close came (answered)
    std::string end_reason;   // why, once the broker's close is answered
    // Keep-alive: the last input and whether a ping has been sent since.
    std::chrono::steady_clock::time_point last_input{};
    bool pinged = false;
    net::steady_timer timer;       // keep-alive ticks
    net::steady_timer close_timer; // the closing handshake's bound (touched by nothing else)
    std::mt19937 masks;
};

std::unique_ptr<ssl::context> make_client_context(const uplink_config& config)
{
    if (!config.tls) {
        return nullptr;
    }
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                     ssl::context::no_tlsv1_1);
    SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
    if (config.insecure) {
        ctx->set_verify_mode(ssl::verify_none);
        return ctx;
    }
    ctx->set_verify_mode(ssl::verify_peer);
    error_code ec;
    if (!config.ca_file.empty()) {
        ctx->load_verify_file(config.ca_file, ec);
        if (ec) {
            throw std::runtime_error(fmt::format("cannot use --broker-ca '{}': {}",
                                                 config.ca_file, ec.message()));
        }
    } else {
        ctx->set_default_verify_paths(ec);
        if (ec) {
            throw std::runtime_error("cannot load the system's certificate store: " +
                                     ec.message());
        }
    }
    return ctx;
}

using connection_ptr = std::shared_ptr<connection>;

} // namespace

class broker_uplink::impl : public std::enable_shared_from_this<impl> {
public:
    impl(net::io_context& ioc, uplink_config config, handlers h,
         std::shared_ptr<spdlog::logger> log)
        : ioc_(ioc),
          config_(std::move(config)),
          handlers_(std::move(h)),
          log_(log ? std::move(log) : common::get_logger("gw")),
          resolver_(ioc),
          retry_timer_(ioc),
          backoff_(config_.retry),
          rotation_(config_.brokers.size()),
          last_failure_(config_.brokers.size()),
          tls_(make_client_context(config_))
    {
        if (config_.brokers.empty()) {
            throw std::invalid_argument("no broker to connect to");
        }
    }

    void start()
    {
        stopping_ = false;
        if (config_.tls && config_.insecure) {
            log_->warn("--broker-insecure: the broker's TLS certificate is NOT verified; anyone "
                       "between here and the broker can pose as it and read the traffic. For "
                       "tests only: use --broker-ca instead");
        } else if (config_.tls) {
            log_->info("the broker's certificate is verified against {}",
                       config_.ca_file.empty() ? std::string("the system's store")
                                               : "--broker-ca " + config_.ca_file);
        }
        if (config_.brokers.size() == 1) {
            log_->info("connecting to broker {}", url());
        } else {
            std::string others;
            for (std::size_t i = 1; i < config_.brokers.size(); ++i) {
                others += (i == 1 ? "" : ", ") + url(i);
            }
            log_->info("connecting to broker {} (when it fails, then in order: {})", url(),
                       others);
        }
        connect();
    }

    void stop()
    {
        stopping_ = true;
        retry_timer_.cancel();
        resolver_.cancel();
        auto c = std::exchange(conn_, nullptr);
        const bool was_connected = connected_;
        connected_ = false;
        if (!c) {
            return;
        }
        if (was_connected) {
            log_->info("closing the broker connection");
            // The broker answers our close behind whatever it still had
            // queued for us (read and dropped): under load that is its
            // whole queue, so the wait is bounded by close_timeout.
            close_gracefully(c, ws::close_code::going_away);
        } else {
            c->tcp().close();
        }
    }

    // No handler may run once the owner is gone.
    void detach()
    {
        handlers_ = {};
        stop();
    }

    bool connected() const { return connected_; }
    std::size_t queued() const { return conn_ ? conn_->queue.size() : 0; }

    bool send(std::string text)
    {
        if (!connected_ || !conn_) {
            return false;
        }
        auto c = conn_;
        const auto size = text.size();
        if (const auto refused = c->queue.push(std::move(text), size);
            refused != common::queue_refusal::none) {
            log_->warn("broker too slow: {} ({} messages, {} bytes); reconnecting to resend "
                       "the node cache",
                       to_string(refused), c->queue.size(), c->queue.bytes());
            lost(c, "outgoing queue full");
            return false;
        }
        do_write(c);
        return true;
    }

private:
    const common::broker_address& target() const { return config_.brokers[rotation_.current()]; }

    // The URL of the broker tried now, or of broker i of the list.
    std::string url() const { return url(rotation_.current()); }
    std::string url(std::size_t i) const
    {
        return fmt::format("{}://{}{}", config_.tls ? "wss" : "ws",
                           common::authority(config_.brokers[i]), config_.target);
    }

    void connect()
    {
        if (stopping_) {
            return;
        }
        auto c = std::make_shared<connection>(ioc_, config_, tls_.get());
        conn_ = c;
        resolver_.async_resolve(
            target().host, std::to_string(target().port),
            [self = shared_from_this(), c](beast::error_code ec,
                                           tcp::resolver::results_type results) {
                self->on_resolve(c, ec, std::move(results));
            });
    }

    void on_resolve(const connection_ptr& c, beast::error_code ec,
                    tcp::resolver::results_type results)
    {
        if (c != conn_) {
            return;
        }
        if (ec) {
            return failed(c, "resolve: " + ec.message());
        }
        c->tcp().expires_after(config_.connect_timeout);
        c->tcp().async_connect(
            results, [self = shared_from_this(), c](beast::error_code e, const tcp::endpoint&) {
                self->on_connect(c, e);
            });
    }

    void on_connect(const connection_ptr& c, beast::error_code ec)
    {
        if (c != conn_) {
            return;
        }
        if (ec) {
            return failed(c, "connect: " + ec.message());
        }
        beast::error_code ignored;
        c->tcp().socket().set_option(tcp::no_delay(true), ignored);
        auto* tls = std::get_if<tls_stream>(&c->stream);
        if (!tls) {
            return upgrade(c);
        }
        // SNI and the name (or address) the certificate must carry: those
        // of the broker tried now, whichever entry of the list it is.
        const std::string& host = target().host;
        SSL* ssl_handle = tls->native_handle();
        error_code not_ip;
        net::ip::make_address(host, not_ip);
        if (not_ip) {
            SSL_set_tlsext_host_name(ssl_handle, host.c_str());
        }
        if (!config_.insecure) {
            X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
            if (not_ip) {
                X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
            } else {
                X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
            }
        }
        tls->async_handshake(
            ssl::stream_base::client,
            [self = shared_from_this(), c](beast::error_code e) { self->on_tls_handshake(c, e); });
    }

    void on_tls_handshake(const connection_ptr& c, beast::error_code ec)
    {
        if (c != conn_) {
            return;
        }
        if (ec) {
            auto& tls = std::get<tls_stream>(c->stream);
            const long verify = SSL_get_verify_result(tls.native_handle());
            return failed(c, tls_failure_text(verify, ec.message()),
                          verify != X509_V_OK);
        }
        upgrade(c);
    }

    // The websocket handshake, once connected (and TLS established).
    void upgrade(const connection_ptr& c)
    {
        // A fresh token for every attempt: a broker with --token-max-age
        // would refuse one made at start-up once it is old enough.
        std::string token = config_.token;
        if (token.empty() && config_.send_token) {
            try {
                token = common::make_gateway_token(config_.keys);
            } catch (const common::key_error& e) {
                return failed(c, e.what(), true);
            }
        }
        c->key = ws::make_client_key();
        c->answer = ws::client_handshake_request(common::authority(target()), config_.target,
                                                 c->key, token.empty() ? "" : "token, " + token,
                                                 config_.user_agent);
        c->with_stream([&](auto& stream) {
            net::async_write(stream, net::buffer(c->answer),
                             [self = shared_from_this(), c](beast::error_code e, std::size_t) {
                                 self->on_request_written(c, e);
                             });
        });
    }

    void on_request_written(const connection_ptr& c, beast::error_code ec)
    {
        if (c != conn_) {
            return;
        }
        if (ec) {
            return failed(c, "handshake: " + ec.message());
        }
        c->answer.clear();
        c->with_stream([&](auto& stream) {
            net::async_read_until(
                stream, net::dynamic_buffer(c->answer, max_answer_bytes), "\r\n\r\n",
                [self = shared_from_this(), c](beast::error_code e, std::size_t head) {
                    self->on_handshake(c, e, head);
                });
        });
    }

    void on_handshake(const connection_ptr& c, beast::error_code ec, std::size_t head_size)
    {
        if (c != conn_) {
            return;
        }
        if (ec == net::error::not_found) {
            return failed(c, fmt::format("handshake: the broker's answer has no end within {} "
                                         "bytes",
                                         max_answer_bytes));
        }
        if (ec) {
            return failed(c, "handshake: " + ec.message());
        }
        const std::string_view head(c->answer.data(), head_size);
        const auto answer = ws::read_handshake_answer(head, c->key);
        if (answer.status == 401) {
            return failed(c,
                          fmt::format("the broker refused the gateway token (HTTP 401): "
                                      "the key file '{}' does not match the broker's keys, "
                                      "or the clocks differ by more than the broker's "
                                      "--token-max-age (its log says which)",
                                      config_.key_file),
                          true);
        }
        if (answer.status != 101) {
            return failed(c, answer.status == 0
                                 ? std::string("handshake: the broker's answer is not HTTP")
                                 : fmt::format("the broker declined the websocket upgrade "
                                               "(HTTP {})",
                                               answer.status));
        }
        if (!answer.accepted) {
            return failed(c, "handshake: the broker's 101 answer does not accept our key");
        }
        c->tcp().expires_never();
        // What the broker sent right after its answer is the first input.
        std::string early = c->answer.substr(head_size);
        c->answer.clear();
        c->answer.shrink_to_fit();
        connected_ = true;
        connected_at_ = std::chrono::steady_clock::now();
        rotation_.connected();
        for (auto& reason : last_failure_) {
            reason.clear(); // a failure after this one is news again
        }
        if (config_.brokers.size() == 1) {
            log_->info("connected to broker {}", url());
        } else {
            log_->info("connected to broker {} ({} of {} in the list)", url(),
                       rotation_.current() + 1, config_.brokers.size());
        }
        c->last_input = std::chrono::steady_clock::now();
        keep_alive(c);
        if (handlers_.connected) {
            handlers_.connected();
        }
        if (c == conn_ && !early.empty()) {
            take_input(c, std::span<char>(early.data(), early.size()));
        }
        if (c == conn_ && !c->peer_closed) {
            do_read(c);
        }
    }

    // Every half idle timeout: a ping when the broker has been silent that
    // long, the connection lost when it stays silent for the whole timeout.
    void keep_alive(const connection_ptr& c)
    {
        if (config_.idle_timeout <= std::chrono::seconds::zero()) {
            return;
        }
        c->timer.expires_after(config_.idle_timeout / 2);
        c->timer.async_wait([self = shared_from_this(), c](beast::error_code ec) {
            if (ec || c != self->conn_ || c->closing) {
                return;
            }
            const auto silent = std::chrono::steady_clock::now() - c->last_input;
            if (silent >= self->config_.idle_timeout) {
                return self->lost(c, fmt::format("the broker was silent for {} s",
                                                 self->config_.idle_timeout.count()));
            }
            if (silent >= self->config_.idle_timeout / 2 && !c->pinged) {
                c->pinged = true;
                c->add_ping();
                self->do_write(c);
            }
            self->keep_alive(c);
        });
    }

    void do_read(const connection_ptr& c)
    {
        c->with_stream([&](auto& stream) {
            stream.async_read_some(
                net::buffer(c->input),
                [self = shared_from_this(), c](beast::error_code ec, std::size_t n) {
                    self->on_read(c, ec, n);
                });
        });
    }

    void on_read(const connection_ptr& c, beast::error_code ec, std::size_t n)
    {
        if (c->closing && c != conn_) {
            // stop(): everything is dropped until the broker's close.
            if (ec || c->peer_closed) {
                c->close_timer.cancel();
                return c->tcp().close();
            }
            take_input(c, std::span<char>(c->input.data(), n));
            if (c->peer_closed) {
                c->close_timer.cancel();
                return c->tcp().close();
            }
            return do_read(c);
        }
        if (c != conn_) {
            return;
        }
        if (ec) {
            return lost(c, ec == net::error::eof || ec == ssl::error::stream_truncated
                               ? std::string("closed by the broker")
                               : ec.message());
        }
        take_input(c, std::span<char>(c->input.data(), n));
        if (c == conn_ && !c->peer_closed) {
            do_read(c);
        }
    }

    // Decodes what came from the broker. A handler may end the connection
    // (a full queue): the rest is then ignored.
    void take_input(const connection_ptr& c, std::span<char> data)
    {
        c->last_input = std::chrono::steady_clock::now();
        c->pinged = false;
        c->decoder.feed(data, [&](const ws::event& e) {
            if (c->peer_closed || (c != conn_ && !c->closing)) {
                return;
            }
            switch (e.type) {
            case ws::event::kind::message:
                if (c->closing) {
                    return;
                }
                if (e.op != ws::opcode::text) {
                    log_->warn("binary message from the broker ignored ({} bytes)",
                               e.payload.size());
                } else if (handlers_.message) {
                    handlers_.message(e.payload);
                }
                return;
            case ws::event::kind::ping:
                if (!c->closing) {
                    add_reply(c, e); // the pong
                    do_write(c);
                }
                return;
            case ws::event::kind::pong: return;
            case ws::event::kind::close:
                c->peer_closed = true;
                if (c->closing) {
                    return; // the answer to ours
                }
                // Answered (the code echoed); the connection ends once the
                // answer is written.
                c->closing = true;
                c->queue.drop_waiting();
                add_reply(c, e);
                c->end_reason = e.reason.empty()
                                        ? fmt::format("closed by the broker (code {})", e.code)
                                        : fmt::format("closed by the broker (code {}: {})",
                                                      e.code, e.reason);
                do_write(c);
                return;
            case ws::event::kind::error:
                c->peer_closed = true;
                log_->warn("protocol error from the broker: {}{}", e.reason,
                           c->closing ? "" : fmt::format(" (closing with {})", e.code));
                if (c->closing) {
                    return; // our close is sent already: one is all there may be
                }
                c->closing = true;
                c->queue.drop_waiting();
                add_reply(c, e); // our close, with the error's code
                c->end_reason = fmt::format("protocol error: {}", e.reason);
                do_write(c);
                return;
            }
        });
    }

    // The codec's answer to a control event or error, masked, before the
    // next messages.
    static void add_reply(const connection_ptr& c, const ws::event& e)
    {
        const auto mask = c->next_mask();
        if (auto frame = ws::control_reply(e, &mask)) {
            c->control += *frame;
        }
    }

    // Sends our close frame; the socket closes when the broker's answer
    // comes, or after close_timeout.
    void close_gracefully(const connection_ptr& c, std::uint16_t code)
    {
        if (!c->closing) { // else the broker's close is being answered
            c->closing = true;
            c->queue.drop_waiting();
            const auto mask = c->next_mask();
            c->control += ws::encode_close(code, {}, &mask);
            do_write(c);
        }
        c->timer.cancel(); // no keep-alive any more
        c->close_timer.expires_after(config_.close_timeout);
        c->close_timer.async_wait([c](beast::error_code ec) {
            if (!ec) {
                c->tcp().close();
            }
        });
    }

    // Starts a write of the control frames and the queue's front messages,
    // as masked frames in one buffer, unless a write is in flight.
    void do_write(const connection_ptr& c)
    {
        if (c->writing) {
            return;
        }
        c->out.clear();
        c->out.swap(c->control);
        if (!c->closing) {
            c->queue.start_write_batch(batch_messages, batch_bytes, [&](const std::string& m) {
                const auto mask = c->next_mask();
                ws::append_frame(c->out, ws::opcode::text, m, &mask);
            });
        }
        if (c->out.empty()) {
            return;
        }
        c->writing = true;
        c->with_stream([&](auto& stream) {
            net::async_write(stream, net::buffer(c->out),
                             [self = shared_from_this(), c](beast::error_code ec, std::size_t) {
                                 self->on_write(c, ec);
                             });
        });
    }

    void on_write(const connection_ptr& c, beast::error_code ec)
    {
        c->writing = false;
        c->queue.end_write();
        if (c->out.capacity() > batch_bytes * 2) {
            std::string().swap(c->out);
        }
        if (c != conn_) { // stopped
            if (c->closing && !ec && c->peer_closed && c->control.empty()) {
                c->close_timer.cancel(); // the broker's close is answered: done
                c->tcp().close();
            } else if (c->closing && !ec) {
                do_write(c); // the close frame, if it came after a write
            }
            return;
        }
        if (ec) {
            return lost(c, "write: " + ec.message());
        }
        if (c->peer_closed && c->control.empty()) {
            return lost(c, c->end_reason);
        }
        if (c->queue.empty() && c->control.empty()) {
            if (handlers_.drained) {
                handlers_.drained();
            }
        } else {
            do_write(c);
        }
    }

    // An attempt that never got connected: the next broker now, or after
    // the backoff delay when the whole list failed. Each broker's failure
    // is logged once while it stays the same, so brokers that stay down
    // cost a few lines, not a line per attempt.
    void failed(const connection_ptr& c, const std::string& reason, bool operator_error = false)
    {
        drop(c);
        const std::string failed_url = url();
        const bool news = std::exchange(last_failure_[rotation_.current()], reason) != reason;
        const auto step = rotation_.attempt_failed();
        const std::string then =
            step == common::broker_rotation::next_step::now
                ? "trying broker " + url() + " now"
                : fmt::format("{}retrying with backoff (at most every {} ms)",
                              config_.brokers.size() > 1 ? "every broker failed; " : "",
                              config_.retry.cap.count());
        if (news) {
            const auto level = operator_error ? spdlog::level::err : spdlog::level::warn;
            log_->log(level, "cannot connect to broker {}: {}; {}", failed_url, reason, then);
        } else {
            log_->debug("cannot connect to broker {}: {}; {}", failed_url, reason, then);
        }
        if (step == common::broker_rotation::next_step::now) {
            connect();
        } else {
            schedule_retry();
        }
    }

    // An established connection ended.
    void lost(const connection_ptr& c, const std::string& reason)
    {
        drop(c);
        connected_ = false;
        if (std::chrono::steady_clock::now() - connected_at_ >= config_.stable_after) {
            backoff_.reset();
        }
        const std::string lost_url = url();
        rotation_.lost();
        if (config_.brokers.size() == 1) {
            log_->warn("lost the broker connection: {}; reconnecting", reason);
        } else {
            log_->warn("lost the connection to broker {}: {}; trying broker {} next", lost_url,
                       reason, url());
        }
        if (handlers_.disconnected) {
            handlers_.disconnected();
        }
        if (handlers_.drained) {
            handlers_.drained(); // queued() is 0 now
        }
        schedule_retry();
    }

    void drop(const connection_ptr& c)
    {
        if (conn_ == c) {
            conn_.reset();
        }
        c->timer.cancel();
        c->close_timer.cancel();
        beast::error_code ignored;
        c->tcp().socket().close(ignored);
    }

    void schedule_retry()
    {
        if (stopping_) {
            return;
        }
        const auto delay = backoff_.next();
        log_->debug("next attempt in {} ms", delay.count());
        retry_timer_.expires_after(delay);
        retry_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
            if (!ec && !self->stopping_) {
                self->connect();
            }
        });
    }

    net::io_context& ioc_;
    uplink_config config_;
    handlers handlers_;
    std::shared_ptr<spdlog::logger> log_;
    tcp::resolver resolver_;
    net::steady_timer retry_timer_;
    connection_ptr conn_;
    bool connected_ = false;
    bool stopping_ = false;
    common::backoff backoff_;
    common::broker_rotation rotation_;
    // The last failure of each broker since the last connection (empty:
    // none), so that a repeated one is logged at debug level only.
    std::vector<std::string> last_failure_;
    std::chrono::steady_clock::time_point connected_at_{};
    std::unique_ptr<ssl::context> tls_; // wss:// only
};

broker_uplink::broker_uplink(net::io_context& ioc, uplink_config config, handlers h,
                             std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_shared<impl>(ioc, std::move(config), std::move(h), std::move(log)))
{
}

broker_uplink::~broker_uplink()
{
    impl_->detach();
}

void broker_uplink::start()
{
    impl_->start();
}

void broker_uplink::stop()
{
    impl_->stop();
}

bool broker_uplink::send(std::string text)
{
    return impl_->send(std::move(text));
}

bool broker_uplink::connected() const
{
    return impl_->connected();
}

std::size_t broker_uplink::queued() const
{
    return impl_->queued();
}

std::string tls_failure_text(long verify_result, std::string_view handshake_error)
{
    if (verify_result != X509_V_OK) {
        return fmt::format("broker certificate not trusted: {}",
                           X509_verify_cert_error_string(verify_result));
    }
    return fmt::format("TLS handshake: {}", handshake_error);
}

} // namespace aiot::gw
