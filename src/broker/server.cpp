#include "broker/server.hpp"

#include "broker/http_session.hpp"
#include "broker/nats_link.hpp"
#include "broker/tls.hpp"
#include "broker/ws/frame.hpp"
#include "broker/ws_session.hpp"
#include "common/logging.hpp"
#include "common/text.hpp"

#include <spdlog/fmt/ranges.h>

#include <algorithm>
#include <cassert>

namespace aiot::broker {

namespace {

constexpr std::size_t read_buffer_size = 64 * 1024;
constexpr std::string_view refusals_help =
    "Connections refused before the websocket upgrade: HTTP requests by status, failed TLS "
    "handshakes (status tls) by reason";
// On SIGTERM, how long a peer may take to answer our close: the broker
// must be gone within 1 s of the signal (faults_e2e), and a peer busy with
// a burst (or not reading at all) would otherwise hold it for the full wait.
constexpr auto shutdown_close_timeout = std::chrono::milliseconds(400);

ws_session::frame_ptr text_frame(std::string_view text)
{
    auto frame = std::make_shared<std::string>();
    frame->reserve(ws::frame_header_size(text.size(), false) + text.size());
    ws::append_frame(*frame, ws::opcode::text, text);
    return frame;
}

} // namespace

server::server(net::io_context& ioc, server_config cfg)
    : ioc_(ioc),
      cfg_(std::move(cfg)),
      log_(common::get_logger("broker")),
      ws_log_(common::get_logger("broker.ws")),
      router_(log_),
      listener_(ioc, log_),
      idle_timer_(ioc),
      refusal_timer_(ioc),
      stall_timer_(ioc),
      backpressure_(cfg_.client_queues),
      refusals_(cfg_.refusals),
      close_timeout_(cfg_.close_timeout),
      read_buffer_(read_buffer_size),
      cluster_timer_(ioc)
{
    const char* from[] = {"client", "gateway"};
    const char* types[] = {"new", "update", "out", "reset", "invalid"};
    for (std::size_t f = 0; f < 2; ++f) {
        for (std::size_t t = 0; t < 5; ++t) {
            messages_in_[f][t] = &metrics_.counter(
                "aiot_broker_messages_received_total",
                "Messages received, by sender and type (invalid: refused with 1003)",
                {{"from", from[f]}, {"type", types[t]}});
        }
    }
    deliveries_client_ = &metrics_.counter("aiot_broker_messages_sent_total",
                                           "Messages queued for sending, by recipient",
                                           {{"to", "client"}});
    deliveries_gateway_ = &metrics_.counter("aiot_broker_messages_sent_total", "",
                                            {{"to", "gateway"}});
    bytes_out_ = &metrics_.counter("aiot_broker_sent_bytes_total",
                                   "Bytes of messages queued for sending (frames included)");
    lag_ = &metrics_.gauge("aiot_broker_event_loop_lag_seconds",
                           "How late the event loop ran a timer, the most in the last second");
    using kind = common::metrics::kind;
    metrics_.computed("aiot_broker_clients", "Connected web clients", kind::gauge,
                      [this] { return static_cast<double>(clients_.size()); });
    metrics_.computed("aiot_broker_gateways", "Connected gateways", kind::gauge,
                      [this] { return static_cast<double>(gateways_.size()); });
    metrics_.computed("aiot_broker_nodes", "Nodes announced by the connected gateways",
                      kind::gauge, [this] {
                          double n = 0;
                          for (const auto& [id, s] : gateways_) {
                              n += static_cast<double>(router_.node_count(id));
                          }
                          return n;
                      });
    metrics_.computed("aiot_broker_gateway_reads_paused",
                      "1 while the web clients' queues are over the high-water mark",
                      kind::gauge, [this] { return backpressure_.paused() ? 1.0 : 0.0; });
    metrics_.computed("aiot_broker_gateway_read_pauses_total",
                      "Times the broker stopped reading gateways (backpressure)", kind::counter,
                      [this] { return static_cast<double>(pauses_); });
    lag_probe_ = std::make_unique<common::loop_lag>(ioc, *lag_);
}

std::string server::render_metrics()
{
    return metrics_.render();
}

void server::count_close(std::string_view reason)
{
    metrics_
        .counter("aiot_broker_closed_connections_total",
                 "Websocket connections the broker closed, by reason",
                 {{"reason", std::string(reason)}})
        .inc();
}

void server::count_tls_refusal(std::string_view reason)
{
    metrics_
        .counter("aiot_broker_handshake_refusals_total", refusals_help,
                 {{"status", "tls"}, {"reason", std::string(reason)}})
        .inc();
}

void server::count_refusal(unsigned status)
{
    metrics_
        .counter("aiot_broker_handshake_refusals_total", refusals_help,
                 {{"status", std::to_string(status)}})
        .inc();
}

server::~server()
{
    // See "Ownership" in server.hpp: a session still registered would call
    // into a destroyed server.
    assert(handshakes_.empty() && clients_.empty() && gateways_.empty() &&
           "broker::server destroyed before its sessions ended (run() must return first)");
}

void server::start()
{
    if (const auto problem = tls_options_problem(cfg_.tls_cert, cfg_.tls_key)) {
        throw std::runtime_error(*problem);
    }
    if (!cfg_.tls_cert.empty()) {
        tls_ = make_server_tls_context(cfg_.tls_cert, cfg_.tls_key);
    }
    const auto local = listener_.open(cfg_.bind_address, cfg_.port);
    port_ = local.port();
    if (tls_) {
        log_->info("listening on {} with TLS only, certificate {} (wss:// /ws for web clients, "
                   "/gw for gateways; https:// /metrics)",
                   common::endpoint_text(local), cfg_.tls_cert);
        listener_.start([this](tcp::socket socket) {
            std::make_shared<http_session>(*this, transport(std::move(socket), *tls_))->run();
        });
    } else {
        log_->info("listening on {} (/ws for web clients, /gw for gateways)",
                   common::endpoint_text(local));
        listener_.start([this](tcp::socket socket) {
            std::make_shared<http_session>(*this, transport(std::move(socket)))->run();
        });
    }
    schedule_idle_check();
    schedule_refusal_summary();
    lag_probe_->start();
    if (!cfg_.nats_servers.empty()) {
        start_cluster();
    }
}

void server::start_cluster()
{
    auto id = cfg_.broker_id.empty() ? make_broker_id() : cfg_.broker_id;
    cluster_ = std::make_unique<cluster>(cfg_.cluster, std::move(id), router_,
                                         common::get_logger("broker.cluster"));
    nats_config nc;
    nc.servers = cfg_.nats_servers;
    nc.name = "aiot-broker " + cluster_->id();
    nats_ = std::make_unique<nats_link>(
        ioc_, nc,
        nats_link::handlers{
            [this](std::string_view subject, std::string_view data) {
                cluster_received(subject, data);
            },
            [](bool) {}},
        common::get_logger("broker.cluster"));
    using kind = common::metrics::kind;
    metrics_.computed("aiot_broker_nats_connected", "1 while the broker is connected to NATS",
                      kind::gauge, [this] { return nats_->connected() ? 1.0 : 0.0; });
    metrics_.computed("aiot_broker_nats_peers", "Other brokers heard from on NATS", kind::gauge,
                      [this] { return static_cast<double>(cluster_->peer_count()); });
    metrics_.computed("aiot_broker_nats_published_total", "Messages published on NATS",
                      kind::counter,
                      [this] { return static_cast<double>(nats_->stats().published); });
    metrics_.computed("aiot_broker_nats_publish_failures_total",
                      "Messages NATS refused (closed, or its reconnect buffer full)",
                      kind::counter,
                      [this] { return static_cast<double>(nats_->stats().publish_failed); });
    metrics_.computed("aiot_broker_nats_received_total", "Messages received from NATS",
                      kind::counter,
                      [this] { return static_cast<double>(nats_->stats().received); });
    metrics_.computed("aiot_broker_nats_dropped_total",
                      "Messages from NATS dropped because the event loop was too far behind",
                      kind::counter,
                      [this] { return static_cast<double>(nats_->stats().dropped); });
    log_->info("broker id {} on NATS {} (subjects {}.>; a broker silent for {} ms is gone)",
               cluster_->id(), fmt::join(cfg_.nats_servers, ","), cfg_.cluster.prefix,
               cfg_.cluster.peer_timeout.count());
    nats_->start(cluster_->subscriptions());
    schedule_cluster_tick();
}

void server::schedule_cluster_tick()
{
    cluster_timer_.expires_after(cfg_.cluster.heartbeat / 4);
    cluster_timer_.async_wait([this](const error_code& ec) {
        if (ec || stopping_) {
            return;
        }
        apply(cluster_->tick(std::chrono::steady_clock::now()));
        schedule_cluster_tick();
    });
}

void server::cluster_received(std::string_view subject, std::string_view data)
{
    if (!stopping_) {
        apply(cluster_->received(subject, data, std::chrono::steady_clock::now()));
    }
}

void server::apply(cluster_output out)
{
    deliver(std::move(out.deliveries));
    for (const auto& p : out.publish) {
        publish(p);
    }
}

void server::publish(const publication& p)
{
    if (nats_ && !stopping_) {
        nats_->publish(p);
    }
}

void server::publish_directed(const common::message& msg)
{
    const auto dst = msg.body.find("dst");
    if (dst == msg.body.end() || !dst->is_string()) {
        return;
    }
    const auto& name = dst->get_ref<const std::string&>();
    if (name == "all" || router_.has_client(name)) {
        return;
    }
    if (auto p = cluster_->gateway_to(name, common::to_string(msg.type),
                                      common::serialize(msg.body))) {
        publish(*p);
    }
}

void server::stop()
{
    if (stopping_) {
        return;
    }
    stopping_ = true;
    log_->info("stopping: closing {} client(s) and {} gateway(s)", clients_.size(),
               gateways_.size());
    listener_.close();
    cluster_timer_.cancel();
    if (nats_) {
        // The others send `out` for this broker's nodes now, not after the
        // timeout; nothing is published after this.
        const auto bye = cluster_->goodbye();
        nats_->close(&bye, std::chrono::milliseconds(200));
    }
    idle_timer_.cancel();
    refusal_timer_.cancel();
    stall_timer_.cancel();
    lag_probe_->stop();
    close_timeout_ = std::min(close_timeout_, shutdown_close_timeout);
    for (auto* h : std::vector<http_session*>(handshakes_.begin(), handshakes_.end())) {
        h->cancel();
    }
    for (const auto& [id, s] : clients_) {
        s->close(ws::close_code::going_away, "server shutting down");
    }
    for (const auto& [id, s] : gateways_) {
        s->close(ws::close_code::going_away, "server shutting down");
    }
    for (const auto& [id, s] : std::unordered_map<peer_id, ws_session*>(gateways_)) {
        s->resume_reading(); // to read its close reply
    }
}

void server::pause_gateways()
{
    ++pauses_;
    paused_since_ = std::chrono::steady_clock::now();
    log_->debug("web clients' queues hold {} bytes (high-water mark {}): gateways are not read "
                "until they drain under {} (pause {})",
                backpressure_.total(), cfg_.client_queues.high_water,
                cfg_.client_queues.low_water, pauses_);
    schedule_stall_check();
}

void server::resume_gateways()
{
    if (backpressure_.paused()) {
        return; // paused again before this ran
    }
    stall_timer_.cancel();
    const auto waited = std::chrono::steady_clock::now() - paused_since_;
    log_->debug("web clients' queues under the low-water mark after {} ms: reading gateways again",
                std::chrono::duration_cast<std::chrono::milliseconds>(waited).count());
    // Resuming routes deferred messages, which can pause again or close
    // sessions: walk a copy of the ids.
    std::vector<peer_id> ids;
    ids.reserve(gateways_.size());
    for (const auto& [id, s] : gateways_) {
        ids.push_back(id);
    }
    for (const auto id : ids) {
        if (const auto it = gateways_.find(id); it != gateways_.end()) {
            it->second->resume_reading();
        }
    }
}

void server::schedule_stall_check()
{
    // A quarter of the stall time: stuck clients are closed at most that
    // late, and an idle pause costs four wake-ups a second.
    stall_timer_.expires_after(cfg_.client_queues.stall / 4);
    stall_timer_.async_wait([this](const error_code& ec) {
        if (ec || stopping_ || !backpressure_.paused()) {
            return;
        }
        std::vector<backpressure::client> candidates;
        candidates.reserve(clients_.size());
        for (const auto& [id, s] : clients_) {
            if (!s->closing()) {
                candidates.push_back({id, s->queued_bytes(), s->last_progress()});
            }
        }
        const auto now = std::chrono::steady_clock::now();
        if (const auto id = backpressure_.to_close(candidates, paused_since_, now)) {
            if (const auto it = clients_.find(*id); it != clients_.end()) {
                it->second->drop_as_stuck(fmt::format(
                    "no progress for {} ms while web clients' queues hold {} bytes "
                    "(high-water mark {}) and gateways wait",
                    cfg_.client_queues.stall.count(), backpressure_.total(),
                    cfg_.client_queues.high_water));
            }
            paused_since_ = now; // the others get a full stall time to drain
        }
        if (backpressure_.paused()) {
            schedule_stall_check();
        }
    });
}

void server::schedule_idle_check()
{
    if (cfg_.idle_timeout.count() <= 0) {
        return;
    }
    idle_timer_.expires_after(cfg_.idle_timeout / 2);
    idle_timer_.async_wait([this](const error_code& ec) {
        if (ec || stopping_) {
            return;
        }
        for (const auto& [id, s] : clients_) {
            s->idle_check();
        }
        for (const auto& [id, s] : gateways_) {
            s->idle_check();
        }
        schedule_idle_check();
    });
}

std::chrono::milliseconds server::refused(std::string_view address, std::string_view what,
                                          spdlog::logger& log)
{
    const auto decision = refusals_.refused(address, std::chrono::steady_clock::now());
    log.log(decision.log ? spdlog::level::warn : spdlog::level::debug, "{}", what);
    return decision.delay;
}

void server::schedule_refusal_summary()
{
    refusal_timer_.expires_after(cfg_.refusals.interval);
    refusal_timer_.async_wait([this](const error_code& ec) {
        if (ec || stopping_) {
            return;
        }
        for (const auto& s : refusals_.take_summaries(std::chrono::steady_clock::now())) {
            log_->warn("{}: {} more refusal(s) not logged one by one", s.address, s.count);
        }
        schedule_refusal_summary();
    });
}

void server::http_started(http_session& s) { handshakes_.insert(&s); }

void server::http_ended(http_session& s) { handshakes_.erase(&s); }

std::optional<common::message> server::parse(ws_session& s, std::string_view text)
{
    auto parsed = common::parse_message(text);
    const std::size_t from = s.role() == peer_role::client ? 0 : 1;
    messages_in_[from][parsed ? static_cast<std::size_t>(parsed.msg->type) : 4]->inc();
    if (!parsed) {
        count_close("invalid_message");
        refused(s.peer_address(),
                fmt::format("{}: invalid message ({}): '{}'; closing with 1003", s.describe(),
                            parsed.problem, common::printable(text)),
                *log_);
        s.close(ws::close_code::unsupported_data, parsed.error);
    }
    return std::move(parsed.msg);
}

void server::session_opened(ws_session& s)
{
    if (s.role() == peer_role::client) {
        clients_[s.id()] = &s;
        router_.client_opened(s.id(), s.uuid());
    } else {
        gateways_[s.id()] = &s;
        router_.gateway_opened(s.id());
    }
    log_->info("{} connected from {} ({} clients, {} gateways)", s.describe(), s.peer_name(),
               clients_.size(), gateways_.size());
    if (stopping_) {
        s.close(ws::close_code::going_away, "server shutting down");
    }
}

void server::session_message(ws_session& s, std::string_view text)
{
    auto msg = parse(s, text);
    if (!msg) {
        return;
    }
    if (s.role() == peer_role::client) {
        deliver(router_.client_message(s.id(), std::move(*msg)), true);
        return;
    }
    if (cluster_) {
        publish_directed(*msg);
    }
    deliver(router_.gateway_message(s.id(), std::move(*msg)), true);
}

void server::session_closed(ws_session& s)
{
    if (s.role() == peer_role::client) {
        clients_.erase(s.id());
        if (cluster_ && router_.is_subscribed(s.id())) {
            publish(cluster_->client_left(s.uuid()));
        }
        router_.client_closed(s.id());
        log_->info("client {} disconnected ({} clients)", s.uuid(), clients_.size());
        return;
    }
    gateways_.erase(s.id());
    log_->info("gateway #{} disconnected, {} node(s) out", s.id(), router_.node_count(s.id()));
    deliver(router_.gateway_closed(s.id()), true);
}

void server::deliver(std::vector<delivery> deliveries, bool publish)
{
    publish = publish && cluster_ && !stopping_;
    delivering_ = std::chrono::steady_clock::now();
    for (auto& d : deliveries) {
        // Serialised (the original's bytes) and framed once; every
        // recipient shares the same frame.
        auto text = common::serialize(d.payload);
        const auto frame = text_frame(text);
        if (publish && d.target != delivery::target_kind::client) {
            const auto type = d.payload.value("type", std::string());
            this->publish(d.target == delivery::target_kind::all_clients
                              ? cluster_->gateway_broadcast(type, std::move(text))
                              : cluster_->client_message(type, std::move(text)));
        }
        std::size_t sent = 0;
        switch (d.target) {
        case delivery::target_kind::client:
            if (const auto it = clients_.find(d.client); it != clients_.end()) {
                it->second->send(frame);
                ++sent;
            }
            break;
        case delivery::target_kind::all_clients:
            for (const auto id : router_.subscribers()) {
                if (std::find(d.except.begin(), d.except.end(), id) != d.except.end()) {
                    continue;
                }
                if (const auto it = clients_.find(id); it != clients_.end()) {
                    it->second->send(frame);
                    ++sent;
                }
            }
            break;
        case delivery::target_kind::all_gateways:
            for (const auto id : router_.gateways()) {
                if (const auto it = gateways_.find(id); it != gateways_.end()) {
                    it->second->send(frame);
                    ++sent;
                }
            }
            break;
        }
        (d.target == delivery::target_kind::all_gateways ? deliveries_gateway_
                                                         : deliveries_client_)
            ->inc(static_cast<double>(sent));
        bytes_out_->inc(static_cast<double>(sent * frame->size()));
    }
    delivering_.reset();
}

} // namespace aiot::broker
