#include "gateway_service.hpp"

#include "common/keys.hpp"
#include "common/logging.hpp"
#include "common/net.hpp"
#include "common/metrics.hpp"
#include "gateways/core/broker_uplink.hpp"

#include <spdlog/spdlog.h>

#include <cassert>

namespace aiot::gw {

namespace {

using steady = std::chrono::steady_clock;

core_config make_core_config(const gateway_config& config, std::string protocol)
{
    core_config c;
    c.protocol = std::move(protocol);
    c.max_time = std::chrono::seconds(config.max_time);
    c.keepalive_interval = config.keepalive_interval;
    c.limits = config.limits;
    return c;
}

uplink_config make_uplink_config(const gateway_config& config)
{
    uplink_config u;
    u.brokers = common::brokers(config.common);
    u.tls = config.common.broker_ssl;
    u.ca_file = config.common.broker_ca;
    u.insecure = config.common.broker_insecure;
    u.key_file = config.common.key_file;
    u.keys = common::load_keys(config.common.key_file);
    u.retry = config.retry;
    u.max_queued_messages = config.max_queued_messages;
    u.max_queued_bytes = config.max_queued_bytes;
    return u;
}

} // namespace

struct gateway_service::impl {
    impl(net::io_context& ioc, const gateway_config& config, std::string protocol,
         std::shared_ptr<spdlog::logger> logger)
        : log(logger ? std::move(logger) : common::get_logger("gw")),
          core(make_core_config(config, std::move(protocol)), log),
          tick_interval(config.tick_interval),
          timer(ioc),
          uplink(ioc, make_uplink_config(config),
                 {[this] { core.broker_connected(steady::now()); flush(); },
                  [this] { core.broker_disconnected(); },
                  [this](std::string_view text) { core.broker_message(text); flush(); },
                  [this] {
                      if (on_drained) {
                          on_drained();
                      }
                  }},
                 log)
    {
    }

    // Carries out what the core decided.
    void flush()
    {
        auto out = core.take_output();
        count(out.to_broker.size(), out.writes.size(), out.expired.size());
        for (auto& text : out.to_broker) {
            uplink.send(std::move(text));
        }
        for (const auto& w : out.writes) {
            if (on_write) {
                on_write(w);
            } else {
                log->warn("node '{}': write to '{}' dropped: the adapter takes no writes", w.uid,
                          w.endpoint);
            }
        }
        for (const auto& uid : out.expired) {
            if (on_node_expired) {
                on_node_expired(uid);
            }
        }
    }

    // After adapter events: they only make broker texts (writes come from
    // broker messages, expiries from ticks), so nothing here calls back
    // into the adapter.
    template <class R>
    R sent(R result)
    {
        auto out = core.take_output();
        count(out.to_broker.size(), 0, 0);
        for (auto& text : out.to_broker) {
            uplink.send(std::move(text));
        }
        assert(out.writes.empty() && out.expired.empty());
        return result;
    }

    void schedule_tick()
    {
        next_tick += tick_interval;
        timer.expires_at(next_tick);
        timer.async_wait([this, alive = std::weak_ptr<int>(alive)](
                             const boost::system::error_code& ec) {
            // stopped: a tick already due when stop() cancelled the timer
            // still runs, with no error; it must not arm the timer again
            // (run() would never return).
            if (ec || alive.expired() || stopped) {
                return; // cancelled, stopped, or the service is gone
            }
            const auto now = steady::now();
            if (next_tick + tick_interval < now) {
                next_tick = now; // fell behind: skip, do not burst
            }
            core.tick(now);
            flush();
            if (on_tick) {
                on_tick(now);
            }
            schedule_tick();
        });
    }

    void count(std::size_t to_broker, std::size_t writes, std::size_t expired)
    {
        if (sent_cell != nullptr) {
            sent_cell->inc(static_cast<double>(to_broker));
            writes_cell->inc(static_cast<double>(writes));
            expired_cell->inc(static_cast<double>(expired));
        }
    }

    std::shared_ptr<spdlog::logger> log;
    common::metric_cell* sent_cell = nullptr;    // set_metrics()
    common::metric_cell* writes_cell = nullptr;
    common::metric_cell* expired_cell = nullptr;
    gateway_core core;
    steady::duration tick_interval;
    net::steady_timer timer;
    steady::time_point next_tick{};
    std::function<void(const write_command&)> on_write;
    std::function<void(const std::string&)> on_node_expired;
    std::function<void()> on_drained;
    std::function<void(steady::time_point)> on_tick;
    std::shared_ptr<int> alive = std::make_shared<int>(0); // watched by the tick handler
    bool stopped = false;
    broker_uplink uplink; // last: destroyed first, so no callback reaches a dead core
};

gateway_service::gateway_service(net::io_context& ioc, const gateway_config& config,
                                 std::string protocol, std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<impl>(ioc, config, std::move(protocol), std::move(log)))
{
}

gateway_service::~gateway_service() = default;

void gateway_service::on_write(std::function<void(const write_command&)> handler)
{
    impl_->on_write = std::move(handler);
}

void gateway_service::on_node_expired(std::function<void(const std::string&)> handler)
{
    impl_->on_node_expired = std::move(handler);
}

void gateway_service::set_metrics(common::metrics& registry, const std::string& prefix)
{
    impl_->sent_cell = &registry.counter(prefix + "messages_sent_total",
                                         "Messages queued for the broker (new, update, out...)");
    impl_->writes_cell = &registry.counter(prefix + "writes_total",
                                           "Writes from web clients handed to nodes");
    impl_->expired_cell = &registry.counter(prefix + "nodes_expired_total",
                                            "Nodes removed after --max-time of silence");
}

void gateway_service::on_broker_drained(std::function<void()> handler)
{
    impl_->on_drained = std::move(handler);
}

void gateway_service::on_tick(std::function<void(time_point)> handler)
{
    impl_->on_tick = std::move(handler);
}

void gateway_service::start()
{
    impl_->stopped = false;
    impl_->next_tick = steady::now();
    impl_->schedule_tick();
    impl_->uplink.start();
}

void gateway_service::stop()
{
    impl_->log->info("stopping ({} nodes)", impl_->core.registry().size());
    impl_->stopped = true;
    impl_->timer.cancel();
    impl_->uplink.stop();
    impl_->core.broker_disconnected();
}

std::vector<registry_status> gateway_service::apply(std::vector<node_event> events)
{
    std::vector<registry_status> statuses;
    statuses.reserve(events.size());
    const auto now = steady::now();
    for (const auto& e : events) {
        statuses.push_back(impl_->core.apply(e, now));
    }
    return impl_->sent(std::move(statuses));
}

registry_status gateway_service::add_node(std::string_view uid,
                                          const std::vector<resource>& initial)
{
    return impl_->sent(impl_->core.node_added(uid, steady::now(), initial));
}

registry_status gateway_service::set_resource(std::string_view uid, std::string_view name,
                                              json value)
{
    return impl_->sent(impl_->core.resource_changed(uid, name, std::move(value), steady::now()));
}

bool gateway_service::remove_node(std::string_view uid)
{
    return impl_->sent(impl_->core.node_removed(uid));
}

const node* gateway_service::find(std::string_view uid) const
{
    return impl_->core.registry().find(uid);
}

const node_registry& gateway_service::nodes() const
{
    return impl_->core.registry();
}

bool gateway_service::broker_connected() const
{
    return impl_->core.broker_connected();
}

std::size_t gateway_service::broker_backlog() const
{
    return impl_->uplink.queued();
}

} // namespace aiot::gw
