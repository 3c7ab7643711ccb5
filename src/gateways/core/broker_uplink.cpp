#include "broker_uplink.hpp"

#include "common/broker_rotation.hpp"
#include "common/logging.hpp"
#include "common/net_ssl.hpp"
#include "common/net_ws.hpp"
#include "common/write_queue.hpp"

#include <boost/beast/ssl.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <spdlog/spdlog.h>

#include <stdexcept>
#include <variant>

namespace aiot::gw {

namespace {

using plain_ws = websocket::stream<beast::tcp_stream>;
using tls_ws = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

// One connection attempt: its stream, buffers and write queue. Every
// pending operation holds it, so it outlives its last handler even after
// the uplink has moved on to the next attempt.
struct connection {
    // tls: the context of a wss:// connection; nullptr: ws://.
    connection(net::io_context& ioc, const uplink_config& config, ssl::context* tls)
        : queue(config.max_queued_messages, config.max_queued_bytes)
    {
        if (tls) {
            ws.emplace<tls_ws>(ioc, *tls);
        } else {
            ws.emplace<plain_ws>(ioc);
        }
    }

    // Calls f with the websocket stream, whichever it is.
    template <class F>
    void with_ws(F&& f)
    {
        if (auto* p = std::get_if<plain_ws>(&ws)) {
            f(*p);
        } else {
            f(std::get<tls_ws>(ws));
        }
    }
    beast::tcp_stream& tcp()
    {
        if (auto* p = std::get_if<plain_ws>(&ws)) {
            return beast::get_lowest_layer(*p);
        }
        return beast::get_lowest_layer(std::get<tls_ws>(ws));
    }

    std::variant<std::monostate, plain_ws, tls_ws> ws;
    beast::flat_buffer buffer;
    websocket::response_type response;
    common::write_queue<std::string> queue;
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
            // Beast reads (and drops) everything the broker still sends
            // until its close frame: under load that is its whole queue for
            // us, so the wait is bounded by close_timeout, not the 5 s
            // handshake timeout.
            c->with_ws([&](auto& ws) {
                websocket::stream_base::timeout timeouts{};
                ws.get_option(timeouts);
                timeouts.handshake_timeout = config_.close_timeout;
                ws.set_option(timeouts);
                ws.async_close(websocket::close_code::going_away,
                               [c](beast::error_code) { c->tcp().close(); });
            });
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
        c->with_ws([&](auto& ws) { ws.read_message_max(config_.max_incoming_bytes); });
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
        auto* tls = std::get_if<tls_ws>(&c->ws);
        if (!tls) {
            return upgrade(c);
        }
        // SNI and the name (or address) the certificate must carry: those
        // of the broker tried now, whichever entry of the list it is.
        const std::string& host = target().host;
        SSL* ssl_handle = tls->next_layer().native_handle();
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
        tls->next_layer().async_handshake(
            ssl::stream_base::client,
            [self = shared_from_this(), c](beast::error_code e) { self->on_tls_handshake(c, e); });
    }

    void on_tls_handshake(const connection_ptr& c, beast::error_code ec)
    {
        if (c != conn_) {
            return;
        }
        if (ec) {
            auto& tls = std::get<tls_ws>(c->ws);
            const long verify = SSL_get_verify_result(tls.next_layer().native_handle());
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
        c->with_ws([&](auto& ws) {
            ws.set_option(websocket::stream_base::decorator(
                [token = std::move(token),
                 agent = config_.user_agent](websocket::request_type& req) {
                    if (!token.empty()) {
                        req.set(http::field::sec_websocket_protocol, "token, " + token);
                    }
                    req.set(http::field::user_agent, agent);
                }));
            ws.async_handshake(c->response, common::authority(target()),
                               config_.target,
                               [self = shared_from_this(), c](beast::error_code e) {
                                   self->on_handshake(c, e);
                               });
        });
    }

    void on_handshake(const connection_ptr& c, beast::error_code ec)
    {
        if (c != conn_) {
            return;
        }
        if (ec == websocket::error::upgrade_declined) {
            const auto status = c->response.result_int();
            if (c->response.result() == http::status::unauthorized) {
                return failed(c,
                              fmt::format("the broker refused the gateway token (HTTP 401): "
                                          "the key file '{}' does not match the broker's keys, "
                                          "or the clocks differ by more than the broker's "
                                          "--token-max-age (its log says which)",
                                          config_.key_file),
                              true);
            }
            return failed(c, fmt::format("the broker declined the websocket upgrade (HTTP {})",
                                         status));
        }
        if (ec) {
            return failed(c, "handshake: " + ec.message());
        }
        c->tcp().expires_never();
        websocket::stream_base::timeout timeouts{};
        timeouts.handshake_timeout = std::chrono::seconds(5);
        timeouts.idle_timeout = config_.idle_timeout;
        timeouts.keep_alive_pings = true;
        c->with_ws([&](auto& ws) {
            ws.set_option(timeouts);
            ws.text(true);
        });
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
        do_read(c);
        if (handlers_.connected) {
            handlers_.connected();
        }
    }

    void do_read(const connection_ptr& c)
    {
        c->with_ws([&](auto& ws) {
            ws.async_read(c->buffer,
                          [self = shared_from_this(), c](beast::error_code ec, std::size_t) {
                              self->on_read(c, ec);
                          });
        });
    }

    void on_read(const connection_ptr& c, beast::error_code ec)
    {
        if (c != conn_) {
            return;
        }
        if (ec) {
            return lost(c, ec == websocket::error::closed
                               ? std::string("closed by the broker")
                               : ec.message());
        }
        const std::string text = beast::buffers_to_string(c->buffer.data());
        c->buffer.consume(c->buffer.size());
        bool text_frame = true;
        c->with_ws([&](auto& ws) { text_frame = ws.got_text(); });
        if (!text_frame) {
            log_->warn("binary message from the broker ignored ({} bytes)", text.size());
        } else if (handlers_.message) {
            handlers_.message(text);
        }
        if (c == conn_) {
            do_read(c);
        }
    }

    // Starts writing the front message unless a write is in flight.
    void do_write(const connection_ptr& c)
    {
        const auto* text = c->queue.start_write();
        if (!text) {
            return;
        }
        c->with_ws([&](auto& ws) {
            ws.async_write(net::buffer(*text),
                           [self = shared_from_this(), c](beast::error_code ec, std::size_t) {
                               self->on_write(c, ec);
                           });
        });
    }

    void on_write(const connection_ptr& c, beast::error_code ec)
    {
        c->queue.end_write();
        if (c != conn_) {
            return;
        }
        if (ec) {
            return lost(c, "write: " + ec.message());
        }
        if (c->queue.empty()) {
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
