#include "mqtt_client.hpp"

#include "common/logging.hpp"
#include "common/net.hpp"
#include "common/system.hpp"
#include "common/text.hpp"
#include "gateways/mqtt/tls_probe.hpp"

#include <mqtt/async_client.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <optional>

namespace aiot::gw::mqtt {

namespace {

// scheme://host:port, an IPv6 address in brackets. Paho is given tcp:// or
// ssl://; the log shows mqtts:// for TLS, the name an operator knows.
std::string make_server_uri(std::string_view scheme, const std::string& host, std::uint16_t port)
{
    return fmt::format("{}://{}", scheme, common::host_port(host, port));
}

// Forwards Paho's completion callbacks (on a Paho thread) to a function.
class listener final : public ::mqtt::iaction_listener {
public:
    using function = std::function<void(const ::mqtt::token&, bool ok)>;
    explicit listener(function f) : f_(std::move(f)) {}
    void on_success(const ::mqtt::token& t) override { f_(t, true); }
    void on_failure(const ::mqtt::token& t) override { f_(t, false); }

private:
    function f_;
};

// Paho's reason. Its generic failure says nothing; over plain TCP the
// usual cause is that nothing listens there. Over TLS that guess would
// mislead (the handshake is the likelier culprit): the TLS probe says why.
std::string failure_text(const ::mqtt::token& t, bool tls)
{
    const auto rc = t.get_return_code();
    if (rc != MQTTASYNC_FAILURE) {
        return ::mqtt::exception::error_str(rc);
    }
    return tls ? std::string("the TCP connection or the TLS handshake failed")
               : std::string("failed (is an MQTT broker listening there?)");
}


} // namespace

std::string make_client_id(std::string_view prefix)
{
    return fmt::format("aiot-{}-{}", prefix, common::make_uuid().substr(0, 8));
}

class mqtt_client::impl : public std::enable_shared_from_this<impl> {
    // Everything Paho's threads touch. The impl and every callback given to
    // Paho own it jointly (shared_ptr), and it reaches the impl only through
    // a weak_ptr locked on the io thread: no Paho thread ever dereferences
    // the impl, so the impl may go at any time. The listeners, which Paho's
    // tokens point to, live here, and this outlives the Paho client (the
    // client's callbacks own it, and the impl drops the client first).
    // Precondition, as for every Asio object: the io_context outlives the
    // mqtt_client, so a callback that Paho is running during the client's
    // destruction can still post to it.
    struct paho_side {
        paho_side(net::io_context& io, std::size_t max_pending, bool tls)
            : ioc(io),
              max_pending_messages(max_pending),
              connect_listener([this, tls](const ::mqtt::token& t, bool ok) {
                  post([ok, why = ok ? std::string() : failure_text(t, tls)](impl& self) {
                      ok ? self.on_connected() : self.on_connect_failed(why);
                  });
              }),
              disconnect_listener([this](const ::mqtt::token&, bool) {
                  post([](impl& self) { self.stop_timer_.cancel(); });
              }),
              subscribe_listener([this, tls](const ::mqtt::token& t, bool ok) {
                  if (!ok) {
                      post([why = failure_text(t, tls)](impl& self) {
                          self.log_->warn("MQTT broker {}: subscribe/unsubscribe failed: {}",
                                          self.shown_uri_, why);
                      });
                  }
              }),
              publish_listener([this](const ::mqtt::token& t, bool ok) {
                  const auto generation = reinterpret_cast<std::uintptr_t>(t.get_user_context());
                  post([generation, ok](impl& self) { self.on_published(generation, ok); });
              })
        {
        }

        // Runs f(impl&) on the io thread if the impl still exists then.
        template <class F>
        void post(F f)
        {
            net::post(ioc, [w = owner, f = std::move(f)]() mutable {
                if (auto self = w.lock()) {
                    f(*self);
                }
            });
        }

        // Queues a message (drops it if the io thread is too far behind);
        // wakes the io thread only when the queue was empty, so under load
        // one wake-up carries many messages.
        void on_message(::mqtt::const_message_ptr msg)
        {
            bool wake = false;
            {
                std::lock_guard lock(inbox_mutex);
                if (inbox.size() >= max_pending_messages) {
                    dropped_messages.fetch_add(1);
                    return;
                }
                wake = inbox.empty();
                inbox.push_back(std::move(msg));
            }
            if (wake) {
                post([](impl& self) { self.drain_inbox(); });
            }
        }

        net::io_context& ioc;
        const std::size_t max_pending_messages;
        std::weak_ptr<impl> owner; // set by attach(), before Paho has a thread
        std::mutex inbox_mutex;
        std::vector<::mqtt::const_message_ptr> inbox; // bounded
        std::atomic<std::uint64_t> dropped_messages{0};
        listener connect_listener;
        listener disconnect_listener;
        listener subscribe_listener;
        listener publish_listener;
    };

public:
    impl(net::io_context& ioc, client_config config, handlers h,
         std::shared_ptr<spdlog::logger> log)
        : config_(std::move(config)),
          handlers_(std::move(h)),
          log_(log ? std::move(log) : common::get_logger("mqtt")),
          uri_(make_server_uri(config_.tls.enabled ? "ssl" : "tcp", config_.host, config_.port)),
          shown_uri_(
              make_server_uri(config_.tls.enabled ? "mqtts" : "tcp", config_.host, config_.port)),
          retry_timer_(ioc),
          stop_timer_(ioc),
          paho_(std::make_shared<paho_side>(ioc, config_.max_pending_messages, config_.tls.enabled))
    {
        if (config_.client_id.empty()) {
            config_.client_id = make_client_id("client");
        }
        // No persistence and no offline buffer: a publish while disconnected
        // fails. Paho also refuses publishes beyond maxBufferedMessages (100
        // by default) waiting in its queue while connected: allow a burst as
        // large as our own bound (e.g. discovering 1,000 nodes at once).
        ::mqtt::create_options create;
        create.set_max_buffered_messages(
            static_cast<int>(std::min<std::size_t>(config_.max_pending_publishes, 1'000'000)));
        client_ = std::make_unique<::mqtt::async_client>(uri_, config_.client_id, create);
    }

    // Called once, right after construction and before start(): the
    // callbacks Paho calls on its threads own the paho_side, not the impl.
    void attach(const std::shared_ptr<impl>& owner)
    {
        paho_->owner = owner;
        client_->set_message_callback(
            [p = paho_](::mqtt::const_message_ptr msg) { p->on_message(std::move(msg)); });
        client_->set_connection_lost_handler([p = paho_](const std::string& cause) {
            p->post([cause](impl& self) { self.on_lost(cause); });
        });
    }

    ~impl()
    {
        try {
            client_->disable_callbacks(); // Paho refuses while a session is still open
        } catch (const ::mqtt::exception&) {
            // Its callbacks then only touch the paho_side, which they own.
        }
    }

    void start()
    {
        stopping_ = false;
        log_->info("connecting to MQTT broker {} as '{}'", shown_uri_, config_.client_id);
        connect();
    }

    void stop()
    {
        stopping_ = true;
        retry_timer_.cancel();
        if (!connected_) {
            return;
        }
        connected_ = false;
        log_->info("disconnecting from MQTT broker {}", shown_uri_);
        try {
            // No grace for messages in flight: they are writes to nodes and
            // discovery requests, which a stopping gateway has no use for.
            client_->disconnect(0, nullptr, paho_->disconnect_listener);
            // Keeps run() going until Paho has sent DISCONNECT, or at most
            // 100 ms: under a burst of publishes the DISCONNECT waits behind
            // Paho's queue (2 s and more were seen), and a daemon must exit
            // within 1 s of SIGTERM (the session then ends with the socket,
            // which mosquitto logs as a closed connection).
            stop_timer_.expires_after(std::chrono::milliseconds(100));
            stop_timer_.async_wait([](const boost::system::error_code&) {});
        } catch (const ::mqtt::exception& e) {
            log_->debug("MQTT disconnect: {}", e.what());
        }
    }

    void detach()
    {
        handlers_ = {};
        batch_end_ = {};
        stop();
    }

    bool connected() const { return connected_; }

    bool subscribe(const std::vector<std::string>& topics, int qos, bool unsubscribe)
    {
        if (!connected_ || topics.empty()) {
            return false;
        }
        const auto step = std::max<std::size_t>(1, config_.max_topics_per_request);
        try {
            for (std::size_t first = 0; first < topics.size(); first += step) {
                const auto last = std::min(topics.size(), first + step);
                auto chunk = ::mqtt::string_collection::create(
                    std::vector<std::string>(topics.begin() + static_cast<std::ptrdiff_t>(first),
                                             topics.begin() + static_cast<std::ptrdiff_t>(last)));
                if (unsubscribe) {
                    client_->unsubscribe(chunk, nullptr, paho_->subscribe_listener);
                } else {
                    client_->subscribe(chunk, ::mqtt::iasync_client::qos_collection(last - first, qos),
                                       nullptr, paho_->subscribe_listener);
                }
            }
        } catch (const ::mqtt::exception& e) {
            log_->warn("MQTT broker {}: {} failed: {}", shown_uri_,
                       unsubscribe ? "unsubscribe" : "subscribe", e.what());
            return false;
        }
        return true;
    }

    bool publish(const std::string& topic, std::string_view payload, int qos, bool retained)
    {
        if (!connected_) {
            log_->debug("publish on '{}' dropped: not connected", topic);
            return false;
        }
        if (qos == 0) {
            return hand_over(topic, payload, 0, retained);
        }
        if (in_flight_ + waiting_.size() >= config_.max_pending_publishes) {
            if (!publish_overflow_) {
                log_->warn("MQTT broker {}: {} publishes queued or unacknowledged; dropping new "
                           "ones until it catches up",
                           shown_uri_, in_flight_ + waiting_.size());
                publish_overflow_ = true;
            }
            return false;
        }
        if (in_flight_ >= std::max<std::size_t>(1, config_.max_in_flight) || !waiting_.empty()) {
            waiting_.push_back({topic, std::string(payload), qos, retained});
            return true;
        }
        return hand_over(topic, payload, qos, retained);
    }

    // Gives one publish to Paho (QoS 1: counted in flight until acknowledged).
    bool hand_over(const std::string& topic, std::string_view payload, int qos, bool retained)
    {
        try {
            if (qos > 0) {
                // The generation in the user context tells stale completions apart.
                client_->publish(topic, payload.data(), payload.size(), qos, retained,
                                 reinterpret_cast<void*>(generation_), paho_->publish_listener);
                ++in_flight_;
            } else {
                client_->publish(topic, payload.data(), payload.size(), qos, retained);
            }
        } catch (const ::mqtt::exception& e) {
            log_->warn("publish on '{}' failed: {}", topic, e.what());
            return false;
        }
        return true;
    }

    void set_batch_end(std::function<void()> f) { batch_end_ = std::move(f); }

    const std::string& uri() const { return uri_; }
    const std::string& client_id() const { return config_.client_id; }
    std::uint64_t dropped_messages() const { return paho_->dropped_messages.load(); }

private:
    void connect()
    {
        if (stopping_) {
            return;
        }
        auto options = ::mqtt::connect_options_builder()
                           .clean_session(true)
                           .keep_alive_interval(config_.keep_alive)
                           .connect_timeout(config_.connect_timeout)
                           .automatic_reconnect(false)
                           .finalize();
        if (config_.tls.enabled) {
            options.set_ssl(tls_options());
        }
        try {
            client_->connect(options, nullptr, paho_->connect_listener);
        } catch (const ::mqtt::exception& e) {
            on_connect_failed(e.what());
        }
    }

    ::mqtt::ssl_options tls_options() const
    {
        const auto& tls = config_.tls;
        ::mqtt::ssl_options_builder b;
        b.enable_server_cert_auth(true)
            .verify(true) // the certificate must name the host we asked for
            .ssl_version(MQTT_SSL_VERSION_TLS_1_2); // no error_handler: see tls_probe.hpp
        if (!tls.ca_file.empty()) {
            b.trust_store(tls.ca_file);
        }
        if (!tls.cert_file.empty()) {
            b.key_store(tls.cert_file);
            b.private_key(tls.key_file.empty() ? tls.cert_file : tls.key_file);
        }
        return b.finalize();
    }

    void on_connected()
    {
        if (stopping_) {
            try {
                client_->disconnect(0);
            } catch (const ::mqtt::exception&) {
            }
            return;
        }
        connected_ = true;
        ++generation_;
        in_flight_ = 0;
        drop_waiting();
        publish_overflow_ = false;
        backoff_.forget_failure();
        connected_at_ = std::chrono::steady_clock::now();
        log_->info("connected to MQTT broker {} as '{}'", shown_uri_, config_.client_id);
        if (handlers_.connected) {
            handlers_.connected();
        }
    }

    void on_connect_failed(const std::string& why)
    {
        if (!backoff_.note_failure(why)) {
            log_->debug("cannot connect to MQTT broker {}: {}", shown_uri_, why);
        } else if (config_.tls.enabled) {
            log_->debug("cannot connect to MQTT broker {} (TLS): {}; asking OpenSSL why",
                        shown_uri_, why);
            explain_tls_failure(why);
        } else {
            log_->warn("cannot connect to MQTT broker {}: {}; retrying with backoff (at most "
                       "every {} ms)",
                       shown_uri_, why, config_.retry.cap.count());
        }
        schedule_retry();
    }

    // Paho does not say why TLS failed: one handshake of our own does
    // (tls_probe.hpp), once per episode of failures, and the episode's
    // warning is logged when it answers, with OpenSSL's reason in it. If we
    // got connected meanwhile, the failure was passing: no warning.
    void explain_tls_failure(std::string paho_why)
    {
        probe_tls(paho_->ioc, config_.host, config_.port, config_.tls,
                  std::chrono::seconds(3), std::chrono::milliseconds(500),
                  [w = weak_from_this(), paho_why = std::move(paho_why)](std::string why) {
                      auto self = w.lock();
                      if (!self || self->connected_) {
                          return;
                      }
                      const auto cap = self->config_.retry.cap.count();
                      if (why.empty()) {
                          self->log_->warn("cannot connect to MQTT broker {} (TLS): {}; a TLS "
                                           "handshake of our own works, so the refusal is at "
                                           "the MQTT level; retrying with backoff (at most "
                                           "every {} ms)",
                                           self->shown_uri_, paho_why, cap);
                      } else {
                          self->log_->warn("cannot connect to MQTT broker {} (TLS): {} "
                                           "(check --mqtt-ca, --mqtt-cert, --mqtt-key, "
                                           "--mqtt-host); retrying with backoff (at most every "
                                           "{} ms)",
                                           self->shown_uri_, why, cap);
                      }
                  });
    }

    void on_lost(const std::string& cause)
    {
        if (!connected_) {
            return;
        }
        connected_ = false;
        log_->warn("lost the MQTT broker {}{}{}; reconnecting", shown_uri_,
                   cause.empty() ? "" : ": ", cause);
        drop_waiting();
        if (std::chrono::steady_clock::now() - connected_at_ >= std::chrono::seconds(10)) {
            backoff_.reset();
        }
        if (handlers_.disconnected) {
            handlers_.disconnected();
        }
        schedule_retry();
    }

    void schedule_retry()
    {
        if (stopping_) {
            return;
        }
        retry_timer_.expires_after(backoff_.next());
        retry_timer_.async_wait([w = weak_from_this()](const boost::system::error_code& ec) {
            if (auto self = w.lock(); self && !ec) {
                self->connect();
            }
        });
    }

    void drain_inbox()
    {
        {
            std::lock_guard lock(paho_->inbox_mutex);
            batch_.swap(paho_->inbox);
        }
        if (const auto dropped = paho_->dropped_messages.load(); dropped != reported_drops_) {
            log_->warn("{} MQTT messages dropped so far: more than {} were waiting to be handled",
                       dropped, config_.max_pending_messages);
            reported_drops_ = dropped;
        }
        for (const auto& msg : batch_) {
            if (handlers_.message) {
                handlers_.message(msg->get_topic(), msg->get_payload_str());
            }
        }
        batch_.clear(); // keeps its capacity for the next swap
        if (batch_end_) {
            batch_end_();
        }
    }

    void drop_waiting()
    {
        if (!waiting_.empty()) {
            log_->warn("MQTT broker {}: {} queued publishes dropped with the session", shown_uri_,
                       waiting_.size());
            waiting_.clear();
        }
    }

    void on_published(std::uintptr_t generation, bool ok)
    {
        if (generation != generation_ || in_flight_ == 0) {
            return; // from a session that is gone
        }
        --in_flight_;
        if (!ok) {
            log_->debug("a publish to MQTT broker {} failed", shown_uri_);
        }
        while (connected_ && !waiting_.empty() &&
               in_flight_ < std::max<std::size_t>(1, config_.max_in_flight)) {
            auto next = std::move(waiting_.front());
            waiting_.pop_front();
            hand_over(next.topic, next.payload, next.qos, next.retained);
        }
        if (publish_overflow_ &&
            in_flight_ + waiting_.size() <= config_.max_pending_publishes / 2) {
            log_->info("MQTT broker {} caught up: publishing again", shown_uri_);
            publish_overflow_ = false;
        }
    }

    client_config config_;
    handlers handlers_;
    std::shared_ptr<spdlog::logger> log_;
    std::string uri_;       // given to Paho (ssl:// or tcp://)
    std::string shown_uri_; // in the log (mqtts:// or tcp://)
    net::steady_timer retry_timer_;
    net::steady_timer stop_timer_;
    bool connected_ = false;
    bool stopping_ = false;
    common::backoff backoff_{config_.retry};
    std::chrono::steady_clock::time_point connected_at_{};
    std::uintptr_t generation_ = 0;
    struct waiting_publish {
        std::string topic;
        std::string payload;
        int qos;
        bool retained;
    };
    std::size_t in_flight_ = 0;               // QoS 1 publishes Paho has not completed
    std::deque<waiting_publish> waiting_;     // beyond max_in_flight, in order (bounded)
    std::function<void()> batch_end_;
    bool publish_overflow_ = false;
    std::vector<::mqtt::const_message_ptr> batch_; // being handled (io thread)
    std::uint64_t reported_drops_ = 0;
    // Declared before the client, so destroyed after it.
    std::shared_ptr<paho_side> paho_;
    std::unique_ptr<::mqtt::async_client> client_;
};

mqtt_client::mqtt_client(net::io_context& ioc, client_config config, handlers h,
                         std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_shared<impl>(ioc, std::move(config), std::move(h), std::move(log)))
{
    impl_->attach(impl_);
}

mqtt_client::~mqtt_client()
{
    impl_->detach();
}

void mqtt_client::start()
{
    impl_->start();
}

void mqtt_client::stop()
{
    impl_->stop();
}

void mqtt_client::on_batch_end(std::function<void()> handler)
{
    impl_->set_batch_end(std::move(handler));
}

bool mqtt_client::connected() const
{
    return impl_->connected();
}

bool mqtt_client::subscribe(const std::vector<std::string>& topics, int qos)
{
    return impl_->subscribe(topics, qos, false);
}

bool mqtt_client::unsubscribe(const std::vector<std::string>& topics)
{
    return impl_->subscribe(topics, 0, true);
}

bool mqtt_client::publish(const std::string& topic, std::string_view payload, int qos,
                          bool retained)
{
    return impl_->publish(topic, payload, qos, retained);
}

const std::string& mqtt_client::server_uri() const
{
    return impl_->uri();
}

const std::string& mqtt_client::client_id() const
{
    return impl_->client_id();
}

std::uint64_t mqtt_client::dropped_messages() const
{
    return impl_->dropped_messages();
}

} // namespace aiot::gw::mqtt
